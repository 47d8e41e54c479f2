//! Variables that patterns may use, and their expansion.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::error::Problem;

/// The values of `${HOME}`, `${CWD}`, `${TMPDIR}` and of every other `${NAME}`.
#[derive(Clone, Debug, Default)]
pub struct Variables {
    /// `${HOME}`, or `None` when it is unset.
    pub home: Option<PathBuf>,
    /// `${CWD}`, or an empty path when the current directory is unknown.
    pub cwd: PathBuf,
    /// `${TMPDIR}`, or `None` to expand it to `/tmp`.
    pub tmpdir: Option<PathBuf>,
    /// Every other `${NAME}`.
    pub env: HashMap<String, OsString>,
}

impl Variables {
    /// Reads `HOME`, the current directory, `TMPDIR` and the whole environment of this process.
    ///
    /// An empty `HOME` or `TMPDIR` counts as unset. Environment variables whose names are
    /// not valid UTF-8 are left out, because no pattern can name them.
    pub fn from_process() -> Variables {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let env = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value)))
            .collect();
        Variables {
            home: non_empty("HOME").map(PathBuf::from),
            // NOTE: when the current directory cannot be determined (it was removed, or a
            // parent is not searchable), `${CWD}` is rejected when a pattern uses it.
            cwd: std::env::current_dir().unwrap_or_default(),
            tmpdir: non_empty("TMPDIR").map(PathBuf::from),
            env,
        }
    }

    /// Returns the value of one variable.
    fn lookup(&self, name: &str) -> Result<&OsStr, Problem> {
        match name {
            "HOME" => self
                .home
                .as_deref()
                .map(|home| home.as_os_str())
                .ok_or_else(|| {
                    Problem::new("variable ${HOME} is not set")
                        .with_hint("set HOME, or write the home directory's path in the pattern")
                }),
            "CWD" if self.cwd.as_os_str().is_empty() => Err(Problem::new(
                "variable ${CWD} is unavailable because the current directory could not be \
                 determined",
            )),
            "CWD" => Ok(self.cwd.as_os_str()),
            "TMPDIR" => Ok(self
                .tmpdir
                .as_deref()
                .map_or(OsStr::new("/tmp"), |dir| dir.as_os_str())),
            _ => self.env.get(name).map(OsString::as_os_str).ok_or_else(|| {
                Problem::new(format!("variable ${{{name}}} is not set")).with_hint(format!(
                    "set {name} in the environment, or write its value in the pattern"
                ))
            }),
        }
    }
}

/// Characters that have a meaning in globs and are escaped in expanded values. The comma is
/// included because it separates the alternatives inside `{a,b}`.
const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}', '\\', ','];

/// Expands `${NAME}` and `$$` in a pattern. Expanded values are escaped so that they match
/// only themselves, and must be absolute paths other than `/`.
pub(crate) fn expand(pattern: &str, vars: &Variables) -> Result<String, Problem> {
    let mut expanded = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(dollar) = rest.find('$') {
        expanded.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(after_dollar) = after.strip_prefix('$') {
            expanded.push('$');
            rest = after_dollar;
        } else if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').ok_or_else(|| {
                Problem::new(format!("unterminated variable in {pattern:?}"))
                    .with_hint("write ${NAME}, or $$ for a literal $")
            })?;
            let name = &braced[..end];
            check_name(name)?;
            push_escaped(&mut expanded, checked_value(name, vars.lookup(name)?)?);
            rest = &braced[end + 1..];
        } else {
            return Err(Problem::new(format!("a lone $ in {pattern:?}"))
                .with_hint("write ${NAME} for a variable, or $$ for a literal $"));
        }
    }
    expanded.push_str(rest);
    Ok(expanded)
}

fn check_name(name: &str) -> Result<(), Problem> {
    let mut chars = name.chars();
    let valid_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if valid_start && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(());
    }
    Err(
        Problem::new(format!("invalid variable name {name:?}")).with_hint(
            "a variable name consists of ASCII letters, digits and '_', not starting with a digit",
        ),
    )
}

