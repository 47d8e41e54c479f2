//! The TOML profile format: parsing, with the byte span of every value for error positions.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{line_and_column, Location, PolicyError, Problem};
use crate::origin::RuleOrigin;

/// The built-in profiles, by name.
const BUILTIN_PROFILES: [(&str, &str); 1] = [("default", include_str!("../profiles/default.toml"))];

/// Returns the text of a built-in profile.
pub(crate) fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN_PROFILES
        .iter()
        .find(|(builtin, _)| *builtin == name)
        .map(|(_, text)| *text)
}

/// Returns the names of the built-in profiles, separated by ", ".
pub(crate) fn builtin_names() -> String {
    BUILTIN_PROFILES.map(|(name, _)| name).join(", ")
}

/// The source of a profile's text: a file or a built-in profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProfileSource {
    File(PathBuf),
    Builtin(String),
}

impl ProfileSource {
    /// Returns the location of a byte offset in this profile's text.
    pub(crate) fn location(&self, text: &str, offset: usize) -> Location {
        let (line, column) = line_and_column(text, offset);
        match self {
            ProfileSource::File(file) => Location::File {
                file: file.clone(),
                line,
                column,
            },
            ProfileSource::Builtin(profile) => Location::Builtin {
                profile: profile.clone(),
                line,
                column,
            },
        }
    }

    /// Returns the origin of a rule whose pattern starts at a byte offset in this profile's text.
    pub(crate) fn origin(&self, text: &str, offset: usize) -> RuleOrigin {
        let (line, column) = line_and_column(text, offset);
        match self {
            ProfileSource::File(file) => RuleOrigin::Profile {
                file: file.clone(),
                line,
                column,
            },
            ProfileSource::Builtin(profile) => RuleOrigin::Builtin {
                profile: profile.clone(),
                line,
            },
        }
    }
}

impl fmt::Display for ProfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileSource::File(file) => write!(f, "{}", file.display()),
            ProfileSource::Builtin(name) => write!(f, "builtin:{name}"),
        }
    }
}

/// A string from the profile and the byte range it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text {
    pub(crate) value: String,
    pub(crate) span: Range<usize>,
}

/// A value that may be written as one string or as a list of strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TextList {
    pub(crate) items: Vec<Text>,
    /// The span of the whole value, for errors about the list as a whole.
    pub(crate) span: Range<usize>,
}

/// The keys of the top level of a profile, in the order serde lists them.
const TOP_LEVEL_KEYS: &[&str] = &["include", "hide", "defaults", "rule"];
/// The keys of a `[[rule]]` table.
const RULE_KEYS: &[&str] = &["action", "access", "paths"];

/// A whole profile file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileFile {
    #[serde(default)]
    pub(crate) include: TextList,
    #[serde(default)]
    pub(crate) hide: TextList,
    /// Category name to action name.
    #[serde(default)]
    pub(crate) defaults: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<Spanned<RuleTable>>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleTable {
    pub(crate) action: Spanned<String>,
    pub(crate) access: TextList,
    pub(crate) paths: TextList,
}

/// Parses a profile's text. Errors carry the position of the offending key or value.
pub(crate) fn parse(source: &ProfileSource, text: &str) -> Result<ProfileFile, PolicyError> {
    // Parsing into a plain table first separates TOML syntax errors from schema errors.
    if let Err(error) = text.parse::<toml::Table>() {
        let message = format!("invalid TOML: {}", one_line(error.message()));
        return Err(Problem::new(message).at(error_location(source, text, &error)));
    }
    toml::from_str(text)
        .map_err(|error| schema_problem(error.message()).at(error_location(source, text, &error)))
}

fn error_location(source: &ProfileSource, text: &str, error: &toml::de::Error) -> Location {
    source.location(text, error.span().map_or(0, |span| span.start))
}

