//! Tests of whole policies: profiles, includes, command-line rules and decisions.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Action, Category, Policy, PolicyBuilder, PolicyError, RuleOrigin, Variables};

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "cordon-policy-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        fs::create_dir_all(&path).unwrap();
        TempDir(fs::canonicalize(&path).unwrap())
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file below the directory and returns its path.
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, contents).unwrap();
        path
    }

    fn text(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn vars() -> Variables {
    let mut env = HashMap::new();
    env.insert("RELATIVE".to_owned(), OsString::from("relative/dir"));
    env.insert("ROOT".to_owned(), OsString::from("/"));
    Variables {
        home: Some("/root".into()),
        cwd: "/tmp".into(),
        tmpdir: None,
        env,
    }
}

fn vars_with(name: &str, value: impl Into<OsString>) -> Variables {
    let mut vars = vars();
    vars.env.insert(name.to_owned(), value.into());
    vars
}

fn policy_from(dir: &TempDir, profile: &str) -> Policy {
    let path = dir.write("p.toml", profile);
    let mut builder = PolicyBuilder::new(vars());
    builder.load_profile(&path).unwrap();
    builder.build().unwrap()
}

/// Loads a profile that must fail and returns the error message.
fn load_error(dir: &TempDir, profile: &str) -> String {
    load_error_with(dir, profile, vars())
}

fn load_error_with(dir: &TempDir, profile: &str, vars: Variables) -> String {
    let path = dir.write("p.toml", profile);
    let mut builder = PolicyBuilder::new(vars);
    match builder.load_profile(&path) {
        Ok(()) => panic!("profile was accepted:\n{profile}"),
        Err(error) => error.to_string(),
    }
}

fn action(policy: &Policy, category: Category, path: &str) -> Action {
    policy.decide(category, path.as_bytes()).action
}

#[test]
fn policy_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
}

#[test]
fn builtin_defaults_without_rules() {
    let policy = PolicyBuilder::new(vars()).build().unwrap();
    let allowed = [Category::Read, Category::Stat, Category::Exec, Category::Chdir];
    for category in Category::ALL {
        let expected = if allowed.contains(&category) { Action::Allow } else { Action::Deny };
        assert_eq!(policy.default_action(category), expected, "{category}");
        assert!(!policy.has_rules(category));
    }
    let decision = policy.decide(Category::Write, b"/tmp/x");
    assert_eq!(decision.action, Action::Deny);
    assert_eq!(
        decision.origin,
        &RuleOrigin::Default {
            category: Category::Write
        }
    );
    assert!(!policy.has_hide_rules());
    assert_eq!(policy.hidden(b"/tmp/x"), None);
}

#[test]
fn last_matching_rule_wins() {
    let dir = TempDir::new();
    fs::create_dir(dir.path().join("secret")).unwrap();
    let base = dir.text();
    let policy = policy_from(
        &dir,
        &format!(
            r#"
[[rule]]
action = "allow"
access = "write"
paths = ["{base}/**"]

[[rule]]
action = "deny"
access = "write"
paths = ["{base}/secret/**"]

[[rule]]
action = "audit"
access = "write"
paths = ["{base}/secret/log"]
"#
        ),
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/a")),
        Action::Allow
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/secret/key")),
        Action::Deny
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/secret/log")),
        Action::Audit
    );
    assert_eq!(
        action(&policy, Category::Write, "/etc/passwd"),
        Action::Deny
    );
    assert!(policy.has_rules(Category::Write));
    assert!(!policy.has_rules(Category::Create));

    let decision = policy.decide(Category::Write, format!("{base}/secret/key").as_bytes());
    let expected = RuleOrigin::Profile {
        file: dir.path().join("p.toml"),
        line: 10,
        column: 10,
    };
    assert_eq!(decision.origin, &expected);
}

