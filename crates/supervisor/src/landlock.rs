//! Landlock: the kernel-enforced outer bound computed from the policy.
//!
//! Landlock checks the task that performs an access, and the supervisor performs the
//! sandbox's opens itself. So the whole supervisor is restricted first, with the union of
//! every access the policy may allow, and the sandbox adds a nested layer with the same
//! file-system rules plus signal and abstract-unix-socket scoping. Because the supervisor's
//! domain is an ancestor of the sandbox's, the supervisor keeps ptrace-mode access to the
//! sandbox while the sandbox cannot reach the supervisor or any process outside its domain.
//!
//! Landlock can only allow trees, so deny rules inside an allowed tree stay the supervisor's
//! job. The bound is what remains if the supervisor's own checks were wrong.

use std::path::{Path, PathBuf};

use cordon_policy::{Category, Policy};
use landlock::{
    Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

/// The first Landlock ABI with signal and abstract-unix-socket scoping (Linux 6.12).
const SCOPING_ABI: i32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum LandlockError {
    #[error("Landlock is not available on this kernel ({0}); cordon needs it as the kernel-enforced bound of the policy. Enable it (lsm=landlock,... on the kernel command line) or pass --best-effort to run without it")]
    Unavailable(std::io::Error),
    #[error("this kernel's Landlock ABI is {0}, which lacks signal and abstract-socket scoping (ABI 6, Linux 6.12); pass --best-effort to run with file-system rules only")]
    TooOld(i32),
    #[error("building the Landlock ruleset failed: {0}")]
    Ruleset(#[from] landlock::RulesetError),
    #[error("restricting the supervisor with Landlock failed: {0}")]
    Restrict(String),
}

/// The enforced rights and trees, for the start-up report.
#[derive(Debug, Clone)]
pub struct Enforcement {
    pub abi: i32,
    pub scoped: bool,
    pub read_roots: Vec<PathBuf>,
    pub list_roots: Vec<PathBuf>,
    pub exec_roots: Vec<PathBuf>,
    pub modify_roots: Vec<PathBuf>,
}

/// The trees of one ruleset, by group of rights.
struct Trees<'a> {
    read: &'a [PathBuf],
    /// Directories that may be listed but whose files need not be readable (stat roots).
    list: &'a [PathBuf],
    exec: &'a [PathBuf],
    modify: &'a [PathBuf],
}

impl std::fmt::Display for Enforcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.abi <= 0 {
            return write!(f, "Landlock not enforced (best effort)");
        }
        let list = |roots: &[PathBuf]| roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "Landlock ABI {}: read below [{}]; list directories below [{}]; execute below [{}]; write, create, remove and rename below [{}]; signal and abstract-socket scoping {}",
            self.abi,
            list(&self.read_roots),
            list(&self.list_roots),
            list(&self.exec_roots),
            list(&self.modify_roots),
            if self.scoped { "on" } else { "off" }
        )
    }
}

/// The two rulesets of one sandbox: the supervisor's bound and the sandbox's nested layer.
pub struct Rulesets {
    pub supervisor: Option<RulesetCreated>,
    pub sandbox: Option<RulesetCreated>,
    pub enforcement: Enforcement,
}