/// Joins the lines of a multi-line parser message.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewords serde's messages for unknown and missing keys in the words of the profile format.
fn schema_problem(message: &str) -> Problem {
    if let Some(problem) = unknown_key_problem(message) {
        return problem;
    }
    if let Some(key) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return Problem::new(format!("missing key \"{key}\" in [[rule]]"))
            .with_hint("every [[rule]] needs action, access and paths");
    }
    Problem::new(one_line(message))
}

/// Parses serde's "unknown field `acess`, expected one of `action`, `access`, `paths`".
fn unknown_key_problem(message: &str) -> Option<Problem> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, _) = rest.split_once('`')?;
    let (section, keys) = if message.contains("`action`") {
        ("[[rule]]", RULE_KEYS)
    } else {
        ("the top level", TOP_LEVEL_KEYS)
    };
    let problem = Problem::new(format!(
        "unknown key \"{key}\" in {section}; expected one of: {}",
        keys.join(", ")
    ));
    Some(match closest_name(key, keys.iter().copied()) {
        Some(name) => problem.with_hint(format!("did you mean \"{name}\"?")),
        None => problem.with_hint("remove the key, or check the profile format in docs/policy.md"),
    })
}

/// Returns the candidate closest to a misspelt name, if it is at most two edits away.
pub(crate) fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Computes the Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<OneOrMany>::deserialize(deserializer)?;
        let span = spanned.span();
        let items = match spanned.into_inner() {
            OneOrMany::One(value) => vec![Text {
                value,
                span: span.clone(),
            }],
            OneOrMany::Many(items) => items
                .into_iter()
                .map(|item| Text {
                    span: item.span(),
                    value: item.into_inner(),
                })
                .collect(),
        };
        Ok(TextList { items, span })
    }
}

enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

struct OneOrManyVisitor;

impl<'de> Visitor<'de> for OneOrManyVisitor {
    type Value = OneOrMany;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany, E> {
        Ok(OneOrMany::One(value.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<String>>()? {
            items.push(item);
        }
        Ok(OneOrMany::Many(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> ProfileSource {
        ProfileSource::File("/tmp/p.toml".into())
    }

    #[test]
    fn parse_string_or_list() {
        let text = "hide = \"/a\"\n[[rule]]\naction = \"allow\"\naccess = [\"read\", \"write\"]\npaths = \"/b\"\n";
        let profile = parse(&source(), text).unwrap();
        assert_eq!(profile.hide.items.len(), 1);
        assert_eq!(&text[profile.hide.items[0].span.clone()], "\"/a\"");
        let rule = profile.rules[0].get_ref();
        let access: Vec<_> = rule
            .access
            .items
            .iter()
            .map(|item| item.value.as_str())
            .collect();
        assert_eq!(access, ["read", "write"]);
        assert_eq!(rule.paths.items[0].value, "/b");
    }

    #[test]
    fn parse_rejects_number_for_list() {
        let error = parse(&source(), "hide = 3\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/tmp/p.toml:1:8: invalid type: integer `3`, expected a string or a list of strings"
        );
    }

    #[test]
    fn unknown_top_level_key() {
        let error = parse(&source(), "\nincldue = []\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/tmp/p.toml:2:1: unknown key \"incldue\" in the top level; expected one of: \
             include, hide, defaults, rule\n  hint: did you mean \"include\"?"
        );
    }

    #[test]
    fn missing_rule_key() {
        let error = parse(&source(), "[[rule]]\naction = \"deny\"\npaths = []\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/tmp/p.toml:1:1: missing key \"access\" in [[rule]]\n  \
             hint: every [[rule]] needs action, access and paths"
        );
    }

    #[test]
    fn closest_name_within_two_edits() {
        assert_eq!(
            closest_name("acess", RULE_KEYS.iter().copied()),
            Some("access")
        );
        assert_eq!(closest_name("wrte", ["read", "write"]), Some("write"));
        assert_eq!(closest_name("zzzzzz", ["read", "write"]), None);
    }

    #[test]
    fn builtin_default_exists() {
        assert!(builtin_text("default").is_some());
        assert!(builtin_text("nope").is_none());
    }
}