#[test]
fn one_rule_for_several_categories() {
    let dir = TempDir::new();
    let policy = policy_from(
        &dir,
        &format!(
            "[[rule]]\naction = \"allow\"\naccess = [\"write\", \"create\"]\npaths = [\"{}/*\"]\n",
            dir.text()
        ),
    );
    let path = format!("{}/new", dir.text());
    assert_eq!(action(&policy, Category::Write, &path), Action::Allow);
    assert_eq!(action(&policy, Category::Create, &path), Action::Allow);
    assert_eq!(action(&policy, Category::Delete, &path), Action::Deny);
}

#[test]
fn command_line_rules_come_after_profile() {
    let dir = TempDir::new();
    let path = dir.write(
        "p.toml",
        &format!(
            "[[rule]]\naction = \"allow\"\naccess = \"write\"\npaths = \"{}/**\"\n",
            dir.text()
        ),
    );
    let mut builder = PolicyBuilder::new(vars());
    let file = format!("{}/file", dir.text());
    builder
        .add_rule(Action::Deny, Category::Write, &file, "--deny-write")
        .unwrap();
    builder.load_profile(&path).unwrap();
    let policy = builder.build().unwrap();
    // Rules count in the order they were added, so the profile's allow added later wins.
    assert_eq!(action(&policy, Category::Write, &file), Action::Allow);

    let mut builder = PolicyBuilder::new(vars());
    builder.load_profile(&path).unwrap();
    builder
        .add_rule(Action::Deny, Category::Write, &file, "--deny-write")
        .unwrap();
    let policy = builder.build().unwrap();
    let decision = policy.decide(Category::Write, file.as_bytes());
    assert_eq!(decision.action, Action::Deny);
    assert_eq!(decision.origin.to_string(), format!("--deny-write {file}"));
}

#[test]
fn profile_and_command_line_defaults() {
    let dir = TempDir::new();
    let path = dir.write("p.toml", "[defaults]\nread = \"deny\"\nexec = \"audit\"\n");
    let mut builder = PolicyBuilder::new(vars());
    builder.load_profile(&path).unwrap();
    builder.set_default(Category::Exec, Action::Kill);
    let policy = builder.build().unwrap();
    assert_eq!(policy.default_action(Category::Read), Action::Deny);
    assert_eq!(policy.default_action(Category::Exec), Action::Kill);
    assert_eq!(policy.default_action(Category::Write), Action::Deny);
    assert_eq!(action(&policy, Category::Read, "/etc/passwd"), Action::Deny);
}

#[test]
fn recursive_pattern_matches_directory_itself() {
    let dir = TempDir::new();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let policy = policy_from(
        &dir,
        &format!(
            "[[rule]]\naction = \"allow\"\naccess = \"write\"\npaths = \"{}/sub/**\"\n",
            dir.text()
        ),
    );
    let base = dir.text();
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/sub")),
        Action::Allow
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/sub/a/b")),
        Action::Allow
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/subx")),
        Action::Deny
    );
    assert_eq!(action(&policy, Category::Write, base), Action::Deny);
}

#[test]
fn star_stays_within_component() {
    let dir = TempDir::new();
    let policy = policy_from(
        &dir,
        &format!(
            "[[rule]]\naction = \"allow\"\naccess = \"write\"\npaths = \"{}/*.log\"\n",
            dir.text()
        ),
    );
    let base = dir.text();
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/a.log")),
        Action::Allow
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/sub/a.log")),
        Action::Deny
    );
}

#[test]
fn non_utf8_paths_match() {
    let dir = TempDir::new();
    let policy = policy_from(
        &dir,
        &format!(
            "[[rule]]\naction = \"allow\"\naccess = \"write\"\npaths = [\"{0}/*\", \"{0}/d/**\"]\n",
            dir.text()
        ),
    );
    let mut path = dir.text().as_bytes().to_vec();
    path.extend_from_slice(b"/\xff\xfe");
    assert_eq!(policy.decide(Category::Write, &path).action, Action::Allow);

    let mut nested = dir.text().as_bytes().to_vec();
    nested.extend_from_slice(b"/d/\x80/\xc3");
    assert_eq!(
        policy.decide(Category::Write, &nested).action,
        Action::Allow
    );

    let mut outside = dir.text().as_bytes().to_vec();
    outside.extend_from_slice(b"/\xff/x");
    assert_eq!(
        policy.decide(Category::Write, &outside).action,
        Action::Deny
    );
}

