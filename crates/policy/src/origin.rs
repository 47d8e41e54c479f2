//! Rule origins, shown in denial messages and in the audit log.

use std::fmt;
use std::path::PathBuf;

use crate::names::Category;

/// The source of the rule that decided an access.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RuleOrigin {
    /// A pattern in a profile file, with the 1-based line and column where it starts.
    Profile {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    /// A command-line option such as `--deny-read /etc/shadow`.
    CommandLine { option: String, pattern: String },
    /// No rule matched, so the category's default action applied.
    Default { category: Category },
    /// A pattern in a built-in profile, with the 1-based line where it starts.
    Builtin { profile: String, line: usize },
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOrigin::Profile { file, line, column } => {
                write!(f, "{}:{line}:{column}", file.display())
            }
            RuleOrigin::CommandLine { option, pattern } => write!(f, "{option} {pattern}"),
            RuleOrigin::Default { category } => write!(f, "default {category}"),
            RuleOrigin::Builtin { profile, line } => write!(f, "builtin:{profile}:{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_display_forms() {
        let profile = RuleOrigin::Profile {
            file: "/etc/p.toml".into(),
            line: 12,
            column: 5,
        };
        assert_eq!(profile.to_string(), "/etc/p.toml:12:5");

        let command_line = RuleOrigin::CommandLine {
            option: "--deny-read".into(),
            pattern: "/etc/shadow".into(),
        };
        assert_eq!(command_line.to_string(), "--deny-read /etc/shadow");

        let default = RuleOrigin::Default {
            category: Category::Read,
        };
        assert_eq!(default.to_string(), "default read");

        let builtin = RuleOrigin::Builtin {
            profile: "default".into(),
            line: 7,
        };
        assert_eq!(builtin.to_string(), "builtin:default:7");
    }
}
