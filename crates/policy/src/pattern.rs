//! Turning a written pattern into the globs that match canonical paths.

use std::fs;
use std::io;
use std::path::Path;

use globset::{Glob, GlobBuilder};

use crate::error::Problem;
use crate::names::Action;
use crate::vars::{escape_glob, expand, Variables};

/// Prefixes of the reserved forms that the supervisor gives objects without a path.
pub(crate) const RESERVED_PREFIXES: [&str; 4] = ["pipe:", "socket:", "anon:", "memfd:"];

/// Characters that start a glob construct. Everything before the first one is literal.
const GLOB_START: &[char] = &['*', '?', '[', ']', '{', '}'];

/// The use of a pattern, which decides how strictly it must resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatternUse {
    Rule(Action),
    Hide,
}

impl PatternUse {
    fn must_resolve(self) -> bool {
        match self {
            PatternUse::Rule(action) => action.is_restrictive(),
            PatternUse::Hide => true,
        }
    }

    /// Names a pattern in messages: `deny rule for "/x/**"` or `hide pattern "/x"`.
    fn describe(self, expanded: &str) -> String {
        match self {
            PatternUse::Rule(action) => format!("{action} rule for {expanded:?}"),
            PatternUse::Hide => format!("hide pattern {expanded:?}"),
        }
    }
}

/// Expands, checks and canonicalises one pattern, and returns the globs that implement it.
///
/// One pattern can need several globs: `/dir/**` also matches `/dir` itself, and a literal
/// pattern that names a symbolic link also matches the link's target as resolved now.
pub(crate) fn compile_pattern(
    written: &str,
    vars: &Variables,
    usage: PatternUse,
) -> Result<Vec<Glob>, Problem> {
    let expanded = expand(written, vars)?;
    // Checking the syntax first reports a typo before any file system lookup.
    let glob = build_glob(&expanded).map_err(|error| glob_problem(written, &expanded, &error))?;

    if RESERVED_PREFIXES
        .iter()
        .any(|prefix| expanded.starts_with(prefix))
    {
        return Ok(vec![glob]);
    }
    if !expanded.starts_with('/') {
        return Err(not_absolute(&expanded));
    }
    check_caller_relative(&expanded)?;

    let mut texts = vec![canonicalise(&expanded, usage)?];
    if let Some(target) = literal_link_target(&texts[0]) {
        texts.push(target);
    }
    if let Some(directory) = recursive_directory(&texts[0]) {
        texts.push(directory);
    }
    texts
        .iter()
        .map(|text| build_glob(text).map_err(|error| glob_problem(written, text, &error)))
        .collect()
}

fn build_glob(text: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn glob_problem(written: &str, glob: &str, error: &globset::Error) -> Problem {
    let message = if glob == written {
        format!("invalid glob: {}", error.kind())
    } else {
        format!("invalid glob {glob:?}: {}", error.kind())
    };
    Problem::new(message).with_hint(
        "* and ? match within one path component, ** across components, [...] is a \
         character class and {a,b} lists alternatives. Escape a literal metacharacter with \\",
    )
}

fn not_absolute(expanded: &str) -> Problem {
    Problem::new(format!("pattern {expanded:?} is not an absolute path")).with_hint(
        "patterns match canonical absolute paths: start the pattern with /, ${HOME}, ${CWD} \
         or ${TMPDIR}, or with pipe:, socket:, anon: or memfd: for objects without a path",
    )
}

/// Rejects patterns under names that the supervisor resolves for each caller, because the
/// canonical paths it checks never contain them and canonicalising them here would resolve
/// them for cordon's own process.
fn check_caller_relative(expanded: &str) -> Result<(), Problem> {
    let mut components = expanded.split('/').skip(1);
    let first = components.next().unwrap_or("");
    let second = components.next().unwrap_or("");
    let hint = match (first, second) {
        ("proc", "self" | "thread-self") => {
            "paths are checked after /proc/self is resolved to the calling process, so write \
             /proc/*/... to match the sandboxed processes' own entries"
        }
        ("dev", "fd" | "stdin" | "stdout" | "stderr") => {
            "paths are checked after /dev/fd/N and /dev/std* are resolved to the caller's open \
             file, so write rules for the files themselves"
        }
        _ => return Ok(()),
    };
    Err(Problem::new(format!(
        "pattern {expanded:?} goes through /{first}/{second}, which canonical paths never contain"
    ))
    .with_hint(hint))
}

/// The expanded pattern split at the last `/` before its first glob construct.
struct Split<'a> {
    /// The literal directory part, still escaped, or an empty string for the root directory.
    directory: &'a str,
    /// Everything after that `/`.
    rest: &'a str,
    /// Whether the pattern has no glob construct at all.
    literal: bool,
}

/// Returns the directory (or, for a pattern without glob constructs, the file) below which
/// every path a glob matches lies, unescaped. Reserved forms have none.
pub(crate) fn literal_root(glob: &str) -> Option<String> {
    if !glob.starts_with('/') {
        return None;
    }
    let split = split_literal_prefix(glob);
    let root = if split.literal { glob } else { split.directory };
    let root = unescape(root);
    Some(if root.is_empty() { "/".to_owned() } else { root })
}