#[test]
fn hide_patterns_beat_allow_rules() {
    let dir = TempDir::new();
    let policy = policy_from(
        &dir,
        &format!(
            "hide = [\"{0}/secret\"]\n[[rule]]\naction = \"allow\"\naccess = \"read\"\npaths = \"{0}/**\"\n",
            dir.text()
        ),
    );
    let secret = format!("{}/secret", dir.text());
    assert!(policy.has_hide_rules());
    let origin = policy.hidden(secret.as_bytes()).unwrap();
    assert_eq!(
        origin,
        &RuleOrigin::Profile {
            file: dir.path().join("p.toml"),
            line: 1,
            column: 9
        }
    );
    assert_eq!(
        policy.hidden(format!("{}/other", dir.text()).as_bytes()),
        None
    );
    // decide() does not consult hide patterns, because the caller checks hidden() first.
    assert_eq!(action(&policy, Category::Read, &secret), Action::Allow);
}

#[test]
fn command_line_hide() {
    let dir = TempDir::new();
    let mut builder = PolicyBuilder::new(vars());
    let pattern = format!("{}/*.key", dir.text());
    builder.add_hide(&pattern, "--hide").unwrap();
    let policy = builder.build().unwrap();
    let origin = policy
        .hidden(format!("{}/a.key", dir.text()).as_bytes())
        .unwrap();
    assert_eq!(origin.to_string(), format!("--hide {pattern}"));
}

#[test]
fn includes_apply_before_own_rules() {
    let dir = TempDir::new();
    let base = dir.text();
    fs::create_dir(dir.path().join("sub")).unwrap();
    dir.write(
        "sub/common.toml",
        &format!("[[rule]]\naction = \"deny\"\naccess = \"write\"\npaths = \"{base}/**\"\n"),
    );
    let path = dir.write(
        "p.toml",
        &format!(
            "include = [\"sub/common.toml\"]\n[[rule]]\naction = \"allow\"\naccess = \"write\"\npaths = \"{base}/out/*\"\n"
        ),
    );
    let mut builder = PolicyBuilder::new(vars());
    builder.load_profile(&path).unwrap();
    let policy = builder.build().unwrap();
    assert_eq!(
        action(&policy, Category::Write, &format!("{base}/out/x")),
        Action::Allow
    );
    let decision = policy.decide(Category::Write, format!("{base}/in").as_bytes());
    assert_eq!(decision.action, Action::Deny);
    let expected = RuleOrigin::Profile {
        file: dir.path().join("sub/common.toml"),
        line: 4,
        column: 9,
    };
    assert_eq!(decision.origin, &expected);
}

#[test]
fn include_builtin_from_file() {
    let dir = TempDir::new();
    let policy = policy_from(&dir, "include = [\"builtin:default\"]\n");
    let decision = policy.decide(Category::Write, b"/dev/null");
    assert_eq!(decision.action, Action::Allow);
    assert!(matches!(decision.origin, RuleOrigin::Builtin { profile, .. } if profile == "default"));
}

#[test]
fn include_cycle_names_chain() {
    let dir = TempDir::new();
    dir.write("a.toml", "include = [\"b.toml\"]\n");
    dir.write("b.toml", "\ninclude = [\"a.toml\"]\n");
    let mut builder = PolicyBuilder::new(vars());
    let error = builder
        .load_profile(&dir.path().join("a.toml"))
        .unwrap_err()
        .to_string();
    let base = dir.text();
    assert_eq!(
        error,
        format!(
            "{base}/b.toml:2:12: include cycle: {base}/a.toml -> {base}/b.toml -> {base}/a.toml\n  \
             hint: remove one of these includes"
        )
    );
}

#[test]
fn include_self_is_cycle() {
    let dir = TempDir::new();
    let error = load_error(&dir, "include = [\"p.toml\"]\n");
    assert!(error.contains("p.toml:1:12: include cycle: "), "{error}");
}