/// Checks that a variable's value can be a pattern's literal part, and removes trailing
/// slashes so that `${TMPDIR}/x` gives no empty component.
fn checked_value<'a>(name: &str, value: &'a OsStr) -> Result<&'a str, Problem> {
    let text = value.to_str().ok_or_else(|| {
        Problem::new(format!(
            "variable ${{{name}}} is not valid UTF-8: {value:?}"
        ))
        .with_hint(
            "patterns are UTF-8 text, so write the path with a glob in place of the invalid bytes",
        )
    })?;
    if !text.starts_with('/') {
        return Err(Problem::new(format!(
            "variable ${{{name}}} is {text:?}, which is not an absolute path"
        ))
        .with_hint("a variable in a pattern must expand to an absolute path"));
    }
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(Problem::new(format!("variable ${{{name}}} is \"/\""))
            .with_hint("a variable that expands to / would make the rule cover the whole file system, so write the pattern without it"));
    }
    Ok(trimmed)
}

fn push_escaped(expanded: &mut String, value: &str) {
    for c in value.chars() {
        if GLOB_META.contains(&c) {
            expanded.push('\\');
        }
        expanded.push(c);
    }
}

/// Escapes glob metacharacters in a literal path.
pub(crate) fn escape_glob(literal: &str) -> String {
    let mut escaped = String::with_capacity(literal.len());
    push_escaped(&mut escaped, literal);
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Variables {
        let mut env = HashMap::new();
        env.insert("PROJECT".to_owned(), OsString::from("/src/p[1]*"));
        env.insert("RELATIVE".to_owned(), OsString::from("src/p"));
        env.insert("ROOT".to_owned(), OsString::from("/"));
        env.insert("SLASHED".to_owned(), OsString::from("/data/"));
        Variables {
            home: Some("/home/u".into()),
            cwd: "/work".into(),
            tmpdir: None,
            env,
        }
    }

    #[test]
    fn expand_builtin_variables() {
        assert_eq!(expand("${HOME}/.ssh", &vars()).unwrap(), "/home/u/.ssh");
        assert_eq!(expand("${CWD}/**", &vars()).unwrap(), "/work/**");
        assert_eq!(expand("${TMPDIR}/x", &vars()).unwrap(), "/tmp/x");
    }

    #[test]
    fn expand_escapes_metacharacters() {
        assert_eq!(
            expand("${PROJECT}/**", &vars()).unwrap(),
            "/src/p\\[1\\]\\*/**"
        );
    }

    #[test]
    fn expand_double_dollar() {
        assert_eq!(expand("/a/$$x", &vars()).unwrap(), "/a/$x");
    }

    #[test]
    fn expand_trims_trailing_slash() {
        assert_eq!(expand("${SLASHED}/x", &vars()).unwrap(), "/data/x");
    }

    #[test]
    fn expand_rejects_bad_values() {
        let unset = expand("${NOPE}/x", &vars()).unwrap_err();
        assert_eq!(unset.message, "variable ${NOPE} is not set");

        let relative = expand("${RELATIVE}/x", &vars()).unwrap_err();
        assert_eq!(
            relative.message,
            "variable ${RELATIVE} is \"src/p\", which is not an absolute path"
        );

        let root = expand("${ROOT}/x", &vars()).unwrap_err();
        assert_eq!(root.message, "variable ${ROOT} is \"/\"");

        let lone = expand("/a/$x", &vars()).unwrap_err();
        assert_eq!(lone.message, "a lone $ in \"/a/$x\"");

        let open = expand("/a/${HOME", &vars()).unwrap_err();
        assert_eq!(open.message, "unterminated variable in \"/a/${HOME\"");

        let name = expand("/a/${1X}", &vars()).unwrap_err();
        assert_eq!(name.message, "invalid variable name \"1X\"");
    }

    #[test]
    fn expand_unset_home() {
        let mut vars = vars();
        vars.home = None;
        let error = expand("${HOME}/x", &vars).unwrap_err();
        assert_eq!(error.message, "variable ${HOME} is not set");
    }

    #[test]
    fn expand_unknown_cwd() {
        let mut vars = vars();
        vars.cwd = PathBuf::new();
        assert!(expand("${CWD}/x", &vars).is_err());
    }
}