/// Whether a glob names one literal path or a literal directory with everything below it
/// (`/dir/**`): then it matches the same paths below a directory wherever that directory is
/// moved inside its root, and matches nothing below a directory outside the root.
pub(crate) fn is_whole_tree(glob: &str) -> bool {
    let split = split_literal_prefix(glob);
    split.literal || split.rest == "**"
}

/// Whether `glob` may match some path strictly below directory `dir`, compared component by
/// component. Unsure cases return `true`: a `**` component, alternations (which may contain a
/// `/`), a component that fails to compile, a directory that is not UTF-8.
pub(crate) fn may_match_below(glob: &str, dir: &[u8]) -> bool {
    let Ok(dir) = std::str::from_utf8(dir) else { return true };
    if glob.contains('{') {
        return true;
    }
    let pattern: Vec<&str> = glob.split('/').filter(|c| !c.is_empty()).collect();
    let directory: Vec<&str> = dir.split('/').filter(|c| !c.is_empty()).collect();
    for (index, name) in directory.iter().enumerate() {
        let Some(part) = pattern.get(index) else { return false };
        if part.contains("**") {
            return true;
        }
        let matches = GlobBuilder::new(part).literal_separator(true).build().map(|g| g.compile_matcher().is_match(name));
        match matches {
            Ok(true) => {}
            Ok(false) => return false,
            Err(_) => return true,
        }
    }
    pattern.len() > directory.len()
}

fn split_literal_prefix(expanded: &str) -> Split<'_> {
    let mut last_slash = 0;
    let mut escaped = false;
    let mut literal = true;
    for (index, c) in expanded.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if GLOB_START.contains(&c) {
            literal = false;
            break;
        } else if c == '/' {
            last_slash = index;
        }
    }
    Split {
        directory: &expanded[..last_slash],
        rest: &expanded[last_slash + 1..],
        literal,
    }
}

/// Resolves the literal directory prefix of an absolute pattern with `fs::canonicalize`, so
/// that rules written through symbolic links match the canonical paths the supervisor checks.
fn canonicalise(expanded: &str, usage: PatternUse) -> Result<String, Problem> {
    let split = split_literal_prefix(expanded);
    if expanded.len() > 1 && expanded.ends_with('/') {
        return Err(
            Problem::new(format!("pattern {expanded:?} ends with \"/\"")).with_hint(
                "canonical paths have no trailing slash: write /dir to match the directory, \
                 or /dir/** to match it and everything below",
            ),
        );
    }
    check_canonical_components(expanded, split.rest)?;

    let directory = if split.directory.is_empty() {
        "/".to_owned()
    } else {
        unescape(split.directory)
    };
    match fs::canonicalize(&directory) {
        Ok(resolved) => Ok(join(&escape_path(&resolved, expanded)?, split.rest)),
        Err(error) if usage.must_resolve() => {
            Err(unresolvable(expanded, &directory, &error, usage))
        }
        Err(_) => {
            // An allow or audit rule for a directory that does not exist yet is kept as
            // written. It applies once the directory exists, unless a symbolic link leads there.
            check_canonical_components(expanded, expanded)?;
            Ok(expanded.to_owned())
        }
    }
}

/// Rejects empty, `.` and `..` components in the part of a pattern that is not resolved,
/// because such a pattern could never match a canonical path.
fn check_canonical_components(expanded: &str, part: &str) -> Result<(), Problem> {
    let part = part.strip_prefix('/').unwrap_or(part);
    if part.is_empty()
        || part
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
    {
        return Ok(());
    }
    Err(Problem::new(format!(
        "pattern {expanded:?} contains an empty, \".\" or \"..\" component, which canonical \
         paths never contain"
    ))
    .with_hint("write the path in canonical form, without \"//\", \"/./\" or \"/../\""))
}

fn unresolvable(expanded: &str, directory: &str, error: &io::Error, usage: PatternUse) -> Problem {
    let reason = if error.kind() == io::ErrorKind::NotFound {
        format!("{directory} does not exist")
    } else {
        format!("{directory} cannot be resolved: {error}")
    };
    Problem::new(format!(
        "{} matches nothing: {reason}",
        usage.describe(expanded)
    ))
    .with_hint(
        "cordon resolves the directory part of deny, kill and hide patterns when it loads \
         the policy, so the directory must exist: create it or remove the pattern",
    )
}

/// For a literal pattern that names an existing symbolic link, returns the escaped canonical
/// path of its target, so that the rule also applies to accesses that follow the link.
///
/// Paths under /proc are left alone: their links (`exe`, `cwd`, `fd/N`) would be resolved
/// for cordon's own process.
fn literal_link_target(canonical: &str) -> Option<String> {
    let split = split_literal_prefix(canonical);
    if !split.literal || canonical == "/proc" || canonical.starts_with("/proc/") {
        return None;
    }
    let target = fs::canonicalize(unescape(canonical)).ok()?;
    let target = escape_glob(target.to_str()?);
    (target != canonical).then_some(target)
}