#[test]
fn include_missing_file() {
    let dir = TempDir::new();
    let error = load_error(&dir, "include = [\"builtin:default\", \"nope.toml\"]\n");
    let expected = format!(
        "{0}/p.toml:1:31: failed to read included profile {0}/nope.toml: No such file",
        dir.text()
    );
    assert!(error.starts_with(&expected), "{error}");
}

#[test]
fn include_unknown_builtin() {
    let dir = TempDir::new();
    let error = load_error(&dir, "include = [\"builtin:nope\"]\n");
    let expected = format!(
        "{}/p.toml:1:12: unknown built-in profile \"nope\"; expected one of: default",
        dir.text()
    );
    assert_eq!(error, expected);
}

#[test]
fn diamond_include_is_no_cycle() {
    let dir = TempDir::new();
    dir.write("common.toml", "[defaults]\nwrite = \"audit\"\n");
    dir.write("a.toml", "include = [\"common.toml\"]\n");
    let policy = policy_from(&dir, "include = [\"a.toml\", \"common.toml\"]\n");
    assert_eq!(policy.default_action(Category::Write), Action::Audit);
}

#[test]
fn load_profile_arg_forms() {
    let dir = TempDir::new();
    let path = dir.write("p.toml", "[defaults]\ncreate = \"audit\"\n");
    let mut builder = PolicyBuilder::new(vars());
    builder.load_profile_arg("builtin:default").unwrap();
    builder.load_profile_arg(path.to_str().unwrap()).unwrap();
    let policy = builder.build().unwrap();
    assert_eq!(policy.default_action(Category::Create), Action::Audit);
    assert_eq!(action(&policy, Category::Write, "/dev/null"), Action::Allow);

    let mut builder = PolicyBuilder::new(vars());
    let error = builder.load_profile_arg("builtin:nope").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown built-in profile \"nope\"; expected one of: default"
    );

    let error = builder
        .load_profile_arg("/nonexistent/cordon.toml")
        .unwrap_err();
    assert!(matches!(error, PolicyError::ReadProfile { .. }));
    assert_eq!(
        error.to_string(),
        "/nonexistent/cordon.toml: failed to read profile: No such file or directory (os error 2)"
    );
}

#[test]
fn builtin_default_profile() {
    let mut builder = PolicyBuilder::new(vars());
    builder.load_builtin("default").unwrap();
    let policy = builder.build().unwrap();
    for path in [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/tty",
        "/dev/ptmx",
        "/dev/pts/0",
    ] {
        assert_eq!(
            action(&policy, Category::Write, path),
            Action::Allow,
            "{path}"
        );
    }
    for path in ["pipe:[1234]", "socket:[99]", "anon:[eventfd]"] {
        assert_eq!(
            action(&policy, Category::Write, path),
            Action::Allow,
            "{path}"
        );
    }
    assert_eq!(
        action(&policy, Category::Write, "/etc/passwd"),
        Action::Deny
    );
    assert_eq!(action(&policy, Category::Write, "memfd:x"), Action::Deny);
    // `*` does not cross '/', so deleted files named anon:PATH stay denied.
    assert_eq!(
        action(&policy, Category::Write, "anon:/tmp/x (deleted)"),
        Action::Deny
    );
    assert_eq!(
        action(&policy, Category::Read, "/etc/passwd"),
        Action::Allow
    );
    assert_eq!(action(&policy, Category::Create, "/dev/null"), Action::Deny);
    assert_eq!(action(&policy, Category::Create, "/tmp/x"), Action::Deny);

    let decision = policy.decide(Category::Write, b"/dev/null");
    assert_eq!(decision.origin.to_string(), "builtin:default:14");
}