/// Builds both rulesets from the policy. `extra_read` lists what the supervisor itself must
/// read besides the policy's trees (`/proc`).
///
/// `namespace_setup`: the supervisor's child must write its uid and gid maps in `/proc`
/// (`--without-ptrace`), so the supervisor's bound also allows modifying `/proc`. The
/// sandbox's layer never does.
pub fn build(policy: &Policy, best_effort: bool, namespace_setup: bool) -> Result<Rulesets, LandlockError> {
    let abi = match cordon_sys::fs::landlock_abi() {
        Ok(abi) => abi,
        Err(error) if best_effort => {
            tracing::warn!(%error, "Landlock unavailable; continuing without it (--best-effort)");
            return Ok(Rulesets { supervisor: None, sandbox: None, enforcement: not_enforced() });
        }
        Err(error) => return Err(LandlockError::Unavailable(error)),
    };
    let scoped = abi >= SCOPING_ABI;
    if !scoped && !best_effort {
        return Err(LandlockError::TooOld(abi));
    }
    let read_roots = existing_roots(&roots(policy, &[Category::Read]));
    // Listing a directory needs Landlock's read-directory right, which the stat rules grant
    // without the right to read files.
    let list_roots = existing_roots(&roots(policy, &[Category::Stat]));
    let exec_roots = existing_roots(&roots(policy, &[Category::Exec]));
    let modify_roots = existing_roots(&roots(policy, &[Category::Write, Category::Create, Category::Delete, Category::Rename, Category::Attr]));
    let enforcement = Enforcement { abi, scoped, read_roots, list_roots, exec_roots, modify_roots };
    let mut supervisor_read = enforcement.read_roots.clone();
    supervisor_read.push(PathBuf::from("/proc"));
    let mut supervisor_modify = enforcement.modify_roots.clone();
    if namespace_setup {
        supervisor_modify.push(PathBuf::from("/proc"));
    }
    let supervisor_trees = Trees { read: &supervisor_read, list: &enforcement.list_roots, exec: &enforcement.exec_roots, modify: &supervisor_modify };
    let sandbox_trees = Trees { read: &enforcement.read_roots, list: &enforcement.list_roots, exec: &enforcement.exec_roots, modify: &enforcement.modify_roots };
    let supervisor = ruleset(abi, supervisor_trees, false)?;
    let sandbox = ruleset(abi, sandbox_trees, scoped)?;
    Ok(Rulesets { supervisor: Some(supervisor), sandbox: Some(sandbox), enforcement })
}

/// Restricts the calling process (still single-threaded) with the supervisor's bound.
pub fn restrict_supervisor(ruleset: RulesetCreated) -> Result<(), LandlockError> {
    let status = ruleset.restrict_self()?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(LandlockError::Restrict("the kernel did not enforce the ruleset".into()));
    }
    Ok(())
}

fn not_enforced() -> Enforcement {
    Enforcement { abi: 0, scoped: false, read_roots: Vec::new(), list_roots: Vec::new(), exec_roots: Vec::new(), modify_roots: Vec::new() }
}

fn abi_of(version: i32) -> ABI {
    match version {
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        6 => ABI::V6,
        _ => ABI::V7,
    }
}

/// Reading files and listing directories; executing is granted separately.
fn read_rights(abi: ABI) -> BitFlags<AccessFs> {
    AccessFs::from_read(abi) & !AccessFs::Execute
}

/// Returns every right that changes the file system: writing and truncating files, device ioctls,
/// creating, removing and renaming entries.
fn modify_rights(abi: ABI) -> BitFlags<AccessFs> {
    AccessFs::from_all(abi) & !AccessFs::from_read(abi)
}

fn ruleset(version: i32, trees: Trees<'_>, scoped: bool) -> Result<RulesetCreated, LandlockError> {
    let abi = abi_of(version);
    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::HardRequirement).handle_access(AccessFs::from_all(abi))?;
    if scoped {
        ruleset = ruleset.scope(Scope::AbstractUnixSocket | Scope::Signal)?;
    }
    let mut created = ruleset.create()?;
    let exec_rights = BitFlags::from(AccessFs::Execute);
    let list_rights = BitFlags::from(AccessFs::ReadDir);
    for (roots, rights) in [(trees.read, read_rights(abi)), (trees.list, list_rights), (trees.exec, exec_rights), (trees.modify, modify_rights(abi))] {
        for root in roots {
            let Ok(fd) = PathFd::new(root) else { continue };
            let rights = if root.is_dir() { rights } else { rights & file_rights(abi) };
            if rights.is_empty() {
                // Listing rights on a file mean nothing.
                continue;
            }
            created = created.add_rule(PathBeneath::new(fd, rights))?;
        }
    }
    Ok(created)
}

/// Rights that apply to a file itself (the others only make sense on directories).
fn file_rights(abi: ABI) -> BitFlags<AccessFs> {
    let all = AccessFs::from_all(abi);
    all & (AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Execute | AccessFs::Truncate | AccessFs::IoctlDev)
}

