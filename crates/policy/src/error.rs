//! Errors of profile loading and rule validation, with the position of the mistake.

use std::fmt;
use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// An error that makes a policy unusable.
///
/// The `Display` output is the whole message: `LOCATION: what is wrong`, followed by a
/// second line `  hint: what to do` when a fix is known. Nothing is repeated through
/// `Error::source`, so printing the error once is enough.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// A profile named by the caller could not be read.
    #[error("{}: failed to read profile: {error}", path.display())]
    ReadProfile { path: PathBuf, error: io::Error },

    /// A built-in profile named by the caller does not exist.
    #[error("unknown built-in profile \"{name}\"; expected one of: {known}")]
    UnknownBuiltin { name: String, known: String },

    /// A profile, an include or a command-line rule is invalid.
    #[error("{location}: {message}{}", HintLine(hint.as_deref()))]
    Invalid {
        location: Location,
        message: String,
        hint: Option<String>,
    },

    /// The patterns of one category, or the hide patterns, could not be compiled together,
    /// for example because they exceed the size limit of the glob matcher.
    #[error("failed to compile the {set_name} patterns: {error}")]
    Compile {
        set_name: String,
        error: globset::Error,
    },
}

/// The position of an invalid piece of policy: a place in a profile, or a command-line option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A profile file, with a 1-based line and a 1-based column that counts characters.
    File {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    /// A built-in profile.
    Builtin {
        profile: String,
        line: usize,
        column: usize,
    },
    /// A command-line option and its value.
    CommandLine { option: String, value: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { file, line, column } => {
                write!(f, "{}:{line}:{column}", file.display())
            }
            Location::Builtin {
                profile,
                line,
                column,
            } => {
                write!(f, "builtin:{profile}:{line}:{column}")
            }
            Location::CommandLine { option, value } => write!(f, "{option} {value:?}"),
        }
    }
}

/// Formats an optional hint as the second line of an error message.
struct HintLine<'a>(Option<&'a str>);

impl fmt::Display for HintLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, "\n  hint: {hint}"),
            None => Ok(()),
        }
    }
}

/// A mistake found before its location is known. The caller attaches the location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn at(self, location: Location) -> PolicyError {
        PolicyError::Invalid {
            location,
            message: self.message,
            hint: self.hint,
        }
    }
}

/// Converts a byte offset in `text` into a 1-based line and a 1-based column in characters.
///
/// An offset inside a multi-byte character or past the end is clamped to a character
/// boundary at or before it.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 1), (1, 2));
        assert_eq!(line_and_column(text, 3), (2, 1));
        // 'é' takes two bytes but one column.
        assert_eq!(line_and_column(text, 7), (2, 4));
        assert_eq!(line_and_column(text, 8), (3, 1));
        assert_eq!(line_and_column(text, 100), (3, 2));
    }

    #[test]
    fn invalid_error_display_with_hint() {
        let error = Problem::new("unknown key \"acess\"")
            .with_hint("check the spelling")
            .at(Location::File {
                file: "/tmp/p.toml".into(),
                line: 4,
                column: 10,
            });
        assert_eq!(
            error.to_string(),
            "/tmp/p.toml:4:10: unknown key \"acess\"\n  hint: check the spelling"
        );
    }

    #[test]
    fn command_line_location_quotes_value() {
        let location = Location::CommandLine {
            option: "--deny-read".into(),
            value: "/x/[".into(),
        };
        assert_eq!(location.to_string(), "--deny-read \"/x/[\"");
    }
}