#[test]
fn variables_expand_in_patterns() {
    let dir = TempDir::new();
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    let mut vars = vars();
    vars.home = Some(home.clone());
    vars.tmpdir = Some(dir.path().to_owned());
    let mut builder = PolicyBuilder::new(vars);
    builder
        .add_rule(Action::Deny, Category::Write, "${HOME}/**", "--deny-write")
        .unwrap();
    builder
        .add_rule(
            Action::Allow,
            Category::Write,
            "${TMPDIR}/t-*",
            "--allow-write",
        )
        .unwrap();
    let policy = builder.build().unwrap();
    let home = home.to_str().unwrap();
    assert_eq!(
        action(&policy, Category::Write, &format!("{home}/.bashrc")),
        Action::Deny
    );
    assert_eq!(
        action(&policy, Category::Write, &format!("{}/t-1", dir.text())),
        Action::Allow
    );
}

#[test]
fn variable_metacharacters_are_literal() {
    let dir = TempDir::new();
    let odd = dir.path().join("a*[b]{c,d}?");
    fs::create_dir(&odd).unwrap();
    let vars = vars_with("ODD", odd.clone());
    let mut builder = PolicyBuilder::new(vars);
    builder
        .add_rule(Action::Deny, Category::Write, "${ODD}/**", "--deny-write")
        .unwrap();
    let policy = builder.build().unwrap();
    let odd = odd.to_str().unwrap();
    assert_eq!(
        action(&policy, Category::Write, &format!("{odd}/x")),
        Action::Deny
    );
    assert_eq!(action(&policy, Category::Write, odd), Action::Deny);
    // Unescaped, the value would be a glob that matches this sibling too.
    let sibling = format!("{}/aXbcZ/x", dir.text());
    let decision = policy.decide(Category::Write, sibling.as_bytes());
    assert_eq!(
        decision.origin,
        &RuleOrigin::Default {
            category: Category::Write
        }
    );
}

#[test]
fn variable_errors_have_positions() {
    let dir = TempDir::new();
    let base = dir.text();
    let rule = |pattern: &str| {
        format!(
            "[[rule]]\naction = \"allow\"\naccess = \"read\"\npaths = [\"/tmp\", \"{pattern}\"]\n"
        )
    };

    let error = load_error(&dir, &rule("${UNSET_FOR_TEST}/x"));
    assert_eq!(
        error,
        format!(
            "{base}/p.toml:4:18: variable ${{UNSET_FOR_TEST}} is not set\n  \
             hint: set UNSET_FOR_TEST in the environment, or write its value in the pattern"
        )
    );

    let error = load_error(&dir, &rule("${RELATIVE}/x"));
    assert!(
        error.starts_with(&format!(
            "{base}/p.toml:4:18: variable ${{RELATIVE}} is \"relative/dir\", which is not an absolute path"
        )),
        "{error}"
    );

    let error = load_error(&dir, &rule("${ROOT}/x"));
    assert!(
        error.starts_with(&format!("{base}/p.toml:4:18: variable ${{ROOT}} is \"/\"")),
        "{error}"
    );

    let mut no_home = vars();
    no_home.home = None;
    let error = load_error_with(&dir, "hide = [\"${HOME}/.ssh\"]\n", no_home);
    assert!(
        error.starts_with(&format!("{base}/p.toml:1:9: variable ${{HOME}} is not set")),
        "{error}"
    );
}

#[test]
fn non_utf8_variable_rejected() {
    let vars = vars_with("RAW", OsString::from_vec(b"/tmp/\xff".to_vec()));
    let mut builder = PolicyBuilder::new(vars);
    let error = builder
        .add_rule(Action::Allow, Category::Read, "${RAW}/x", "--allow-read")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--allow-read \"${RAW}/x\": variable ${RAW} is not valid UTF-8"),
        "{error}"
    );
}