/// For `/dir/**`, returns `/dir`, because a recursive pattern also covers the directory.
fn recursive_directory(glob: &str) -> Option<String> {
    let directory = glob.strip_suffix("/**")?;
    let backslashes = directory.chars().rev().take_while(|&c| c == '\\').count();
    // An odd number of backslashes escapes the '/' that precedes "**".
    if directory.is_empty() || backslashes % 2 == 1 {
        return None;
    }
    Some(directory.to_owned())
}

fn unescape(escaped: &str) -> String {
    let mut literal = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            literal.extend(chars.next());
        } else {
            literal.push(c);
        }
    }
    literal
}

fn escape_path(path: &Path, expanded: &str) -> Result<String, Problem> {
    let text = path.to_str().ok_or_else(|| {
        Problem::new(format!(
            "the canonical form {} of pattern {expanded:?} is not valid UTF-8",
            path.display()
        ))
        .with_hint(
            "patterns are UTF-8 text, so match the directory with a glob in place of the \
             invalid bytes",
        )
    })?;
    Ok(escape_glob(text))
}

fn join(directory: &str, rest: &str) -> String {
    if rest.is_empty() {
        return directory.to_owned();
    }
    let mut joined = directory.to_owned();
    if !joined.ends_with('/') {
        joined.push('/');
    }
    joined.push_str(rest);
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(pattern: &str, usage: PatternUse) -> Result<Vec<String>, Problem> {
        let vars = Variables {
            cwd: "/".into(),
            ..Variables::default()
        };
        let globs = compile_pattern(pattern, &vars, usage)?;
        Ok(globs.iter().map(|glob| glob.glob().to_owned()).collect())
    }

    const DENY: PatternUse = PatternUse::Rule(Action::Deny);
    const ALLOW: PatternUse = PatternUse::Rule(Action::Allow);

    #[test]
    fn split_stops_at_first_glob() {
        let split = split_literal_prefix("/usr/lib/*.so");
        assert_eq!(
            (split.directory, split.rest, split.literal),
            ("/usr/lib", "*.so", false)
        );

        let split = split_literal_prefix("/etc/shadow");
        assert_eq!(
            (split.directory, split.rest, split.literal),
            ("/etc", "shadow", true)
        );

        let split = split_literal_prefix("/a\\*b/c*");
        assert_eq!((split.directory, split.rest), ("/a\\*b", "c*"));

        let split = split_literal_prefix("/**");
        assert_eq!((split.directory, split.rest), ("", "**"));
    }

    #[test]
    fn recursive_pattern_adds_directory() {
        assert_eq!(globs("/usr/**", DENY).unwrap(), ["/usr/**", "/usr"]);
        assert_eq!(globs("/**", DENY).unwrap(), ["/**"]);
        assert_eq!(recursive_directory("/a\\/**"), None);
        assert_eq!(recursive_directory("/a\\\\/**").as_deref(), Some("/a\\\\"));
    }

    #[test]
    fn root_pattern_is_kept() {
        assert_eq!(globs("/", DENY).unwrap(), ["/"]);
    }

    #[test]
    fn reserved_prefixes_skip_checks() {
        assert_eq!(globs("pipe:*", DENY).unwrap(), ["pipe:*"]);
        assert_eq!(globs("memfd:x", DENY).unwrap(), ["memfd:x"]);
    }

    #[test]
    fn relative_pattern_rejected() {
        let error = globs("etc/*", ALLOW).unwrap_err();
        assert_eq!(error.message, "pattern \"etc/*\" is not an absolute path");
    }

    #[test]
    fn trailing_slash_rejected() {
        let error = globs("/tmp/", ALLOW).unwrap_err();
        assert_eq!(error.message, "pattern \"/tmp/\" ends with \"/\"");
    }

    #[test]
    fn dot_components_rejected() {
        assert!(globs("/tmp/*/../x", ALLOW).is_err());
        assert!(globs("/nonexistent-cordon/./x", ALLOW).is_err());
        // The literal prefix is canonicalised, which removes "..".
        assert_eq!(
            globs("/tmp/../tmp/*", ALLOW).unwrap()[0],
            format!("{}/*", canonical("/tmp"))
        );
    }

    #[test]
    fn caller_relative_names_rejected() {
        for pattern in [
            "/proc/self/**",
            "/proc/thread-self/status",
            "/dev/fd/*",
            "/dev/stdout",
        ] {
            assert!(globs(pattern, ALLOW).is_err(), "{pattern} was accepted");
        }
        assert!(globs("/proc/*/status", ALLOW).is_ok());
    }

    #[test]
    fn unescape_removes_backslashes() {
        assert_eq!(unescape("/a\\*b\\\\c"), "/a*b\\c");
    }

    fn canonical(path: &str) -> String {
        fs::canonicalize(path).unwrap().to_str().unwrap().to_owned()
    }
}