/// Merges the allowed roots of several categories.
fn roots(policy: &Policy, categories: &[Category]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = categories.iter().flat_map(|&c| policy.allowed_roots(c)).map(PathBuf::from).collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Replaces each root that does not exist yet with its nearest existing ancestor, so a tree
/// the sandbox may create later is still inside the bound.
fn existing_roots(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut existing: Vec<PathBuf> = roots.iter().map(|root| nearest_existing(root)).collect();
    existing.sort();
    existing.dedup();
    existing
}

fn nearest_existing(path: &Path) -> PathBuf {
    let mut candidate = path.to_path_buf();
    while std::fs::symlink_metadata(&candidate).is_err() {
        if !candidate.pop() {
            return PathBuf::from("/");
        }
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_policy::{Action, PolicyBuilder, Variables};
    use cordon_sys::process;

    /// Builds a policy that allows writing below `allowed` only.
    fn policy_allowing(allowed: &Path) -> Policy {
        let mut builder = PolicyBuilder::new(Variables::from_process());
        builder.load_builtin("default").expect("built-in profile");
        let pattern = format!("{}/**", allowed.display());
        builder.add_rule(Action::Allow, Category::Write, &pattern, "--allow-write").expect("write rule");
        builder.add_rule(Action::Allow, Category::Create, &pattern, "--allow-create").expect("create rule");
        builder.build().expect("policy")
    }

    /// Runs `body` in a forked child restricted with the supervisor's ruleset and returns its
    /// exit code: Landlock cannot be undone, so the test process itself stays unrestricted.
    fn in_restricted_child(policy: &Policy, body: impl FnOnce() -> i32) -> i32 {
        let rulesets = build(policy, false, false).expect("Landlock rulesets");
        // SAFETY: the child only restricts itself, runs `body` (file operations) and exits.
        match unsafe { process::fork() }.expect("fork") {
            process::Forked::Child => {
                let code = match restrict_supervisor(rulesets.supervisor.expect("ruleset")) {
                    Ok(()) => body(),
                    Err(_) => 100,
                };
                process::exit_now(code)
            }
            process::Forked::Parent { pid } => {
                let mut status = 0;
                // SAFETY: waitpid writes one int through the pointer we own.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                libc::WEXITSTATUS(status)
            }
        }
    }

    /// The supervisor's bound alone, without any check of the supervisor's, refuses a write
    /// that the policy denies: the kernel returns EACCES.
    #[test]
    fn kernel_refuses_write_outside_bound() {
        let base = std::env::temp_dir().join(format!("cordon-landlock-{}", std::process::id()));
        let (allowed, denied) = (base.join("allowed"), base.join("denied"));
        std::fs::create_dir_all(&allowed).unwrap();
        std::fs::create_dir_all(&denied).unwrap();
        std::fs::write(denied.join("file"), b"original").unwrap();
        let policy = policy_allowing(&allowed);

        let code = in_restricted_child(&policy, || {
            let denied_write = std::fs::write(denied.join("file"), b"changed");
            let denied_unlink = std::fs::remove_file(denied.join("file"));
            let allowed_write = std::fs::write(allowed.join("new"), b"ok");
            match (denied_write, denied_unlink, allowed_write) {
                (Err(w), Err(u), Ok(())) if w.raw_os_error() == Some(libc::EACCES) && u.raw_os_error() == Some(libc::EACCES) => 0,
                (Ok(()), _, _) => 1,
                (_, Ok(()), _) => 2,
                (_, _, Err(_)) => 3,
                _ => 4,
            }
        });

        let contents = std::fs::read(denied.join("file")).unwrap_or_default();
        std::fs::remove_dir_all(&base).unwrap();
        assert_eq!(code, 0, "1: denied write allowed, 2: denied unlink allowed, 3: allowed write refused, 4: wrong errno");
        assert_eq!(contents, b"original");
    }

    #[test]
    fn nearest_existing_walks_up() {
        assert_eq!(nearest_existing(Path::new("/tmp/cordon-surely-missing/a/b")), PathBuf::from("/tmp"));
        assert_eq!(nearest_existing(Path::new("/")), PathBuf::from("/"));
    }

    #[test]
    fn modify_rights_exclude_reads() {
        let rights = modify_rights(ABI::V6);
        assert!(!rights.contains(AccessFs::ReadFile));
        assert!(rights.contains(AccessFs::WriteFile));
        assert!(rights.contains(AccessFs::RemoveFile));
        assert!(rights.contains(AccessFs::Refer));
    }
}