#[test]
fn symlinked_prefix_is_canonicalised() {
    let dir = TempDir::new();
    let real = dir.path().join("real-home");
    fs::create_dir_all(real.join(".ssh")).unwrap();
    let link = dir.path().join("home");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let mut vars = vars();
    vars.home = Some(link.clone());
    let mut builder = PolicyBuilder::new(vars);
    builder
        .add_rule(
            Action::Deny,
            Category::Read,
            "${HOME}/.ssh/**",
            "--deny-read",
        )
        .unwrap();
    builder.add_hide("${HOME}/.gnupg", "--hide").unwrap();
    let policy = builder.build().unwrap();

    let real = real.to_str().unwrap();
    assert_eq!(
        action(&policy, Category::Read, &format!("{real}/.ssh/id_ed25519")),
        Action::Deny
    );
    assert!(policy.hidden(format!("{real}/.gnupg").as_bytes()).is_some());
    // The supervisor never checks the non-canonical spelling.
    let link = link.to_str().unwrap();
    assert_eq!(
        action(&policy, Category::Read, &format!("{link}/.ssh/id_ed25519")),
        Action::Allow
    );
}

#[test]
fn literal_symlink_matches_link_and_target() {
    let dir = TempDir::new();
    let target = dir.write("target", "");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let mut builder = PolicyBuilder::new(vars());
    builder
        .add_rule(
            Action::Deny,
            Category::Read,
            link.to_str().unwrap(),
            "--deny-read",
        )
        .unwrap();
    let policy = builder.build().unwrap();
    assert_eq!(
        action(&policy, Category::Read, link.to_str().unwrap()),
        Action::Deny
    );
    assert_eq!(
        action(&policy, Category::Read, target.to_str().unwrap()),
        Action::Deny
    );
}

#[test]
fn missing_prefix_rejected_for_deny_only() {
    let dir = TempDir::new();
    let missing = format!("{}/missing", dir.text());
    let pattern = format!("{missing}/**");

    for action in [Action::Deny, Action::Kill] {
        let mut builder = PolicyBuilder::new(vars());
        let error = builder
            .add_rule(action, Category::Read, &pattern, "--x")
            .unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "--x \"{pattern}\": {action} rule for \"{pattern}\" matches nothing: {missing} does not exist\n  hint: "
            )),
            "{error}"
        );
    }

    let mut builder = PolicyBuilder::new(vars());
    let error = builder
        .add_hide(&format!("{missing}/key"), "--hide")
        .unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "--hide \"{missing}/key\": hide pattern \"{missing}/key\" matches nothing: {missing} does not exist"
        )),
        "{error}"
    );

    // Allow and audit rules are kept as written and apply once the directory exists.
    let mut builder = PolicyBuilder::new(vars());
    builder
        .add_rule(Action::Allow, Category::Write, &pattern, "--allow-write")
        .unwrap();
    builder
        .add_rule(Action::Audit, Category::Read, &pattern, "--audit-read")
        .unwrap();
    let policy = builder.build().unwrap();
    assert_eq!(
        action(&policy, Category::Write, &format!("{missing}/x")),
        Action::Allow
    );
    assert_eq!(action(&policy, Category::Write, &missing), Action::Allow);

    // A missing last component of a literal pattern is fine: its directory exists.
    let mut builder = PolicyBuilder::new(vars());
    builder
        .add_rule(Action::Deny, Category::Create, &missing, "--deny-create")
        .unwrap();
}

#[test]
fn command_line_errors_name_option() {
    let mut builder = PolicyBuilder::new(vars());
    let error = builder
        .add_rule(Action::Deny, Category::Read, "/x/[", "--deny-read")
        .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "--deny-read \"/x/[\": invalid glob: unclosed character class; missing ']'\n  hint: "
        ),
        "{error}"
    );

    let error = builder
        .add_rule(Action::Allow, Category::Read, "etc/*", "--allow-read")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--allow-read \"etc/*\": pattern \"etc/*\" is not an absolute path"),
        "{error}"
    );
}

#[test]
fn error_position_unknown_key() {
    let dir = TempDir::new();
    let error = load_error(
        &dir,
        "[[rule]]\naction = \"allow\"\nacess = \"read\"\npaths = [\"/tmp\"]\n",
    );
    assert_eq!(
        error,
        format!(
            "{}/p.toml:3:1: unknown key \"acess\" in [[rule]]; expected one of: action, access, paths\n  \
             hint: did you mean \"access\"?",
            dir.text()
        )
    );
}

#[test]
fn error_position_invalid_glob() {
    let dir = TempDir::new();
    let error = load_error(
        &dir,
        "[[rule]]\naction = \"deny\"\naccess = \"read\"\npaths = [\n    \"/tmp/**\",\n    \"/tmp/[a\",\n]\n",
    );
    assert!(
        error.starts_with(&format!(
            "{}/p.toml:6:5: invalid glob: unclosed character class; missing ']'",
            dir.text()
        )),
        "{error}"
    );
}

#[test]
fn error_position_toml_syntax() {
    let dir = TempDir::new();
    // The string is not closed before the end of line 2, which the parser reports.
    let error = load_error(&dir, "[[rule]]\naction = \"deny\nxaccess = \"read\"\n");
    assert_eq!(
        error,
        format!(
            "{}/p.toml:2:15: invalid TOML: invalid basic string",
            dir.text()
        )
    );

    let error = load_error(&dir, "hide = [\"/tmp\"\n");
    assert_eq!(
        error,
        format!(
            "{}/p.toml:2:1: invalid TOML: invalid array, expected `]`",
            dir.text()
        )
    );

    let error = load_error(&dir, "hide = [\"/tmp\"]\nhide = [\"/x\"]\n");
    assert_eq!(
        error,
        format!(
            "{}/p.toml:2:1: invalid TOML: duplicate key `hide` in document root",
            dir.text()
        )
    );
}

#[test]
fn error_position_wrong_action() {
    let dir = TempDir::new();
    let error = load_error(
        &dir,
        "[[rule]]\naction = \"alow\"\naccess = \"read\"\npaths = [\"/tmp\"]\n",
    );
    assert_eq!(
        error,
        format!(
            "{}/p.toml:2:10: unknown action \"alow\"; expected one of: allow, deny, audit, kill\n  \
             hint: did you mean \"allow\"?",
            dir.text()
        )
    );
}

#[test]
fn error_position_wrong_category() {
    let dir = TempDir::new();
    let error = load_error(
        &dir,
        "[[rule]]\naction = \"allow\"\naccess = [\"read\", \"wrte\"]\npaths = [\"/tmp\"]\n",
    );
    assert_eq!(
        error,
        format!(
            "{}/p.toml:3:19: unknown category \"wrte\"; expected one of: \
             read, write, create, stat, delete, rename, attr, exec, chdir\n  \
             hint: did you mean \"write\"?",
            dir.text()
        )
    );

    let error = load_error(&dir, "[defaults]\nread = \"allow\"\nnetwork = \"deny\"\n");
    assert!(error.starts_with(&format!(
        "{}/p.toml:3:1: unknown category \"network\"",
        dir.text()
    )));

    let error = load_error(&dir, "[defaults]\nread = \"permit\"\n");
    assert!(error.starts_with(&format!(
        "{}/p.toml:2:8: unknown action \"permit\"",
        dir.text()
    )));
}

#[test]
fn empty_lists_rejected() {
    let dir = TempDir::new();
    let error = load_error(
        &dir,
        "[[rule]]\naction = \"deny\"\naccess = []\npaths = [\"/tmp\"]\n",
    );
    assert!(
        error.starts_with(&format!("{}/p.toml:3:10: access is empty", dir.text())),
        "{error}"
    );

    let error = load_error(
        &dir,
        "[[rule]]\naction = \"deny\"\naccess = \"read\"\npaths = []\n",
    );
    assert!(
        error.starts_with(&format!("{}/p.toml:4:9: paths is empty", dir.text())),
        "{error}"
    );
}

#[test]
fn builtin_profile_errors_name_builtin() {
    // Shows how an error position inside a built-in profile is printed.
    let location = crate::profile::ProfileSource::Builtin("default".into()).location("a\nb", 2);
    assert_eq!(location.to_string(), "builtin:default:2:1");
}

#[test]
fn check_profile_reports_first_error() {
    let dir = TempDir::new();
    let good = dir.write(
        "good.toml",
        "include = [\"builtin:default\"]\nhide = [\"/tmp/x\"]\n",
    );
    crate::check_profile(&good, vars()).unwrap();

    let bad = dir.write(
        "bad.toml",
        "[[rule]]\naction = \"deny\"\naccess = \"read\"\npaths = \"/nonexistent-cordon/**\"\n",
    );
    let error = crate::check_profile(&bad, vars()).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "{}/bad.toml:4:9: deny rule for \"/nonexistent-cordon/**\" matches nothing: /nonexistent-cordon does not exist",
            dir.text()
        )),
        "{error}"
    );
}

#[test]
fn glob_syntax_as_documented() {
    let dir = TempDir::new();
    let base = dir.text();
    let mut builder = PolicyBuilder::new(vars());
    for pattern in ["/a/**/b", "/c/[!x-z]", "/d/?", "/e/{f,g}", "/h/\\*"] {
        let pattern = format!("{base}{pattern}");
        builder
            .add_rule(Action::Allow, Category::Write, &pattern, "--allow-write")
            .unwrap();
    }
    let policy = builder.build().unwrap();
    let cases = [
        ("/a/b", Action::Allow),
        ("/a/x/y/b", Action::Allow),
        ("/c/a", Action::Allow),
        ("/c/y", Action::Deny),
        ("/d/x", Action::Allow),
        ("/d/xy", Action::Deny),
        ("/e/g", Action::Allow),
        ("/h/*", Action::Allow),
        ("/h/x", Action::Deny),
    ];
    for (path, expected) in cases {
        assert_eq!(
            action(&policy, Category::Write, &format!("{base}{path}")),
            expected,
            "{path}"
        );
    }
}

#[test]
fn restricted_below_finds_protected_roots_inside_a_directory() {
    let dir = TempDir::new();
    fs::create_dir_all(dir.path().join("tree/keys")).unwrap();
    fs::create_dir_all(dir.path().join("tree/hidden")).unwrap();
    fs::create_dir_all(dir.path().join("other")).unwrap();
    let mut builder = PolicyBuilder::new(vars());
    builder
        .add_rule(Action::Deny, Category::Read, &format!("{}/tree/keys/**", dir.text()), "--deny-read")
        .unwrap();
    builder.add_hide(&format!("{}/tree/hidden", dir.text()), "--hide").unwrap();
    builder
        .add_rule(Action::Deny, Category::Create, &format!("{}/other/**", dir.text()), "--deny-create")
        .unwrap();
    let policy = builder.build().unwrap();
    let below = |path: &str| policy.restricted_below(format!("{}/{path}", dir.text()).as_bytes()).map(|o| o.to_string());
    assert_eq!(below("tree"), Some(format!("--hide {}/tree/hidden", dir.text())));
    // The rule's own directory is not below itself; its name is checked as a path instead.
    assert_eq!(below("tree/keys"), None);
    // A deny rule of create protects no content, and unrelated trees have nothing below them.
    assert_eq!(below("other"), None);
    assert_eq!(below("tree/keysx"), None);
}

#[test]
fn restricted_below_counts_globs_above_the_directory() {
    let dir = TempDir::new();
    fs::create_dir_all(dir.path().join("tree/ab")).unwrap();
    let mut builder = PolicyBuilder::new(vars());
    let pattern = format!("{}/tree/a*/secret", dir.text());
    builder.add_rule(Action::Deny, Category::Read, &pattern, "--deny-read").unwrap();
    let policy = builder.build().unwrap();
    let below = |path: &str| policy.restricted_below(format!("{}/{path}", dir.text()).as_bytes()).map(|o| o.to_string());
    assert_eq!(below("tree/ab"), Some(format!("--deny-read {pattern}")));
    assert_eq!(below("tree"), Some(format!("--deny-read {pattern}")));
    // `a*` cannot match `pub`, so nothing below tree/pub is protected by the glob.
    assert_eq!(below("tree/pub"), None);
    assert_eq!(below("elsewhere"), None);
}
