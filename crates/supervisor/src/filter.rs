//! The static seccomp filter: a verdict for every x86_64 system call number, assembled into a
//! classic BPF program that dispatches on the number with a binary search.
//!
//! Verdicts that do not depend on arguments are decided from `arch` and `nr` alone, so the
//! kernel's seccomp action cache can skip the filter for allowed calls. Only the `ArgCheck`
//! leaves load an argument.
//!
//! NOTE: no test observes the action cache, because the test kernel lacks
//! `CONFIG_SECCOMP_CACHE_DEBUG`, which would show it in `/proc/PID/seccomp_cache`.

use std::ops::RangeInclusive;

use cordon_sys::bpf::{self, jump, sock_filter, stmt};

/// The static filter's action for one system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Runs the call (`SECCOMP_RET_ALLOW`).
    Allow,
    /// Sends a notification to the supervisor, which emulates the call
    /// (`SECCOMP_RET_USER_NOTIF`). Without a listener the kernel fails the call with `ENOSYS`.
    Notify,
    /// Fails the call with this errno without running it (`SECCOMP_RET_ERRNO`).
    Errno(i32),
    /// Stops the caller for the tracer thread (`SECCOMP_RET_TRACE`), which checks calls the
    /// supervisor cannot perform itself (exec, chdir). Without a tracer the call fails with
    /// `ENOSYS`.
    Trace,
    /// Decides by the low 32 bits of arguments, see [`ArgRule`].
    ArgCheck(ArgRule),
}

impl Verdict {
    /// Returns the action that the filter takes for a call with `args`.
    pub fn action(self, args: &[u64; 6]) -> Action {
        match self {
            Verdict::ArgCheck(rule) => rule.action(args),
            Verdict::Allow => Action::Allow,
            Verdict::Notify => Action::Notify,
            Verdict::Errno(errno) => Action::Errno(errno),
            Verdict::Trace => Action::Trace,
        }
    }
}

/// A seccomp action that does not depend on arguments: the outcome of an [`ArgTest`] or the
/// fallback of an [`ArgRule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Runs the call (`SECCOMP_RET_ALLOW`).
    Allow,
    /// Sends a notification to the supervisor (`SECCOMP_RET_USER_NOTIF`).
    Notify,
    /// Fails the call with this errno (`SECCOMP_RET_ERRNO`).
    Errno(i32),
    /// Stops the caller for the tracer (`SECCOMP_RET_TRACE`).
    Trace,
}

/// A decision by arguments: the first test whose condition matches gives the action, and
/// `otherwise` applies when none matches.
///
/// Each test reads only the low 32 bits of its argument, the part the kernel reads for `int`
/// and `unsigned int` arguments. A 64-bit comparison would be wrong for them: the kernel runs
/// `ioctl(fd, TIOCSTI | 1 << 32)` as `TIOCSTI`. A rule on a 64-bit argument is sound only where
/// the kernel rejects values with high bits set, as `unshare` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgRule {
    /// Tests tried in order.
    pub tests: &'static [ArgTest],
    /// The action when no test's condition matches.
    pub otherwise: Action,
}

impl ArgRule {
    /// Returns the action that the rule gives for `args`, reading their low 32 bits like the
    /// assembled program does.
    pub fn action(self, args: &[u64; 6]) -> Action {
        for test in self.tests {
            // Truncation is the point: the kernel reads these arguments as 32-bit integers.
            let value = args[test.arg_index as usize] as u32;
            if test.condition.matches(value) {
                return test.action;
            }
        }
        self.otherwise
    }
}

/// One condition on the low 32 bits of an argument, and the action when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgTest {
    /// Argument position, 0 to 5.
    pub arg_index: u32,
    /// Condition on the argument's low 32 bits.
    pub condition: ArgCondition,
    /// Action when the condition matches.
    pub action: Action,
}

/// A comparison of a 32-bit argument value with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgCondition {
    /// The value equals the constant.
    Equals(u32),
    /// The value differs from the constant.
    NotEquals(u32),
    /// The value has at least one bit of the mask set.
    AnyBitSet(u32),
}

impl ArgCondition {
    /// Returns whether the low 32 bits of an argument meet the condition.
    pub fn matches(self, value: u32) -> bool {
        match self {
            ArgCondition::Equals(constant) => value == constant,
            ArgCondition::NotEquals(constant) => value != constant,
            ArgCondition::AnyBitSet(mask) => value & mask != 0,
        }
    }
}

/// One row of the system call table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// Number in the x86_64 64-bit ABI (`arch/x86/entry/syscalls/syscall_64.tbl`).
    pub number: i64,
    /// Name without the `sys_` prefix, as in the kernel's table.
    pub name: &'static str,
    /// The static filter's action for the call.
    pub verdict: Verdict,
}

/// Errors found while assembling the filter. Each one means the table or the assembler is wrong.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("seccomp filter has {len} instructions, but the kernel accepts at most {max}")]
    TooLong { len: usize, max: usize },
    #[error(
        "seccomp filter instruction {index} jumps to instruction {target}, \
         outside the program of {len} instructions"
    )]
    JumpOutOfRange {
        index: usize,
        target: u64,
        len: usize,
    },
    #[error("seccomp filter does not end with a return instruction")]
    NoFinalReturn,
    #[error(
        "system call {syscall} has errno {errno}, outside the range 1..=4095 seccomp can return"
    )]
    InvalidErrno { syscall: &'static str, errno: i32 },
    #[error("system call {syscall} checks argument {index}, but arguments are numbered 0 to 5")]
    InvalidArgIndex { syscall: &'static str, index: u32 },
}

/// The highest system call number of Linux 6.18 on x86_64 (`file_setattr`).
pub const MAX_SYSCALL: i64 = 469;

/// Numbers below [`MAX_SYSCALL`] that x86_64 leaves unassigned, because new system calls take
/// the next number shared by all architectures, from 424 on. They give `ENOSYS`.
pub const UNASSIGNED: RangeInclusive<i64> = 337..=423;

/// The system calls for which the filter can return `SECCOMP_RET_USER_NOTIF`: the rows whose
/// verdict is [`Verdict::Notify`] and the argument checks with a [`Action::Notify`] outcome.
/// Sorted by number.
pub const NOTIFIED: &[i64] = &[
    libc::SYS_open,
    libc::SYS_truncate,
    libc::SYS_rename,
    libc::SYS_mkdir,
    libc::SYS_rmdir,
    libc::SYS_creat,
    libc::SYS_link,
    libc::SYS_unlink,
    libc::SYS_symlink,
    libc::SYS_chmod,
    libc::SYS_fchmod,
    libc::SYS_chown,
    libc::SYS_lchown,
    libc::SYS_utime,
    libc::SYS_mknod,
    libc::SYS_getpriority,
    libc::SYS_setpriority,
    libc::SYS_sched_setparam,
    libc::SYS_sched_getparam,
    libc::SYS_sched_setscheduler,
    libc::SYS_sched_getscheduler,
    libc::SYS_sched_rr_get_interval,
    libc::SYS_setxattr,
    libc::SYS_lsetxattr,
    libc::SYS_removexattr,
    libc::SYS_lremovexattr,
    libc::SYS_sched_setaffinity,
    libc::SYS_sched_getaffinity,
    libc::SYS_utimes,
    libc::SYS_ioprio_set,
    libc::SYS_ioprio_get,
    libc::SYS_openat,
    libc::SYS_mkdirat,
    libc::SYS_mknodat,
    libc::SYS_fchownat,
    libc::SYS_futimesat,
    libc::SYS_unlinkat,
    libc::SYS_renameat,
    libc::SYS_linkat,
    libc::SYS_symlinkat,
    libc::SYS_fchmodat,
    libc::SYS_utimensat,
    libc::SYS_prlimit64,
    libc::SYS_sched_setattr,
    libc::SYS_sched_getattr,
    libc::SYS_renameat2,
    libc::SYS_open_tree,
    libc::SYS_pidfd_open,
    libc::SYS_openat2,
    libc::SYS_fchmodat2,
    463, // setxattrat
    466, // removexattrat
    469, // file_setattr
];

/// Calls that observe a path (the stat family, readlink, extended attribute reads, watches). They notify when the policy has stat or hide rules; otherwise every such call
/// would be allowed, and the kernel runs them unchecked.
pub const STAT_CALLS: &[i64] = &[
    libc::SYS_stat,
    libc::SYS_lstat,
    libc::SYS_readlink,
    libc::SYS_statfs,
    libc::SYS_getxattr,
    libc::SYS_lgetxattr,
    libc::SYS_listxattr,
    libc::SYS_llistxattr,
    libc::SYS_inotify_add_watch,
    libc::SYS_newfstatat,
    libc::SYS_readlinkat,
    libc::SYS_fanotify_mark,
    libc::SYS_statx,
    464, // getxattrat
    465, // listxattrat
    468, // file_getattr
];

/// `access`, `faccessat`, `faccessat2`: notify unless the kernel-only path is taken, because
/// their result also depends on the read, write and exec rules.
pub const ACCESS_CALLS: &[i64] = &[libc::SYS_access, libc::SYS_faccessat, libc::SYS_faccessat2];

/// Directory listings: notify when the policy has stat or hide rules, so hidden entries can
/// be left out.
pub const LISTING_CALLS: &[i64] = &[libc::SYS_getdents, libc::SYS_getdents64];

/// Calls that observe an open file only. They notify when the policy has stat rules.
pub const FD_STAT_CALLS: &[i64] = &[libc::SYS_fstat, libc::SYS_fstatfs, libc::SYS_fgetxattr, libc::SYS_flistxattr];

/// Calls that change the attributes of an open file only. They notify when the policy has
/// attr rules.
pub const FD_ATTR_CALLS: &[i64] = &[libc::SYS_ftruncate, libc::SYS_fchmod, libc::SYS_fchown, libc::SYS_fsetxattr, libc::SYS_fremovexattr];

/// Calls that change a thread's uids, gids, groups or capabilities. With a tracer they are
/// notified, so the supervisor drops the identity it keeps for the thread before the call
/// runs. The supervisor then lets the kernel perform them.
pub const CREDENTIAL_CALLS: &[i64] = &[
    libc::SYS_setuid,
    libc::SYS_setgid,
    libc::SYS_setreuid,
    libc::SYS_setregid,
    libc::SYS_setresuid,
    libc::SYS_setresgid,
    libc::SYS_setfsuid,
    libc::SYS_setfsgid,
    libc::SYS_setgroups,
    libc::SYS_capset,
];

/// `__O_TMPFILE`, the bit of `O_TMPFILE` besides `O_DIRECTORY`.
const O_TMPFILE_BIT: u32 = (libc::O_TMPFILE & !libc::O_DIRECTORY) as u32;

/// Open flags that make an open more than a read: an access mode other than `O_RDONLY` (both
/// bits of `O_ACCMODE`), truncation, creation and unnamed temporary files. The kernel reads
/// the flags as `int`, so the high half of the argument cannot carry one of them.
const NOT_READ_ONLY: u32 = libc::O_ACCMODE as u32 | libc::O_TRUNC as u32 | libc::O_CREAT as u32 | O_TMPFILE_BIT;

/// `open` under the read shortcut: a read-only open (flags in arg1) runs in the kernel, every
/// other open notifies.
const READ_ONLY_OPEN: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(1, ArgCondition::AnyBitSet(NOT_READ_ONLY), Action::Notify)],
    otherwise: Action::Allow,
});

/// `openat` under the read shortcut, with the flags in arg2.
const READ_ONLY_OPENAT: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(2, ArgCondition::AnyBitSet(NOT_READ_ONLY), Action::Notify)],
    otherwise: Action::Allow,
});

/// `fchmod` notifies when the mode (arg1, `umode_t`) has the set-user-ID or set-group-ID
/// bit, because the supervisor rejects those bits for privileged callers. Other modes run in
/// the kernel unless attr rules make every `fchmod` notify.
const FCHMOD_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(1, ArgCondition::AnyBitSet(libc::S_ISUID | libc::S_ISGID), Action::Notify)],
    otherwise: Action::Allow,
});

/// `OPEN_TREE_CLONE` of `linux/mount.h`.
const OPEN_TREE_CLONE: u32 = 1;

/// `open_tree` without `OPEN_TREE_CLONE` opens an `O_PATH` fd, which the supervisor emulates
/// like an `O_PATH` open. A clone creates a detached mount, which an unprivileged process
/// may only attach in a mount namespace it owns, and cordon creates none. The kernel reads the
/// flags as `unsigned int`.
const OPEN_TREE_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(2, ArgCondition::AnyBitSet(OPEN_TREE_CLONE), Action::Errno(libc::EPERM))],
    otherwise: Action::Notify,
});

/// The largest errno the kernel passes through `SECCOMP_RET_ERRNO` (`MAX_ERRNO`).
const MAX_ERRNO: i32 = 4095;

/// `BPF_CLASS()` and `BPF_OP()` of `linux/filter.h`, as masks.
const BPF_CLASS_MASK: u32 = 0x07;
const BPF_OP_MASK: u32 = 0xf0;

const ALLOW: Verdict = Verdict::Allow;
const NOTIFY: Verdict = Verdict::Notify;
const EPERM: Verdict = Verdict::Errno(libc::EPERM);
const ENOSYS: Verdict = Verdict::Errno(libc::ENOSYS);

const fn arg_test(arg_index: u32, condition: ArgCondition, action: Action) -> ArgTest {
    ArgTest {
        arg_index,
        condition,
        action,
    }
}

/// The namespace flags that `clone` can carry. A new user namespace gives the sandbox
/// capabilities over mounts and the other namespaces, with which it could rearrange the file
/// tree that the policy's paths name.
const CLONE_NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// `clone` fails with `EPERM` for namespace flags and for `CLONE_UNTRACED`, which creates a
/// child that the tracer's automatic attach does not follow. The kernel reads the flags through
/// `lower_32_bits()`, so the high half cannot carry a flag past this check.
const CLONE_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(
        0,
        ArgCondition::AnyBitSet(libc::CLONE_UNTRACED as u32 | CLONE_NAMESPACE_FLAGS),
        Action::Errno(libc::EPERM),
    )],
    otherwise: Action::Allow,
});

/// `clone` under a process limit: like [`CLONE_CHECK`], but a new process (no `CLONE_THREAD`)
/// stops for the tracer, which refuses it with `EAGAIN` when the limit is reached.
const CLONE_LIMITED: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(
            0,
            ArgCondition::AnyBitSet(libc::CLONE_UNTRACED as u32 | CLONE_NAMESPACE_FLAGS),
            Action::Errno(libc::EPERM),
        ),
        arg_test(0, ArgCondition::AnyBitSet(libc::CLONE_THREAD as u32), Action::Allow),
    ],
    otherwise: Action::Trace,
});

/// `unshare` fails with `EPERM` for namespace flags, including `CLONE_NEWTIME`, which `clone`
/// cannot express because its low byte is the exit signal. The kernel reads all 64 bits of the
/// flags but rejects unknown bits with `EINVAL`, and every namespace flag is in the low half.
const UNSHARE_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(
        0,
        ArgCondition::AnyBitSet(CLONE_NAMESPACE_FLAGS | libc::CLONE_NEWTIME as u32),
        Action::Errno(libc::EPERM),
    )],
    otherwise: Action::Allow,
});

/// `ioctl` fails with `EPERM` for two requests that inject input into a terminal, and runs
/// every other request. `TIOCSTI` pushes bytes into a terminal's input queue, so the shell that
/// shares the terminal with the sandbox would read them as typed commands. `TIOCLINUX` has
/// selection subcodes that paste text into a virtual console's input. The kernel reads the
/// request as `unsigned int`, which is why the tests compare only its low half.
const IOCTL_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(
            1,
            ArgCondition::Equals(libc::TIOCSTI as u32),
            Action::Errno(libc::EPERM),
        ),
        arg_test(
            1,
            ArgCondition::Equals(libc::TIOCLINUX as u32),
            Action::Errno(libc::EPERM),
        ),
    ],
    otherwise: Action::Allow,
});

/// `seccomp` fails with `EPERM` when its flags (arg1) ask for a notification listener. A
/// filter of the sandbox's own that returns `SECCOMP_RET_USER_NOTIF` takes precedence over
/// cordon's for the same call, and its listener could respond with
/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`, which runs the call without consulting cordon's filter.
/// Filters without a listener only restrict the program itself. Every other operation takes
/// flags 0, so testing the bit alone is exact.
const SECCOMP_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(
        1,
        ArgCondition::AnyBitSet(bpf::SECCOMP_FILTER_FLAG_NEW_LISTENER),
        Action::Errno(libc::EPERM),
    )],
    otherwise: Action::Allow,
});

/// `personality(0xffffffff)` returns the current persona without changing it.
const PERSONALITY_QUERY: u32 = 0xffff_ffff;
/// `PER_LINUX` of `linux/personality.h`: the persona of native Linux programs, with no flags.
const PER_LINUX: u32 = 0;

/// `personality` runs only as a query or to set `PER_LINUX`, and fails with `EPERM` otherwise.
/// The persona survives `execve`, so its flags would weaken every program that the sandbox
/// starts. `READ_IMPLIES_EXEC` makes readable mappings executable, so code can be mapped with
/// `mmap(PROT_READ)` past checks that look for `PROT_EXEC`. `ADDR_NO_RANDOMIZE` turns off
/// address space layout randomization. The remaining flags and persona numbers exist for
/// compatibility with other systems and older programs. The kernel reads the argument as
/// `unsigned int`.
const PERSONALITY_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(0, ArgCondition::Equals(PERSONALITY_QUERY), Action::Allow),
        arg_test(0, ArgCondition::Equals(PER_LINUX), Action::Allow),
    ],
    otherwise: Action::Errno(libc::EPERM),
});

/// Calls that take a pid in argument 0 and act on that process with at most a same-user check
/// and no ptrace access check, so Landlock scoping does not restrict them. Pid 0 names the
/// calling thread and runs. Any other pid goes to the supervisor, which must allow only the
/// caller's own thread id or thread group id and fail the call with `EPERM` otherwise. The
/// kernel reads the pid as `pid_t`, a 32-bit integer.
const PID_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(0, ArgCondition::Equals(0), Action::Allow)],
    otherwise: Action::Notify,
});

/// `setpriority` and `getpriority` take `which` in argument 0 and `who` in argument 1, both
/// `int`. They fail with `EPERM` unless `which` is `PRIO_PROCESS`, because `PRIO_PGRP` and
/// `PRIO_USER` reach every process of a process group or user, outside the sandbox included.
/// `who` is then a pid, decided as in [`PID_CHECK`].
const PRIORITY_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(
            0,
            ArgCondition::NotEquals(libc::PRIO_PROCESS),
            Action::Errno(libc::EPERM),
        ),
        arg_test(1, ArgCondition::Equals(0), Action::Allow),
    ],
    otherwise: Action::Notify,
});

/// `IOPRIO_WHO_PROCESS` of `linux/ioprio.h`, which libc does not define.
const IOPRIO_WHO_PROCESS: u32 = 1;

/// `ioprio_set` and `ioprio_get` take `which` in argument 0 and `who` in argument 1, both
/// `int`. They fail with `EPERM` unless `which` is `IOPRIO_WHO_PROCESS`, because
/// `IOPRIO_WHO_PGRP` and `IOPRIO_WHO_USER` reach processes outside the sandbox. `who` is then
/// a pid, decided as in [`PID_CHECK`].
const IOPRIO_CHECK: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(
            0,
            ArgCondition::NotEquals(IOPRIO_WHO_PROCESS),
            Action::Errno(libc::EPERM),
        ),
        arg_test(1, ArgCondition::Equals(0), Action::Allow),
    ],
    otherwise: Action::Notify,
});

/// System V IPC and POSIX message queue calls fail with `EPERM`. Their objects belong to the
/// IPC namespace, and the sandbox shares that namespace with every process outside it, so it
/// could read or change the IPC objects of other programs of the same user.
///
/// NOTE: cordon does not create an IPC namespace yet. Inside a new one these calls would reach
/// only the sandbox's own objects.
const SHARED_IPC: Verdict = Verdict::Errno(libc::EPERM);

const fn row(number: i64, name: &'static str, verdict: Verdict) -> Syscall {
    Syscall {
        number,
        name,
        verdict,
    }
}

/// Every x86_64 system call of Linux 6.18, in number order. Each row that is not allowed has a
/// comment, except the `SHARED_IPC` rows, whose constant gives the reason. Numbers 0 to 450 match `asm/unistd_64.h` of Linux 6.1. The later ones come from
/// the kernel's `arch/x86/entry/syscalls/syscall_64.tbl`.
pub static SYSCALLS: &[Syscall] = &[
    row(0, "read", ALLOW),
    row(1, "write", ALLOW),
    row(2, "open", NOTIFY), // the supervisor checks the path and performs the open
    row(3, "close", ALLOW),
    row(4, "stat", ALLOW),
    row(5, "fstat", ALLOW),
    row(6, "lstat", ALLOW),
    row(7, "poll", ALLOW),
    row(8, "lseek", ALLOW),
    row(9, "mmap", ALLOW),
    row(10, "mprotect", ALLOW),
    row(11, "munmap", ALLOW),
    row(12, "brk", ALLOW),
    row(13, "rt_sigaction", ALLOW),
    row(14, "rt_sigprocmask", ALLOW),
    row(15, "rt_sigreturn", ALLOW),
    row(16, "ioctl", IOCTL_CHECK), // rejects TIOCSTI and TIOCLINUX
    row(17, "pread64", ALLOW),
    row(18, "pwrite64", ALLOW),
    row(19, "readv", ALLOW),
    row(20, "writev", ALLOW),
    row(21, "access", ALLOW),
    row(22, "pipe", ALLOW),
    row(23, "select", ALLOW),
    row(24, "sched_yield", ALLOW),
    row(25, "mremap", ALLOW),
    row(26, "msync", ALLOW),
    row(27, "mincore", ALLOW),
    row(28, "madvise", ALLOW),
    row(29, "shmget", SHARED_IPC),
    row(30, "shmat", SHARED_IPC),
    row(31, "shmctl", SHARED_IPC),
    row(32, "dup", ALLOW),
    row(33, "dup2", ALLOW),
    row(34, "pause", ALLOW),
    row(35, "nanosleep", ALLOW),
    row(36, "getitimer", ALLOW),
    row(37, "alarm", ALLOW),
    row(38, "setitimer", ALLOW),
    row(39, "getpid", ALLOW),
    row(40, "sendfile", ALLOW),
    row(41, "socket", ALLOW),
    row(42, "connect", ALLOW),
    row(43, "accept", ALLOW),
    row(44, "sendto", ALLOW),
    row(45, "recvfrom", ALLOW),
    row(46, "sendmsg", ALLOW),
    row(47, "recvmsg", ALLOW),
    row(48, "shutdown", ALLOW),
    row(49, "bind", ALLOW),
    row(50, "listen", ALLOW),
    row(51, "getsockname", ALLOW),
    row(52, "getpeername", ALLOW),
    row(53, "socketpair", ALLOW),
    row(54, "setsockopt", ALLOW),
    row(55, "getsockopt", ALLOW),
    row(56, "clone", CLONE_CHECK), // rejects CLONE_UNTRACED and namespace flags
    row(57, "fork", ALLOW),
    row(58, "vfork", ALLOW),
    row(59, "execve", Verdict::Trace), // checked by the tracer: the supervisor cannot exec for it
    row(60, "exit", ALLOW),
    row(61, "wait4", ALLOW),
    row(62, "kill", ALLOW),
    row(63, "uname", ALLOW),
    row(64, "semget", SHARED_IPC),
    row(65, "semop", SHARED_IPC),
    row(66, "semctl", SHARED_IPC),
    row(67, "shmdt", SHARED_IPC),
    row(68, "msgget", SHARED_IPC),
    row(69, "msgsnd", SHARED_IPC),
    row(70, "msgrcv", SHARED_IPC),
    row(71, "msgctl", SHARED_IPC),
    row(72, "fcntl", ALLOW),
    row(73, "flock", ALLOW),
    row(74, "fsync", ALLOW),
    row(75, "fdatasync", ALLOW),
    row(76, "truncate", NOTIFY), // the supervisor checks the path and performs the change
    row(77, "ftruncate", ALLOW),
    row(78, "getdents", ALLOW),
    row(79, "getcwd", ALLOW),
    row(80, "chdir", Verdict::Trace), // checked by the tracer: the supervisor cannot chdir for it
    row(81, "fchdir", Verdict::Trace), // checked by the tracer, like chdir
    row(82, "rename", NOTIFY), // the supervisor checks the path and performs the change
    row(83, "mkdir", NOTIFY), // the supervisor checks the path and performs the change
    row(84, "rmdir", NOTIFY), // the supervisor checks the path and performs the change
    row(85, "creat", NOTIFY), // the supervisor checks the path and performs the open
    row(86, "link", NOTIFY), // the supervisor checks the path and performs the change
    row(87, "unlink", NOTIFY), // the supervisor checks the path and performs the change
    row(88, "symlink", NOTIFY), // the supervisor checks the path and performs the change
    row(89, "readlink", ALLOW),
    row(90, "chmod", NOTIFY), // the supervisor checks the path and performs the change
    row(91, "fchmod", FCHMOD_CHECK), // set-user-ID and set-group-ID bits notify
    row(92, "chown", NOTIFY), // the supervisor checks the path and performs the change
    row(93, "fchown", ALLOW),
    row(94, "lchown", NOTIFY), // the supervisor checks the path and performs the change
    row(95, "umask", ALLOW),
    row(96, "gettimeofday", ALLOW),
    row(97, "getrlimit", ALLOW),
    row(98, "getrusage", ALLOW),
    row(99, "sysinfo", ALLOW),
    row(100, "times", ALLOW),
    row(101, "ptrace", EPERM), // controls and reads other processes of the same user
    row(102, "getuid", ALLOW),
    row(103, "syslog", ALLOW),
    row(104, "getgid", ALLOW),
    row(105, "setuid", ALLOW),
    row(106, "setgid", ALLOW),
    row(107, "geteuid", ALLOW),
    row(108, "getegid", ALLOW),
    row(109, "setpgid", ALLOW),
    row(110, "getppid", ALLOW),
    row(111, "getpgrp", ALLOW),
    row(112, "setsid", ALLOW),
    row(113, "setreuid", ALLOW),
    row(114, "setregid", ALLOW),
    row(115, "getgroups", ALLOW),
    row(116, "setgroups", ALLOW),
    row(117, "setresuid", ALLOW),
    row(118, "getresuid", ALLOW),
    row(119, "setresgid", ALLOW),
    row(120, "getresgid", ALLOW),
    row(121, "getpgid", ALLOW),
    row(122, "setfsuid", ALLOW),
    row(123, "setfsgid", ALLOW),
    row(124, "getsid", ALLOW),
    row(125, "capget", ALLOW),
    row(126, "capset", ALLOW),
    row(127, "rt_sigpending", ALLOW),
    row(128, "rt_sigtimedwait", ALLOW),
    row(129, "rt_sigqueueinfo", ALLOW),
    row(130, "rt_sigsuspend", ALLOW),
    row(131, "sigaltstack", ALLOW),
    row(132, "utime", NOTIFY), // the supervisor checks the path and performs the change
    row(133, "mknod", NOTIFY), // the supervisor checks the path and performs the change
    row(134, "uselib", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(135, "personality", PERSONALITY_CHECK), // allows only the query and PER_LINUX
    row(136, "ustat", ALLOW),
    row(137, "statfs", ALLOW),
    row(138, "fstatfs", ALLOW),
    row(139, "sysfs", ALLOW),
    row(140, "getpriority", PRIORITY_CHECK), // PRIO_PROCESS only, pids other than 0 notify
    row(141, "setpriority", PRIORITY_CHECK), // PRIO_PROCESS only, pids other than 0 notify
    row(142, "sched_setparam", PID_CHECK),   // pids other than 0 notify
    row(143, "sched_getparam", PID_CHECK),   // pids other than 0 notify
    row(144, "sched_setscheduler", PID_CHECK), // pids other than 0 notify
    row(145, "sched_getscheduler", PID_CHECK), // pids other than 0 notify
    row(146, "sched_get_priority_max", ALLOW),
    row(147, "sched_get_priority_min", ALLOW),
    row(148, "sched_rr_get_interval", PID_CHECK), // pids other than 0 notify
    row(149, "mlock", ALLOW),
    row(150, "munlock", ALLOW),
    row(151, "mlockall", ALLOW),
    row(152, "munlockall", ALLOW),
    row(153, "vhangup", EPERM), // hangs up the terminal that the sandbox shares with the user
    row(154, "modify_ldt", ALLOW),
    row(155, "pivot_root", EPERM), // changes the root that path resolution starts from
    row(156, "_sysctl", ALLOW),
    row(157, "prctl", ALLOW),
    row(158, "arch_prctl", ALLOW),
    row(159, "adjtimex", ALLOW),
    row(160, "setrlimit", ALLOW),
    row(161, "chroot", EPERM), // changes the root that path resolution starts from
    row(162, "sync", ALLOW),
    row(163, "acct", EPERM), // makes the kernel write to a path it names, unchecked
    row(164, "settimeofday", ALLOW),
    row(165, "mount", EPERM), // changes the mount tree that path checks rely on
    row(166, "umount2", EPERM), // changes the mount tree that path checks rely on
    row(167, "swapon", EPERM), // makes the kernel write to a path it names, unchecked
    row(168, "swapoff", EPERM), // disables swap space of the whole machine
    row(169, "reboot", EPERM), // restarts or halts the machine
    row(170, "sethostname", ALLOW),
    row(171, "setdomainname", ALLOW),
    row(172, "iopl", EPERM),           // gives direct access to all I/O ports
    row(173, "ioperm", EPERM),         // gives direct access to I/O ports
    row(174, "create_module", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(175, "init_module", EPERM),    // loads kernel code
    row(176, "delete_module", EPERM),  // unloads kernel code
    row(177, "get_kernel_syms", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(178, "query_module", ENOSYS),  // Linux 6.18 returns ENOSYS too
    row(179, "quotactl", EPERM),       // manages disk quotas of the whole file system
    row(180, "nfsservctl", ENOSYS),    // Linux 6.18 returns ENOSYS too
    row(181, "getpmsg", ENOSYS),       // Linux 6.18 returns ENOSYS too
    row(182, "putpmsg", ENOSYS),       // Linux 6.18 returns ENOSYS too
    row(183, "afs_syscall", ENOSYS),   // Linux 6.18 returns ENOSYS too
    row(184, "tuxcall", ENOSYS),       // Linux 6.18 returns ENOSYS too
    row(185, "security", ENOSYS),      // Linux 6.18 returns ENOSYS too
    row(186, "gettid", ALLOW),
    row(187, "readahead", ALLOW),
    row(188, "setxattr", NOTIFY), // the supervisor checks the path and performs the change
    row(189, "lsetxattr", NOTIFY), // the supervisor checks the path and performs the change
    row(190, "fsetxattr", ALLOW),
    row(191, "getxattr", ALLOW),
    row(192, "lgetxattr", ALLOW),
    row(193, "fgetxattr", ALLOW),
    row(194, "listxattr", ALLOW),
    row(195, "llistxattr", ALLOW),
    row(196, "flistxattr", ALLOW),
    row(197, "removexattr", NOTIFY), // the supervisor checks the path and performs the change
    row(198, "lremovexattr", NOTIFY), // the supervisor checks the path and performs the change
    row(199, "fremovexattr", ALLOW),
    row(200, "tkill", ALLOW),
    row(201, "time", ALLOW),
    row(202, "futex", ALLOW),
    row(203, "sched_setaffinity", PID_CHECK), // pids other than 0 notify
    row(204, "sched_getaffinity", PID_CHECK), // pids other than 0 notify
    row(205, "set_thread_area", ALLOW),
    row(206, "io_setup", ALLOW),
    row(207, "io_destroy", ALLOW),
    row(208, "io_getevents", ALLOW),
    row(209, "io_submit", ALLOW),
    row(210, "io_cancel", ALLOW),
    row(211, "get_thread_area", ALLOW),
    row(212, "lookup_dcookie", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(213, "epoll_create", ALLOW),
    row(214, "epoll_ctl_old", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(215, "epoll_wait_old", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(216, "remap_file_pages", ALLOW),
    row(217, "getdents64", ALLOW),
    row(218, "set_tid_address", ALLOW),
    row(219, "restart_syscall", ALLOW),
    row(220, "semtimedop", SHARED_IPC),
    row(221, "fadvise64", ALLOW),
    row(222, "timer_create", ALLOW),
    row(223, "timer_settime", ALLOW),
    row(224, "timer_gettime", ALLOW),
    row(225, "timer_getoverrun", ALLOW),
    row(226, "timer_delete", ALLOW),
    row(227, "clock_settime", ALLOW),
    row(228, "clock_gettime", ALLOW),
    row(229, "clock_getres", ALLOW),
    row(230, "clock_nanosleep", ALLOW),
    row(231, "exit_group", ALLOW),
    row(232, "epoll_wait", ALLOW),
    row(233, "epoll_ctl", ALLOW),
    row(234, "tgkill", ALLOW),
    row(235, "utimes", NOTIFY), // the supervisor checks the path and performs the change
    row(236, "vserver", ENOSYS), // Linux 6.18 returns ENOSYS too
    row(237, "mbind", ALLOW),
    row(238, "set_mempolicy", ALLOW),
    row(239, "get_mempolicy", ALLOW),
    row(240, "mq_open", SHARED_IPC),
    row(241, "mq_unlink", SHARED_IPC),
    row(242, "mq_timedsend", SHARED_IPC),
    row(243, "mq_timedreceive", SHARED_IPC),
    row(244, "mq_notify", SHARED_IPC),
    row(245, "mq_getsetattr", SHARED_IPC),
    row(246, "kexec_load", EPERM), // replaces the running kernel
    row(247, "waitid", ALLOW),
    row(248, "add_key", EPERM), // adds keys to keyrings shared outside the sandbox
    row(249, "request_key", EPERM), // finds keys in keyrings shared outside the sandbox
    row(250, "keyctl", EPERM),  // reaches keyrings shared with processes outside the sandbox
    row(251, "ioprio_set", IOPRIO_CHECK), // IOPRIO_WHO_PROCESS only, pids other than 0 notify
    row(252, "ioprio_get", IOPRIO_CHECK), // IOPRIO_WHO_PROCESS only, pids other than 0 notify
    row(253, "inotify_init", ALLOW),
    row(254, "inotify_add_watch", ALLOW),
    row(255, "inotify_rm_watch", ALLOW),
    row(256, "migrate_pages", ALLOW),
    row(257, "openat", NOTIFY), // the supervisor checks the path and performs the open
    row(258, "mkdirat", NOTIFY), // the supervisor checks the path and performs the change
    row(259, "mknodat", NOTIFY), // the supervisor checks the path and performs the change
    row(260, "fchownat", NOTIFY), // the supervisor checks the path and performs the change
    row(261, "futimesat", NOTIFY), // the supervisor checks the path and performs the change
    row(262, "newfstatat", ALLOW),
    row(263, "unlinkat", NOTIFY), // the supervisor checks the path and performs the change
    row(264, "renameat", NOTIFY), // the supervisor checks the path and performs the change
    row(265, "linkat", NOTIFY), // the supervisor checks the path and performs the change
    row(266, "symlinkat", NOTIFY), // the supervisor checks the path and performs the change
    row(267, "readlinkat", ALLOW),
    row(268, "fchmodat", NOTIFY), // the supervisor checks the path and performs the change
    row(269, "faccessat", ALLOW),
    row(270, "pselect6", ALLOW),
    row(271, "ppoll", ALLOW),
    row(272, "unshare", UNSHARE_CHECK), // rejects namespace flags
    row(273, "set_robust_list", ALLOW),
    row(274, "get_robust_list", ALLOW),
    row(275, "splice", ALLOW),
    row(276, "tee", ALLOW),
    row(277, "sync_file_range", ALLOW),
    row(278, "vmsplice", ALLOW),
    row(279, "move_pages", ALLOW),
    row(280, "utimensat", NOTIFY), // the supervisor checks the path and performs the change
    row(281, "epoll_pwait", ALLOW),
    row(282, "signalfd", ALLOW),
    row(283, "timerfd_create", ALLOW),
    row(284, "eventfd", ALLOW),
    row(285, "fallocate", ALLOW),
    row(286, "timerfd_settime", ALLOW),
    row(287, "timerfd_gettime", ALLOW),
    row(288, "accept4", ALLOW),
    row(289, "signalfd4", ALLOW),
    row(290, "eventfd2", ALLOW),
    row(291, "epoll_create1", ALLOW),
    row(292, "dup3", ALLOW),
    row(293, "pipe2", ALLOW),
    row(294, "inotify_init1", ALLOW),
    row(295, "preadv", ALLOW),
    row(296, "pwritev", ALLOW),
    row(297, "rt_tgsigqueueinfo", ALLOW),
    row(298, "perf_event_open", EPERM), // observes other processes and the kernel
    row(299, "recvmmsg", ALLOW),
    row(300, "fanotify_init", ALLOW),
    row(301, "fanotify_mark", ALLOW),
    row(302, "prlimit64", PID_CHECK),     // pids other than 0 notify
    row(303, "name_to_handle_at", EPERM), // its handles only work with open_by_handle_at, also EPERM
    row(304, "open_by_handle_at", EPERM), // opens by file handle, with no path to check
    row(305, "clock_adjtime", ALLOW),
    row(306, "syncfs", ALLOW),
    row(307, "sendmmsg", ALLOW),
    row(308, "setns", EPERM), // joins namespaces outside the sandbox
    row(309, "getcpu", ALLOW),
    row(310, "process_vm_readv", EPERM), // reads the memory of other processes of the same user
    row(311, "process_vm_writev", EPERM), // writes the memory of other processes of the same user
    row(312, "kcmp", ALLOW),
    row(313, "finit_module", EPERM),      // loads kernel code
    row(314, "sched_setattr", PID_CHECK), // pids other than 0 notify
    row(315, "sched_getattr", PID_CHECK), // pids other than 0 notify
    row(316, "renameat2", NOTIFY), // the supervisor checks the path and performs the change
    row(317, "seccomp", SECCOMP_CHECK), // rejects filters with a notification listener
    row(318, "getrandom", ALLOW),
    row(319, "memfd_create", ALLOW),
    row(320, "kexec_file_load", EPERM), // replaces the running kernel
    row(321, "bpf", EPERM), // loads programs into the kernel that observe other processes
    row(322, "execveat", Verdict::Trace), // checked by the tracer, like execve
    row(323, "userfaultfd", EPERM), // pauses kernel reads of sandbox memory, which widens races
    row(324, "membarrier", ALLOW),
    row(325, "mlock2", ALLOW),
    row(326, "copy_file_range", ALLOW),
    row(327, "preadv2", ALLOW),
    row(328, "pwritev2", ALLOW),
    row(329, "pkey_mprotect", ALLOW),
    row(330, "pkey_alloc", ALLOW),
    row(331, "pkey_free", ALLOW),
    row(332, "statx", ALLOW),
    row(333, "io_pgetevents", ALLOW),
    row(334, "rseq", ALLOW),
    row(335, "uretprobe", ALLOW), // Linux 6.18 runs it without consulting seccomp filters
    row(336, "uprobe", ALLOW),    // Linux 6.18 runs it without consulting seccomp filters
    // 337..=423: unassigned, see UNASSIGNED.
    row(424, "pidfd_send_signal", ALLOW),
    row(425, "io_uring_setup", ENOSYS), // io_uring performs opens that bypass the supervisor
    row(426, "io_uring_enter", ENOSYS), // runs io_uring operations, which bypass the supervisor
    row(427, "io_uring_register", ENOSYS), // registers files and buffers for io_uring operations
    row(428, "open_tree", OPEN_TREE_CHECK), // an O_PATH open; a mount clone needs a mount namespace
    row(429, "move_mount", EPERM), // changes the mount tree that path checks rely on
    row(430, "fsopen", EPERM),    // starts building a new mount
    row(431, "fsconfig", EPERM),  // configures a mount under construction
    row(432, "fsmount", EPERM),   // turns a configured file system into a mount
    row(433, "fspick", EPERM),    // opens an existing mount for reconfiguration
    row(434, "pidfd_open", Verdict::Notify), // a pidfd of a host process reaches it with process_madvise
    row(435, "clone3", ENOSYS), // libc falls back to clone, whose flags BPF can read
    row(436, "close_range", ALLOW),
    row(437, "openat2", NOTIFY), // the supervisor checks the path and performs the open
    row(438, "pidfd_getfd", EPERM), // copies fds out of other processes of the same user
    row(439, "faccessat2", ALLOW),
    row(440, "process_madvise", ALLOW),
    row(441, "epoll_pwait2", ALLOW),
    row(442, "mount_setattr", EPERM), // changes mount flags such as read-only and noexec
    row(443, "quotactl_fd", EPERM),   // manages disk quotas of the whole file system
    row(444, "landlock_create_ruleset", ALLOW),
    row(445, "landlock_add_rule", ALLOW),
    row(446, "landlock_restrict_self", ALLOW),
    row(447, "memfd_secret", ALLOW),
    row(448, "process_mrelease", ALLOW),
    row(449, "futex_waitv", ALLOW),
    row(450, "set_mempolicy_home_node", ALLOW),
    row(451, "cachestat", ALLOW),
    row(452, "fchmodat2", NOTIFY), // the supervisor checks the path and performs the change
    row(453, "map_shadow_stack", ALLOW),
    row(454, "futex_wake", ALLOW),
    row(455, "futex_wait", ALLOW),
    row(456, "futex_requeue", ALLOW),
    row(457, "statmount", ENOSYS), // names mount points, hidden ones included; libraries fall back
    row(458, "listmount", ENOSYS), // lists mounts for statmount, which is refused
    row(459, "lsm_get_self_attr", ALLOW),
    row(460, "lsm_set_self_attr", ALLOW),
    row(461, "lsm_list_modules", ALLOW),
    row(462, "mseal", ALLOW),
    row(463, "setxattrat", NOTIFY), // the supervisor checks the path and performs the change
    row(464, "getxattrat", ALLOW),
    row(465, "listxattrat", ALLOW),
    row(466, "removexattrat", NOTIFY), // the supervisor checks the path and performs the change
    row(467, "open_tree_attr", EPERM), // returns an O_PATH fd or a mount clone without a path check
    row(468, "file_getattr", ALLOW),
    row(469, "file_setattr", NOTIFY), // the supervisor checks the path and performs the change
];

/// Returns the verdict for system call `nr` as the kernel reports it in `seccomp_data.nr`:
/// the table's verdict, or `ENOSYS` for unassigned and unknown numbers.
pub fn verdict(nr: i64) -> Verdict {
    match SYSCALLS.binary_search_by_key(&nr, |syscall| syscall.number) {
        Ok(index) => SYSCALLS[index].verdict,
        Err(_) => ENOSYS,
    }
}

/// Assembles the static filter: a check of the architecture and the x32 bit, then a binary
/// search over ranges of numbers with equal verdicts.
pub fn build_filter() -> Result<Vec<sock_filter>, FilterError> {
    build_filter_with(FilterOptions::default())
}

/// Choices that depend on the policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct FilterOptions {
    /// Stop file mappings made executable (`mmap`, `mprotect`, `pkey_mprotect` with
    /// `PROT_EXEC`) for the tracer, which checks the mapped file against the exec rules.
    /// Only worth its cost when the policy restricts exec.
    pub trace_exec_mappings: bool,
    /// Stop `fork`, `vfork` and process-creating `clone` for the tracer, which enforces
    /// `--max-processes` before the process exists.
    pub trace_process_creation: bool,
    /// No tracer is attached (`--without-ptrace`): exec and chdir run unchecked by the
    /// supervisor (a trace stop without a tracer would fail them with `ENOSYS`).
    pub no_tracer: bool,
    /// Send [`STAT_CALLS`] and [`LISTING_CALLS`] to the supervisor (stat or hide rules).
    pub trap_stat: bool,
    /// Send [`ACCESS_CALLS`] to the supervisor.
    pub trap_access: bool,
    /// Let read-only opens run in the kernel: the policy allows reading everything and hides
    /// nothing, so Landlock's read bound (`/`) is exactly the policy ([`READ_ONLY_OPEN`]).
    pub read_shortcut: bool,
    /// Send [`FD_STAT_CALLS`] to the supervisor (stat rules).
    pub trap_fd_stat: bool,
    /// Send [`FD_ATTR_CALLS`] to the supervisor (attr rules).
    pub trap_fd_attr: bool,
    /// Let `execve` and `execveat` run without a stop at their entry: the policy has no exec,
    /// read or hide rule that the entry check would apply.
    pub exec_unchecked: bool,
    /// Let `chdir` and `fchdir` run without a stop: no chdir or hide rule applies.
    pub chdir_unchecked: bool,
    /// Send [`CREDENTIAL_CALLS`] to the supervisor, which remembers the credentials of
    /// sandboxed threads between their calls (only with a tracer, which reports exits).
    pub trap_credential_changes: bool,
}

/// `mmap` with `PROT_EXEC` (arg2) of a file: anonymous mappings (`MAP_ANONYMOUS` in arg3)
/// map no file, so only file mappings stop for the tracer.
const MMAP_TRACE: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[
        arg_test(3, ArgCondition::AnyBitSet(libc::MAP_ANONYMOUS as u32), Action::Allow),
        arg_test(2, ArgCondition::AnyBitSet(libc::PROT_EXEC as u32), Action::Trace),
    ],
    otherwise: Action::Allow,
});

/// `mprotect` and `pkey_mprotect` adding `PROT_EXEC` (arg2) to any range.
const MPROTECT_TRACE: Verdict = Verdict::ArgCheck(ArgRule {
    tests: &[arg_test(2, ArgCondition::AnyBitSet(libc::PROT_EXEC as u32), Action::Trace)],
    otherwise: Action::Allow,
});

/// Assembles the filter for `options`.
pub fn build_filter_with(options: FilterOptions) -> Result<Vec<sock_filter>, FilterError> {
    check_table()?;
    assemble(&verdict_ranges(options))
}

/// Returns the verdict for `nr` under `options`.
fn verdict_with(nr: i64, options: FilterOptions) -> Verdict {
    match nr {
        libc::SYS_mmap if options.trace_exec_mappings => MMAP_TRACE,
        libc::SYS_mprotect | libc::SYS_pkey_mprotect if options.trace_exec_mappings => MPROTECT_TRACE,
        libc::SYS_execve | libc::SYS_execveat | libc::SYS_chdir | libc::SYS_fchdir if options.no_tracer => Verdict::Allow,
        libc::SYS_execve | libc::SYS_execveat if options.exec_unchecked => Verdict::Allow,
        libc::SYS_chdir | libc::SYS_fchdir if options.chdir_unchecked => Verdict::Allow,
        libc::SYS_fork | libc::SYS_vfork if options.trace_process_creation => Verdict::Trace,
        libc::SYS_clone if options.trace_process_creation => CLONE_LIMITED,
        libc::SYS_open if options.read_shortcut => READ_ONLY_OPEN,
        libc::SYS_openat if options.read_shortcut => READ_ONLY_OPENAT,
        nr if options.trap_stat && (STAT_CALLS.contains(&nr) || LISTING_CALLS.contains(&nr)) => Verdict::Notify,
        nr if options.trap_access && ACCESS_CALLS.contains(&nr) => Verdict::Notify,
        nr if options.trap_fd_stat && FD_STAT_CALLS.contains(&nr) => Verdict::Notify,
        nr if options.trap_fd_attr && FD_ATTR_CALLS.contains(&nr) => Verdict::Notify,
        nr if options.trap_credential_changes && CREDENTIAL_CALLS.contains(&nr) => Verdict::Notify,
        _ => verdict(nr),
    }
}

/// A run of consecutive system call numbers with the same verdict. It ends where the next range
/// starts, and the last range runs up to the x32 bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct VerdictRange {
    first: u32,
    verdict: Verdict,
}

/// Rejects verdicts that the kernel or the assembler cannot express.
fn check_table() -> Result<(), FilterError> {
    SYSCALLS.iter().try_for_each(check_row)
}

fn check_row(syscall: &Syscall) -> Result<(), FilterError> {
    let Verdict::ArgCheck(rule) = syscall.verdict else {
        // The other verdicts ignore the arguments.
        return check_action(syscall, syscall.verdict.action(&[0; 6]));
    };
    for test in rule.tests {
        if test.arg_index > 5 {
            return Err(FilterError::InvalidArgIndex {
                syscall: syscall.name,
                index: test.arg_index,
            });
        }
        check_action(syscall, test.action)?;
    }
    check_action(syscall, rule.otherwise)
}

fn check_action(syscall: &Syscall, action: Action) -> Result<(), FilterError> {
    match action {
        Action::Errno(errno) if !(1..=MAX_ERRNO).contains(&errno) => {
            Err(FilterError::InvalidErrno {
                syscall: syscall.name,
                errno,
            })
        }
        _ => Ok(()),
    }
}

/// Splits the numbers from 0 up to the x32 bit into ranges of equal verdict.
fn verdict_ranges(options: FilterOptions) -> Vec<VerdictRange> {
    let mut ranges: Vec<VerdictRange> = Vec::new();
    // MAX_SYSCALL + 1 opens the final ENOSYS range.
    for nr in 0..=MAX_SYSCALL + 1 {
        let verdict = verdict_with(nr, options);
        if ranges.last().map(|range| range.verdict) != Some(verdict) {
            ranges.push(VerdictRange {
                first: nr as u32,
                verdict,
            });
        }
    }
    ranges
}

/// Assembles the prologue and the dispatch tree for `ranges`, which must start at 0 and be
/// sorted, then checks the result.
fn assemble(ranges: &[VerdictRange]) -> Result<Vec<sock_filter>, FilterError> {
    let enosys = errno_return(libc::ENOSYS);
    let mut program = vec![
        // int 0x80 and other 32-bit entries report AUDIT_ARCH_I386 and use other numbers.
        stmt(bpf::LD_W_ABS, bpf::DATA_ARCH_OFFSET),
        jump(bpf::JEQ_K, bpf::AUDIT_ARCH_X86_64, 1, 0),
        stmt(bpf::RET_K, enosys),
        // The tracer refuses a call by changing its number to -1, which the kernel skips
        // without touching the return value the tracer set. The kernel runs the filter again
        // on the changed number, so -1 must be allowed, or it would get ENOSYS below.
        stmt(bpf::LD_W_ABS, bpf::DATA_NR_OFFSET),
        jump(bpf::JEQ_K, u32::MAX, 0, 1),
        stmt(bpf::RET_K, bpf::SECCOMP_RET_ALLOW),
        // x32 calls report AUDIT_ARCH_X86_64 but number the calls differently.
        jump(bpf::JGE_K, bpf::X32_SYSCALL_BIT, 0, 1),
        stmt(bpf::RET_K, enosys),
    ];
    program.extend(dispatch(ranges));
    check_program(&program)?;
    Ok(program)
}

/// Emits a binary search over `ranges` with the system call number in A. The code of the lower
/// half comes first, so every jump goes forward.
fn dispatch(ranges: &[VerdictRange]) -> Vec<sock_filter> {
    match ranges {
        // No ranges: no number has a verdict.
        [] => return leaf(ENOSYS),
        [range] => return leaf(range.verdict),
        _ => {}
    }
    let middle = ranges.len() / 2;
    let lower = dispatch(&ranges[..middle]);
    let upper = dispatch(&ranges[middle..]);
    let split = ranges[middle].first;

    let mut code = Vec::with_capacity(lower.len() + upper.len() + 2);
    match u8::try_from(lower.len()) {
        Ok(skip) => code.push(jump(bpf::JGE_K, split, skip, 0)),
        Err(_) => {
            // The lower half is out of reach of the 8-bit jt field, so a JA with a 32-bit
            // offset skips it.
            code.push(jump(bpf::JGE_K, split, 0, 1));
            code.push(stmt(bpf::JA, lower.len() as u32));
        }
    }
    code.extend(lower);
    code.extend(upper);
    code
}

/// Emits the code that returns `verdict`.
fn leaf(verdict: Verdict) -> Vec<sock_filter> {
    match verdict {
        Verdict::ArgCheck(rule) => arg_check(rule),
        // The other verdicts ignore the arguments.
        fixed => vec![stmt(bpf::RET_K, action_return(fixed.action(&[0; 6])))],
    }
}

/// Emits the tests of `rule` in order, then the return of `rule.otherwise`. Each test loads the
/// low half of its argument and jumps to the return of its action when the condition matches,
/// or over that return when it does not.
fn arg_check(rule: ArgRule) -> Vec<sock_filter> {
    let mut code = Vec::with_capacity(3 * rule.tests.len() + 1);
    for test in rule.tests {
        code.push(stmt(bpf::LD_W_ABS, bpf::arg_low_offset(test.arg_index)));
        code.push(match test.condition {
            ArgCondition::Equals(constant) => jump(bpf::JEQ_K, constant, 0, 1),
            ArgCondition::NotEquals(constant) => jump(bpf::JEQ_K, constant, 1, 0),
            ArgCondition::AnyBitSet(mask) => jump(bpf::JSET_K, mask, 0, 1),
        });
        code.push(stmt(bpf::RET_K, action_return(test.action)));
    }
    code.push(stmt(bpf::RET_K, action_return(rule.otherwise)));
    code
}

/// Returns the seccomp return value of `action`.
fn action_return(action: Action) -> u32 {
    match action {
        Action::Allow => bpf::SECCOMP_RET_ALLOW,
        Action::Notify => bpf::SECCOMP_RET_USER_NOTIF,
        Action::Errno(errno) => errno_return(errno),
        Action::Trace => bpf::SECCOMP_RET_TRACE,
    }
}

fn errno_return(errno: i32) -> u32 {
    bpf::SECCOMP_RET_ERRNO | (errno as u32 & bpf::SECCOMP_RET_DATA)
}

/// Checks what the kernel checks before it accepts a program: the length, that every jump
/// lands inside the program, and that the last instruction returns.
fn check_program(program: &[sock_filter]) -> Result<(), FilterError> {
    if program.len() > bpf::MAX_INSTRUCTIONS {
        return Err(FilterError::TooLong {
            len: program.len(),
            max: bpf::MAX_INSTRUCTIONS,
        });
    }
    for (index, instruction) in program.iter().enumerate() {
        for target in jump_targets(index, instruction) {
            if target >= program.len() as u64 {
                return Err(FilterError::JumpOutOfRange {
                    index,
                    target,
                    len: program.len(),
                });
            }
        }
    }
    match program.last() {
        Some(last) if last.code == bpf::RET_K => Ok(()),
        _ => Err(FilterError::NoFinalReturn),
    }
}

/// Returns the instructions that the jump at `index` can continue at, or nothing for other
/// instructions. Offsets count from the next instruction.
fn jump_targets(index: usize, instruction: &sock_filter) -> Vec<u64> {
    let code = u32::from(instruction.code);
    if code & BPF_CLASS_MASK != libc::BPF_JMP {
        return Vec::new();
    }
    let next = index as u64 + 1;
    if code & BPF_OP_MASK == libc::BPF_JA {
        vec![next + u64::from(instruction.k)]
    } else {
        vec![
            next + u64::from(instruction.jt),
            next + u64::from(instruction.jf),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::io;
    use std::os::fd::AsRawFd;

    use super::*;

    // ---- The table ----

    #[test]
    fn table_has_one_row_per_number() {
        for pair in SYSCALLS.windows(2) {
            assert!(
                pair[0].number < pair[1].number,
                "rows out of order or duplicated: {} ({}) before {} ({})",
                pair[0].name,
                pair[0].number,
                pair[1].name,
                pair[1].number,
            );
        }
        for nr in 0..=MAX_SYSCALL {
            let in_table = SYSCALLS.iter().any(|syscall| syscall.number == nr);
            assert_ne!(
                in_table,
                UNASSIGNED.contains(&nr),
                "number {nr} must be in exactly one of SYSCALLS and UNASSIGNED"
            );
        }
        assert_eq!(
            SYSCALLS.last().map(|syscall| syscall.number),
            Some(MAX_SYSCALL)
        );
    }

    #[test]
    fn table_names_are_unique() {
        let mut seen = HashSet::new();
        for syscall in SYSCALLS {
            assert!(
                seen.insert(syscall.name),
                "name {} appears twice",
                syscall.name
            );
        }
    }

    /// Compares names and numbers with the kernel's user-space header, which the Debian package
    /// linux-libc-dev installs. The header of Linux 6.1 ends at 450.
    #[test]
    fn table_matches_kernel_header() {
        let path = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
        let header = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {path} ({error}): install linux-libc-dev"));
        let mut compared = 0;
        for line in header.lines() {
            let mut words = line.split_whitespace();
            let (Some("#define"), Some(macro_name), Some(value)) =
                (words.next(), words.next(), words.next())
            else {
                continue;
            };
            let (Some(name), Ok(number)) = (macro_name.strip_prefix("__NR_"), value.parse::<i64>())
            else {
                continue;
            };
            let row = SYSCALLS.iter().find(|syscall| syscall.number == number);
            assert_eq!(
                row.map(|syscall| syscall.name),
                Some(name),
                "number {number} in {path}"
            );
            compared += 1;
        }
        assert!(
            compared > 300,
            "only {compared} definitions found in {path}"
        );
    }

    /// Returns every action that `verdict` can give.
    fn possible_actions(verdict: Verdict) -> Vec<Action> {
        match verdict {
            Verdict::ArgCheck(rule) => {
                let mut actions: Vec<Action> = rule.tests.iter().map(|test| test.action).collect();
                actions.push(rule.otherwise);
                actions
            }
            fixed => vec![fixed.action(&[0; 6])],
        }
    }

    #[test]
    fn notified_matches_table() {
        let notify_rows: Vec<i64> = SYSCALLS
            .iter()
            .filter(|syscall| possible_actions(syscall.verdict).contains(&Action::Notify))
            .map(|syscall| syscall.number)
            .collect();
        assert_eq!(notify_rows, NOTIFIED);
    }

    #[test]
    fn verdict_lookup() {
        assert_eq!(verdict(libc::SYS_read), Verdict::Allow);
        assert_eq!(verdict(libc::SYS_openat), Verdict::Notify);
        assert_eq!(verdict(libc::SYS_ptrace), Verdict::Errno(libc::EPERM));
        assert_eq!(verdict(libc::SYS_clone3), Verdict::Errno(libc::ENOSYS));
        assert_eq!(verdict(libc::SYS_clone), CLONE_CHECK);
        assert_eq!(verdict(libc::SYS_unshare), UNSHARE_CHECK);
        assert_eq!(verdict(libc::SYS_ioctl), IOCTL_CHECK);
        assert_eq!(verdict(libc::SYS_personality), PERSONALITY_CHECK);
        assert_eq!(verdict(libc::SYS_prlimit64), PID_CHECK);
        assert_eq!(verdict(libc::SYS_sched_rr_get_interval), PID_CHECK);
        assert_eq!(verdict(libc::SYS_setpriority), PRIORITY_CHECK);
        assert_eq!(verdict(libc::SYS_ioprio_get), IOPRIO_CHECK);
        assert_eq!(verdict(libc::SYS_shmget), Verdict::Errno(libc::EPERM));
        assert_eq!(verdict(libc::SYS_mq_open), Verdict::Errno(libc::EPERM));
        assert_eq!(
            verdict(libc::SYS_name_to_handle_at),
            Verdict::Errno(libc::EPERM)
        );
        assert_eq!(verdict(400), Verdict::Errno(libc::ENOSYS));
        assert_eq!(verdict(MAX_SYSCALL + 1), Verdict::Errno(libc::ENOSYS));
        assert_eq!(verdict(-1), Verdict::Errno(libc::ENOSYS));
    }

    #[test]
    fn table_passes_checks() {
        assert_eq!(check_table(), Ok(()));
    }

    #[test]
    fn arg_index_six_is_rejected() {
        const TESTS: &[ArgTest] = &[arg_test(6, ArgCondition::Equals(0), Action::Allow)];
        let bad = row(
            0,
            "bad",
            Verdict::ArgCheck(ArgRule {
                tests: TESTS,
                otherwise: Action::Allow,
            }),
        );
        assert_eq!(
            check_row(&bad),
            Err(FilterError::InvalidArgIndex {
                syscall: "bad",
                index: 6
            })
        );
    }

    #[test]
    fn errno_out_of_range_is_rejected() {
        const TESTS: &[ArgTest] = &[arg_test(0, ArgCondition::Equals(0), Action::Errno(0))];
        let in_test = row(
            0,
            "in_test",
            Verdict::ArgCheck(ArgRule {
                tests: TESTS,
                otherwise: Action::Allow,
            }),
        );
        assert_eq!(
            check_row(&in_test),
            Err(FilterError::InvalidErrno {
                syscall: "in_test",
                errno: 0
            })
        );
        let in_otherwise = row(
            0,
            "in_otherwise",
            Verdict::ArgCheck(ArgRule {
                tests: &[],
                otherwise: Action::Errno(MAX_ERRNO + 1),
            }),
        );
        assert_eq!(
            check_row(&in_otherwise),
            Err(FilterError::InvalidErrno {
                syscall: "in_otherwise",
                errno: MAX_ERRNO + 1
            })
        );
        let plain = row(0, "plain", Verdict::Errno(-1));
        assert_eq!(
            check_row(&plain),
            Err(FilterError::InvalidErrno {
                syscall: "plain",
                errno: -1
            })
        );
    }

    // ---- The assembled program, run by the BPF interpreter below ----

    #[test]
    fn program_length_and_jumps() {
        let program = build_filter().unwrap();
        let ranges = verdict_ranges(FilterOptions::default());
        // Eight prologue instructions, one jump per split, one return per range, and three
        // more instructions for each test of an argument check.
        let test_count: usize = ranges
            .iter()
            .map(|range| match range.verdict {
                Verdict::ArgCheck(rule) => rule.tests.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(
            program.len(),
            8 + (ranges.len() - 1) + ranges.len() + 3 * test_count
        );
        assert!(program.len() <= bpf::MAX_INSTRUCTIONS);
        for (index, instruction) in program.iter().enumerate() {
            for target in jump_targets(index, instruction) {
                assert!(
                    target < program.len() as u64,
                    "instruction {index} jumps to {target}"
                );
            }
        }
    }

    /// With `trace_exec_mappings`, executable file mappings stop for the tracer and everything
    /// else about mmap and mprotect stays allowed.
    #[test]
    fn exec_mapping_rules() {
        let options = FilterOptions { trace_exec_mappings: true, ..FilterOptions::default() };
        let program = build_filter_with(options).unwrap();
        let exec = libc::PROT_READ as u64 | libc::PROT_EXEC as u64;
        let cases: &[(i64, [u64; 6], u32)] = &[
            (libc::SYS_mmap, [0, 4096, exec, libc::MAP_PRIVATE as u64, 3, 0], bpf::SECCOMP_RET_TRACE),
            (libc::SYS_mmap, [0, 4096, exec, (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64, u64::MAX, 0], bpf::SECCOMP_RET_ALLOW),
            (libc::SYS_mmap, [0, 4096, libc::PROT_READ as u64, libc::MAP_PRIVATE as u64, 3, 0], bpf::SECCOMP_RET_ALLOW),
            (libc::SYS_mprotect, [0, 4096, exec, 0, 0, 0], bpf::SECCOMP_RET_TRACE),
            (libc::SYS_mprotect, [0, 4096, libc::PROT_READ as u64, 0, 0, 0], bpf::SECCOMP_RET_ALLOW),
            (libc::SYS_pkey_mprotect, [0, 4096, exec, 0, 0, 0], bpf::SECCOMP_RET_TRACE),
        ];
        for (nr, args, expected) in cases {
            let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, *nr as u32, *args);
            assert_eq!(run_bpf(&program, &data), *expected, "syscall {nr} with {args:#x?}");
        }
        let plain = build_filter().unwrap();
        let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, libc::SYS_mmap as u32, cases[0].1);
        assert_eq!(run_bpf(&plain, &data), bpf::SECCOMP_RET_ALLOW, "mmap is not traced by default");
    }

    /// The observing calls reach the supervisor only with their trap options; the changing
    /// calls and `access` always do; `open_tree` with `OPEN_TREE_CLONE` is refused.
    #[test]
    fn file_system_trap_options() {
        let plain = build_filter().unwrap();
        let trapping = build_filter_with(FilterOptions { trap_stat: true, trap_access: true, trap_fd_stat: true, trap_fd_attr: true, ..FilterOptions::default() }).unwrap();
        let verdict_of = |program: &[sock_filter], nr: i64, args: [u64; 6]| run_bpf(program, &seccomp_data(bpf::AUDIT_ARCH_X86_64, nr as u32, args));
        let optional = STAT_CALLS.iter().chain(LISTING_CALLS).chain(FD_STAT_CALLS).chain(FD_ATTR_CALLS).chain(ACCESS_CALLS);
        for &nr in optional {
            assert_eq!(verdict_of(&plain, nr, [0; 6]), bpf::SECCOMP_RET_ALLOW, "syscall {nr} without trap options");
            assert_eq!(verdict_of(&trapping, nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF, "syscall {nr} with trap options");
        }
        let always = [libc::SYS_unlinkat, libc::SYS_renameat2, libc::SYS_linkat, libc::SYS_mkdirat, libc::SYS_fchmodat, libc::SYS_truncate, 469];
        for nr in always {
            assert_eq!(verdict_of(&plain, nr, [0; 6]), bpf::SECCOMP_RET_USER_NOTIF, "syscall {nr}");
        }
        let clone = [0, 0, u64::from(OPEN_TREE_CLONE) | 1 << 32, 0, 0, 0];
        assert_eq!(verdict_of(&plain, libc::SYS_open_tree, clone), bpf::SECCOMP_RET_ERRNO | libc::EPERM as u32);
        assert_eq!(verdict_of(&plain, libc::SYS_open_tree, [0, 0, 1 << 32, 0, 0, 0]), bpf::SECCOMP_RET_USER_NOTIF);
    }

    #[test]
    fn exec_and_chdir_stop_unless_unchecked() {
        let verdict_of = |options: FilterOptions, nr: i64| run_bpf(&build_filter_with(options).unwrap(), &seccomp_data(bpf::AUDIT_ARCH_X86_64, nr as u32, [0; 6]));
        let checked = FilterOptions::default();
        let no_exec = FilterOptions { exec_unchecked: true, ..FilterOptions::default() };
        let no_chdir = FilterOptions { chdir_unchecked: true, ..FilterOptions::default() };
        for nr in [libc::SYS_execve, libc::SYS_execveat] {
            assert_eq!(verdict_of(checked, nr), bpf::SECCOMP_RET_TRACE, "syscall {nr}");
            assert_eq!(verdict_of(no_exec, nr), bpf::SECCOMP_RET_ALLOW, "syscall {nr}");
            assert_eq!(verdict_of(no_chdir, nr), bpf::SECCOMP_RET_TRACE, "syscall {nr}");
        }
        for nr in [libc::SYS_chdir, libc::SYS_fchdir] {
            assert_eq!(verdict_of(checked, nr), bpf::SECCOMP_RET_TRACE, "syscall {nr}");
            assert_eq!(verdict_of(no_exec, nr), bpf::SECCOMP_RET_TRACE, "syscall {nr}");
            assert_eq!(verdict_of(no_chdir, nr), bpf::SECCOMP_RET_ALLOW, "syscall {nr}");
        }
    }

    #[test]
    fn credential_calls_notify_only_with_the_option() {
        let plain = build_filter().unwrap();
        let trapping = build_filter_with(FilterOptions { trap_credential_changes: true, ..FilterOptions::default() }).unwrap();
        let verdict_of = |program: &[sock_filter], nr: i64| run_bpf(program, &seccomp_data(bpf::AUDIT_ARCH_X86_64, nr as u32, [0; 6]));
        for &nr in CREDENTIAL_CALLS {
            assert_eq!(verdict_of(&plain, nr), bpf::SECCOMP_RET_ALLOW, "syscall {nr} without the option");
            assert_eq!(verdict_of(&trapping, nr), bpf::SECCOMP_RET_USER_NOTIF, "syscall {nr} with the option");
        }
        for nr in [libc::SYS_getuid, libc::SYS_capget, libc::SYS_getgroups, libc::SYS_umask] {
            assert_eq!(verdict_of(&trapping, nr), bpf::SECCOMP_RET_ALLOW, "syscall {nr}");
        }
    }

    #[test]
    fn program_matches_table_for_every_number() {
        let program = build_filter().unwrap();
        let mut numbers: Vec<u32> = (0..=1100).collect();
        numbers.extend([
            0x3FFF_FFFF,
            bpf::X32_SYSCALL_BIT,
            bpf::X32_SYSCALL_BIT | 39,
            u32::MAX,
        ]);
        for nr in numbers {
            let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, nr, [0; 6]);
            assert_eq!(
                run_bpf(&program, &data),
                expected_return(nr, &[0; 6]),
                "number {nr}"
            );
        }
    }

    #[test]
    fn program_rejects_i386() {
        let program = build_filter().unwrap();
        for nr in 0..=500 {
            let data = seccomp_data(bpf::AUDIT_ARCH_I386, nr, [0; 6]);
            assert_eq!(
                run_bpf(&program, &data),
                errno_return(libc::ENOSYS),
                "i386 number {nr}"
            );
        }
    }

    /// Returns argument values that probe `condition`: its constant, the constant with a high
    /// bit added or moved into the high half, nearby and complementary values, and every single
    /// bit.
    fn sample_values(condition: ArgCondition) -> Vec<u64> {
        let constant = match condition {
            ArgCondition::Equals(constant)
            | ArgCondition::NotEquals(constant)
            | ArgCondition::AnyBitSet(constant) => constant,
        };
        let wide = u64::from(constant);
        let mut values: Vec<u64> = (0..64).map(|bit| 1u64 << bit).collect();
        values.extend([
            0,
            u64::MAX,
            wide,
            wide | 1 << 32,
            wide << 32,
            u64::from(constant ^ 1),
            u64::from(!constant),
        ]);
        values
    }

    /// Returns argument arrays that combine the sample values of every argument the rule reads.
    fn sample_args(rule: ArgRule) -> Vec<[u64; 6]> {
        let mut samples = vec![[0u64; 6]];
        for index in 0..6 {
            let values: Vec<u64> = rule
                .tests
                .iter()
                .filter(|test| test.arg_index == index)
                .flat_map(|test| sample_values(test.condition))
                .collect();
            if values.is_empty() {
                continue;
            }
            samples = samples
                .iter()
                .flat_map(|args| {
                    values.iter().map(move |&value| {
                        let mut combined = *args;
                        combined[index as usize] = value;
                        combined
                    })
                })
                .collect();
        }
        samples
    }

    /// Runs every argument check of the table on sample arguments and compares the program's
    /// result with [`ArgRule::action`], which reads the low halves in Rust.
    #[test]
    fn program_checks_low_half_of_arguments() {
        let program = build_filter().unwrap();
        let mut checked_rows = 0;
        for syscall in SYSCALLS {
            let Verdict::ArgCheck(rule) = syscall.verdict else {
                continue;
            };
            let nr = syscall.number as u32;
            for args in sample_args(rule) {
                let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, nr, args);
                assert_eq!(
                    run_bpf(&program, &data),
                    expected_return(nr, &args),
                    "{} with arguments {args:#x?}",
                    syscall.name
                );
            }
            checked_rows += 1;
        }
        // clone, unshare, ioctl, personality, seccomp, open_tree, fchmod, ten pid-first calls
        // and four priority calls.
        assert_eq!(checked_rows, 21);
    }

    /// Cases written out by hand, so that a wrong rule in the table fails here even when the
    /// program and [`ArgRule::action`] agree.
    #[test]
    fn program_decides_argument_cases() {
        let program = build_filter().unwrap();
        let tiocsti = libc::TIOCSTI;
        let tiocgwinsz = libc::TIOCGWINSZ;
        let read_implies_exec = libc::READ_IMPLIES_EXEC as u64;
        let high = 1u64 << 32;
        let allow = bpf::SECCOMP_RET_ALLOW;
        let notify = bpf::SECCOMP_RET_USER_NOTIF;
        let eperm = errno_return(libc::EPERM);
        let cases: &[(&str, i64, [u64; 2], u32)] = &[
            ("ioctl TIOCSTI", libc::SYS_ioctl, [0, tiocsti], eperm),
            ("seccomp with a listener", libc::SYS_seccomp, [1, 1 << 3], eperm),
            ("seccomp with a listener | 1 << 32", libc::SYS_seccomp, [1, (1 << 3) | high], eperm),
            ("seccomp without a listener", libc::SYS_seccomp, [1, 0], allow),
            ("seccomp TSYNC", libc::SYS_seccomp, [1, 1], allow),
            (
                "ioctl TIOCSTI | 1 << 32",
                libc::SYS_ioctl,
                [0, tiocsti | high],
                eperm,
            ),
            (
                "ioctl TIOCSTI << 32",
                libc::SYS_ioctl,
                [0, tiocsti << 32],
                allow,
            ),
            (
                "ioctl TIOCLINUX",
                libc::SYS_ioctl,
                [0, libc::TIOCLINUX],
                eperm,
            ),
            ("ioctl TIOCGWINSZ", libc::SYS_ioctl, [0, tiocgwinsz], allow),
            (
                "personality query",
                libc::SYS_personality,
                [0xffff_ffff, 0],
                allow,
            ),
            (
                "personality query | 1 << 32",
                libc::SYS_personality,
                [u64::MAX, 0],
                allow,
            ),
            (
                "personality PER_LINUX",
                libc::SYS_personality,
                [0, 0],
                allow,
            ),
            (
                "personality READ_IMPLIES_EXEC",
                libc::SYS_personality,
                [read_implies_exec, 0],
                eperm,
            ),
            (
                "personality 0xfffffffe",
                libc::SYS_personality,
                [0xffff_fffe, 0],
                eperm,
            ),
            ("prlimit64 pid 0", libc::SYS_prlimit64, [0, 0], allow),
            (
                "prlimit64 pid 1 << 32",
                libc::SYS_prlimit64,
                [high, 0],
                allow,
            ),
            ("prlimit64 pid 7", libc::SYS_prlimit64, [7, 0], notify),
            (
                "sched_setaffinity pid 7",
                libc::SYS_sched_setaffinity,
                [7, 0],
                notify,
            ),
            (
                "setpriority PRIO_PROCESS 0",
                libc::SYS_setpriority,
                [0, 0],
                allow,
            ),
            (
                "setpriority PRIO_PROCESS 7",
                libc::SYS_setpriority,
                [0, 7],
                notify,
            ),
            (
                "setpriority PRIO_PROCESS 1 << 32",
                libc::SYS_setpriority,
                [0, high],
                allow,
            ),
            (
                "setpriority PRIO_PGRP 0",
                libc::SYS_setpriority,
                [1, 0],
                eperm,
            ),
            (
                "getpriority PRIO_USER 0",
                libc::SYS_getpriority,
                [2, 0],
                eperm,
            ),
            (
                "getpriority PRIO_USER << 32",
                libc::SYS_getpriority,
                [2 << 32, 0],
                allow,
            ),
            (
                "ioprio_get WHO_PROCESS 0",
                libc::SYS_ioprio_get,
                [1, 0],
                allow,
            ),
            (
                "ioprio_get WHO_PROCESS 7",
                libc::SYS_ioprio_get,
                [1, 7],
                notify,
            ),
            (
                "ioprio_set WHO_PROCESS | 1 << 32",
                libc::SYS_ioprio_set,
                [1 | high, 0],
                allow,
            ),
            ("ioprio_get WHO_PGRP 0", libc::SYS_ioprio_get, [2, 0], eperm),
            ("ioprio_set WHO_USER 0", libc::SYS_ioprio_set, [3, 0], eperm),
            ("ioprio_set which 0", libc::SYS_ioprio_set, [0, 0], eperm),
        ];
        for &(label, nr, [arg0, arg1], expected) in cases {
            let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, nr as u32, [arg0, arg1, 0, 0, 0, 0]);
            assert_eq!(run_bpf(&program, &data), expected, "{label}");
        }
    }

    #[test]
    fn long_lower_half_uses_ja() {
        // 600 alternating ranges make subtrees longer than a conditional jump reaches.
        let ranges: Vec<VerdictRange> = (0..600)
            .map(|index| VerdictRange {
                first: index * 3,
                verdict: if index % 2 == 0 { ALLOW } else { EPERM },
            })
            .collect();
        let program = assemble(&ranges).unwrap();
        assert!(program
            .iter()
            .any(|instruction| instruction.code == bpf::JA));
        for nr in 0..1900 {
            let range = &ranges[(nr as usize / 3).min(ranges.len() - 1)];
            let data = seccomp_data(bpf::AUDIT_ARCH_X86_64, nr, [0; 6]);
            assert_eq!(
                run_bpf(&program, &data),
                action_return(range.verdict.action(&[0; 6])),
                "number {nr}"
            );
        }
    }

    #[test]
    fn too_many_ranges_is_too_long() {
        let ranges: Vec<VerdictRange> = (0..3000)
            .map(|index| VerdictRange {
                first: index,
                verdict: if index % 2 == 0 { ALLOW } else { EPERM },
            })
            .collect();
        let error = assemble(&ranges).unwrap_err();
        assert!(
            matches!(error, FilterError::TooLong { max: 4096, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn jump_past_end_is_rejected() {
        let program = [
            jump(bpf::JEQ_K, 0, 5, 0),
            stmt(bpf::RET_K, bpf::SECCOMP_RET_ALLOW),
        ];
        assert_eq!(
            check_program(&program),
            Err(FilterError::JumpOutOfRange {
                index: 0,
                target: 6,
                len: 2
            })
        );
    }

    #[test]
    fn ja_past_end_is_rejected() {
        let program = [stmt(bpf::JA, 1), stmt(bpf::RET_K, bpf::SECCOMP_RET_ALLOW)];
        assert_eq!(
            check_program(&program),
            Err(FilterError::JumpOutOfRange {
                index: 0,
                target: 2,
                len: 2
            })
        );
    }

    #[test]
    fn program_without_final_return_is_rejected() {
        assert_eq!(
            check_program(&[stmt(bpf::LD_W_ABS, 0)]),
            Err(FilterError::NoFinalReturn)
        );
        assert_eq!(check_program(&[]), Err(FilterError::NoFinalReturn));
    }

    /// Returns the seccomp return value that the table prescribes for `nr` with `args`, on the
    /// x86_64 ABI.
    fn expected_return(nr: u32, args: &[u64; 6]) -> u32 {
        // -1 is the number the tracer gives a call it refuses; the kernel skips it.
        if nr == u32::MAX {
            return bpf::SECCOMP_RET_ALLOW;
        }
        if nr >= bpf::X32_SYSCALL_BIT {
            return errno_return(libc::ENOSYS);
        }
        action_return(verdict(i64::from(nr)).action(args))
    }

    fn seccomp_data(arch: u32, nr: u32, args: [u64; 6]) -> libc::seccomp_data {
        libc::seccomp_data {
            nr: nr as i32,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    /// Runs `program` on `data` like the kernel's classic BPF interpreter, for the instructions
    /// the assembler emits, and returns the seccomp return value.
    fn run_bpf(program: &[sock_filter], data: &libc::seccomp_data) -> u32 {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend(data.nr.to_le_bytes());
        bytes.extend(data.arch.to_le_bytes());
        bytes.extend(data.instruction_pointer.to_le_bytes());
        for arg in data.args {
            bytes.extend(arg.to_le_bytes());
        }

        let mut accumulator = 0u32;
        let mut pc = 0usize;
        loop {
            let instruction = program
                .get(pc)
                .unwrap_or_else(|| panic!("program counter {pc} is past the end of the program"));
            pc += 1;
            let branch_offset = |condition: bool| {
                usize::from(if condition {
                    instruction.jt
                } else {
                    instruction.jf
                })
            };
            match instruction.code {
                bpf::LD_W_ABS => {
                    let offset = instruction.k as usize;
                    accumulator = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap());
                }
                bpf::JA => pc += instruction.k as usize,
                bpf::JEQ_K => pc += branch_offset(accumulator == instruction.k),
                bpf::JGE_K => pc += branch_offset(accumulator >= instruction.k),
                bpf::JGT_K => pc += branch_offset(accumulator > instruction.k),
                bpf::JSET_K => pc += branch_offset(accumulator & instruction.k != 0),
                bpf::RET_K => return instruction.k,
                code => panic!("instruction {} has unsupported code {code:#x}", pc - 1),
            }
        }
    }

    // ---- The kernel's verdicts ----

    /// A system call made in the test child.
    #[derive(Clone, Copy, Debug)]
    enum Call {
        /// `syscall(nr, args...)` through the 64-bit `syscall` instruction.
        Raw { nr: i64, args: [u64; 6] },
        /// `int 0x80` with `eax` set: the i386 entry, which reports `AUDIT_ARCH_I386`.
        Int80 { eax: u32 },
        /// `clone(flags, NULL, ...)`. A child it creates exits at once.
        Clone { flags: u64 },
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Expected {
        Success,
        Errno(i32),
    }

    struct Probe {
        label: String,
        call: Call,
        expected: Expected,
    }

    fn probe(label: impl Into<String>, call: Call, expected: Expected) -> Probe {
        Probe {
            label: label.into(),
            call,
            expected,
        }
    }

    fn raw(nr: i64, args: [u64; 6]) -> Call {
        Call::Raw { nr, args }
    }

    /// All arguments -1, chosen so that a call that a broken filter lets through fails its own
    /// argument checks instead of changing the machine.
    const INVALID_ARGS: [u64; 6] = [u64::MAX; 6];

    /// The exit code of a child that could not install the filter.
    const SETUP_FAILED: i32 = 3;

    /// The default pipe capacity on Linux (16 pages of 4 KiB). The child must not block on a
    /// full pipe, because the parent reads only after the child has exited.
    const PIPE_CAPACITY: usize = 65536;

    /// Forks a child that installs `program` (none: the child runs unfiltered), makes every
    /// call, and sends the raw results back through a pipe: the return value, or -errno.
    fn run_in_child(program: Option<&[sock_filter]>, calls: &[Call]) -> Vec<i64> {
        assert!(
            calls.len() * 8 < PIPE_CAPACITY,
            "too many calls for one pipe"
        );
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two fds into the array we own.
        let piped = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
        assert_eq!(piped, 0, "pipe2 failed: {}", io::Error::last_os_error());
        let [read_end, write_end] = fds;

        // SAFETY: the child runs only system calls and _exit: it never allocates or takes a
        // lock that another thread of the test process may have held at the fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", io::Error::last_os_error());
        if pid == 0 {
            child_main(program, calls, write_end);
        }

        // SAFETY: closing our copy of the write end, which nothing else in this test uses.
        unsafe { libc::close(write_end) };
        let mut status = wait_for(pid);
        if libc::WIFSTOPPED(status) {
            // A broken filter let PTRACE_TRACEME through and the child stopped: end it, so
            // that the failure below leaves no stopped process behind.
            // SAFETY: kill sends a signal to our own child and touches no memory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            status = wait_for(pid);
        }
        // The child has exited, so every result is already in the pipe. Reading without
        // blocking also works when another test's child inherited the write end.
        let results = read_results(read_end);
        // SAFETY: closing the read end, which nothing else uses.
        unsafe { libc::close(read_end) };

        assert!(
            libc::WIFEXITED(status),
            "child did not exit (wait status {status:#x}) after {} of {} calls, next {:?}",
            results.len(),
            calls.len(),
            calls.get(results.len()),
        );
        let code = libc::WEXITSTATUS(status);
        assert_ne!(
            code,
            SETUP_FAILED,
            "installing the filter failed: errno {:?}",
            results.first().map(|r| -r)
        );
        assert_eq!(code, 0, "child exited with code {code}");
        assert_eq!(results.len(), calls.len());
        results
    }

    /// Runs in the forked child and never returns.
    fn child_main(program: Option<&[sock_filter]>, calls: &[Call], write_end: libc::c_int) -> ! {
        if let Some(program) = program {
            // SAFETY: prctl with integer arguments reads no memory of ours.
            let no_new_privs = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
            let installed = if no_new_privs == 0 {
                // Without SECCOMP_FILTER_FLAG_NEW_LISTENER no supervisor listens, so the
                // kernel fails notified calls with ENOSYS.
                cordon_sys::bpf::seccomp_set_mode_filter(program, 0).map(drop)
            } else {
                Err(io::Error::last_os_error())
            };
            if let Err(error) = installed {
                send_result(write_end, -i64::from(error.raw_os_error().unwrap_or(0)));
                exit_child(SETUP_FAILED);
            }
        }
        for call in calls {
            send_result(write_end, perform(*call));
        }
        exit_child(0)
    }

    fn perform(call: Call) -> i64 {
        match call {
            Call::Raw { nr, args } => raw_syscall(nr, args),
            Call::Int80 { eax } => int80(eax),
            Call::Clone { flags } => {
                let ret = raw_syscall(libc::SYS_clone, [flags, 0, 0, 0, 0, 0]);
                if ret == 0 {
                    // The new child runs on a copy of this stack, so it exits at once.
                    exit_child(0);
                }
                if ret > 0 {
                    reap(ret as libc::pid_t);
                }
                ret
            }
        }
    }

    fn raw_syscall(nr: i64, args: [u64; 6]) -> i64 {
        // SAFETY: the probes pass integers or invalid addresses, which the kernel checks
        // before it touches memory. A clone with a NULL stack continues on a copy of this one.
        let ret =
            unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
        if ret == -1 {
            -i64::from(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            ret
        }
    }

    /// Makes a system call through the i386 `int 0x80` entry and returns eax, sign-extended.
    fn int80(eax: u32) -> i64 {
        let mut rax = u64::from(eax);
        // SAFETY: the calls made here take no arguments. The kernel returns in eax and, on
        // older versions, clobbers r8 to r11, which are declared as clobbered.
        unsafe {
            std::arch::asm!(
                "int 0x80",
                inout("rax") rax,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                options(nostack),
            );
        }
        i64::from(rax as u32 as i32)
    }

    fn send_result(write_end: libc::c_int, result: i64) {
        let bytes = result.to_ne_bytes();
        // SAFETY: write reads 8 bytes from the local array. The pipe has room, because the
        // caller checked the number of calls against its capacity.
        unsafe { libc::write(write_end, bytes.as_ptr().cast(), bytes.len()) };
    }

    fn exit_child(code: i32) -> ! {
        // SAFETY: _exit ends the forked child without running destructors or atexit handlers
        // that belong to the parent.
        unsafe { libc::_exit(code) }
    }

    /// Waits for a child of the test child. Unlike [`wait_for`], it does not panic, because a
    /// panic in a forked child would unwind a copy of the test harness.
    fn reap(pid: libc::pid_t) {
        let mut status = 0;
        // SAFETY: waitpid writes the status of our own child into `status`.
        while unsafe { libc::waitpid(pid, &mut status, 0) } == -1
            && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }

    fn wait_for(pid: libc::pid_t) -> libc::c_int {
        let mut status = 0;
        loop {
            // SAFETY: waitpid writes the status of our own child into `status`.
            let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
            if waited == pid {
                return status;
            }
            let error = io::Error::last_os_error();
            assert_eq!(
                error.raw_os_error(),
                Some(libc::EINTR),
                "waitpid({pid}) failed: {error}"
            );
        }
    }

    fn read_results(read_end: libc::c_int) -> Vec<i64> {
        let mut results = Vec::new();
        let mut bytes = [0u8; 8];
        loop {
            // SAFETY: read writes at most 8 bytes into the local array.
            let count = unsafe { libc::read(read_end, bytes.as_mut_ptr().cast(), bytes.len()) };
            if count != 8 {
                // 0 (end of file) or -1 with EAGAIN: the child's results are all read.
                return results;
            }
            results.push(i64::from_ne_bytes(bytes));
        }
    }

    /// Runs the probes under the static filter and asserts each result.
    fn assert_filtered(probes: &[Probe]) {
        let program = build_filter().unwrap();
        let calls: Vec<Call> = probes.iter().map(|probe| probe.call).collect();
        let results = run_in_child(Some(&program), &calls);
        for (probe, result) in probes.iter().zip(results) {
            match probe.expected {
                Expected::Success => assert!(
                    result >= 0,
                    "{}: expected success, got errno {}",
                    probe.label,
                    -result
                ),
                Expected::Errno(errno) => assert_eq!(result, -i64::from(errno), "{}", probe.label),
            }
        }
    }

    fn clone_probes() -> Vec<Probe> {
        let sigchld = libc::SIGCHLD as u64;
        let newuser = libc::CLONE_NEWUSER as u64;
        let mut probes = vec![
            probe(
                "clone(SIGCHLD)",
                Call::Clone { flags: sigchld },
                Expected::Success,
            ),
            probe(
                "clone(CLONE_UNTRACED)",
                Call::Clone {
                    flags: sigchld | libc::CLONE_UNTRACED as u64,
                },
                Expected::Errno(libc::EPERM),
            ),
            probe(
                "clone(CLONE_NEWUSER | 1 << 32)",
                Call::Clone {
                    flags: sigchld | newuser | 1 << 32,
                },
                Expected::Errno(libc::EPERM),
            ),
            // The kernel ignores the high half of clone's flags, so this is a plain fork.
            probe(
                "clone(CLONE_NEWUSER << 32)",
                Call::Clone {
                    flags: sigchld | newuser << 32,
                },
                Expected::Success,
            ),
        ];
        for bit in 0..32 {
            let flag = 1u32 << bit;
            if flag & CLONE_NAMESPACE_FLAGS != 0 {
                let call = Call::Clone {
                    flags: sigchld | u64::from(flag),
                };
                probes.push(probe(
                    format!("clone({flag:#x})"),
                    call,
                    Expected::Errno(libc::EPERM),
                ));
            }
        }
        probes
    }

    fn unshare_probes() -> Vec<Probe> {
        let unshare = |flags: u64| raw(libc::SYS_unshare, [flags, 0, 0, 0, 0, 0]);
        let newuser = libc::CLONE_NEWUSER as u64;
        let mut probes = vec![
            probe(
                "unshare(CLONE_FS)",
                unshare(libc::CLONE_FS as u64),
                Expected::Success,
            ),
            probe(
                "unshare(CLONE_NEWUSER | 1 << 32)",
                unshare(newuser | 1 << 32),
                Expected::Errno(libc::EPERM),
            ),
            // The filter lets an empty low half through, and the kernel rejects the unknown
            // high bits itself.
            probe(
                "unshare(CLONE_NEWUSER << 32)",
                unshare(newuser << 32),
                Expected::Errno(libc::EINVAL),
            ),
        ];
        for bit in 0..32 {
            let flag = 1u32 << bit;
            if flag & (CLONE_NAMESPACE_FLAGS | libc::CLONE_NEWTIME as u32) != 0 {
                probes.push(probe(
                    format!("unshare({flag:#x})"),
                    unshare(u64::from(flag)),
                    Expected::Errno(libc::EPERM),
                ));
            }
        }
        probes
    }

    #[test]
    fn kernel_applies_filter_verdicts() {
        let enosys = Expected::Errno(libc::ENOSYS);
        let root = c"/".as_ptr() as u64;
        let mut probes = vec![
            probe("getpid", raw(libc::SYS_getpid, [0; 6]), Expected::Success),
            probe(
                "ptrace(PTRACE_TRACEME)",
                raw(libc::SYS_ptrace, [0; 6]),
                Expected::Errno(libc::EPERM),
            ),
            probe(
                "io_uring_setup",
                raw(libc::SYS_io_uring_setup, [1, 0, 0, 0, 0, 0]),
                enosys,
            ),
            probe("clone3", raw(libc::SYS_clone3, [0; 6]), enosys),
            probe("syscall 1000", raw(1000, [0; 6]), enosys),
            // This kernel is built without x32 support, so the native result is ENOSYS too.
            probe(
                "x32 getpid",
                raw(i64::from(bpf::X32_SYSCALL_BIT) | libc::SYS_getpid, [0; 6]),
                enosys,
            ),
            // 20 is getpid in the i386 table.
            probe("int 0x80 getpid", Call::Int80 { eax: 20 }, enosys),
            // Notified calls fail with ENOSYS because no listener exists.
            probe(
                "openat",
                raw(libc::SYS_openat, [libc::AT_FDCWD as u64, root, 0, 0, 0, 0]),
                enosys,
            ),
            // Size 0 makes the kernel fail with EINVAL, so a broken filter creates no segment.
            probe(
                "shmget(IPC_PRIVATE, 0, IPC_CREAT)",
                raw(libc::SYS_shmget, [0, 0, libc::IPC_CREAT as u64, 0, 0, 0]),
                Expected::Errno(libc::EPERM),
            ),
        ];
        probes.extend(clone_probes());
        probes.extend(unshare_probes());
        assert_filtered(&probes);
    }

    /// Returns the invalid arguments for a probe of `nr`. msgget gets flags 0 instead of -1,
    /// because with `IPC_CREAT` set a call that a broken filter lets through would create a
    /// message queue.
    fn invalid_args(nr: i64) -> [u64; 6] {
        if nr == libc::SYS_msgget {
            [u64::MAX, 0, 0, 0, 0, 0]
        } else {
            INVALID_ARGS
        }
    }

    /// Calls every row with invalid arguments and expects the errno of the action that the
    /// table gives for them, which is ENOSYS for a notification because no listener exists.
    /// Rows whose action is to allow are left out. vhangup is left out too: it takes no
    /// arguments, so under a broken filter it would hang up the terminal of the user running
    /// the tests.
    #[test]
    fn kernel_applies_every_errno_row() {
        let mut probes = Vec::new();
        for syscall in SYSCALLS {
            if syscall.number == libc::SYS_vhangup {
                continue;
            }
            let args = invalid_args(syscall.number);
            let expected = match syscall.verdict.action(&args) {
                Action::Allow => continue,
                // Without a listener or a tracer the kernel fails both with ENOSYS.
                Action::Notify | Action::Trace => Expected::Errno(libc::ENOSYS),
                Action::Errno(errno) => Expected::Errno(errno),
            };
            probes.push(probe(syscall.name, raw(syscall.number, args), expected));
        }
        for nr in UNASSIGNED.chain(MAX_SYSCALL + 1..=MAX_SYSCALL + 50) {
            probes.push(probe(
                format!("syscall {nr}"),
                raw(nr, INVALID_ARGS),
                Expected::Errno(libc::ENOSYS),
            ));
        }
        assert_filtered(&probes);
    }

    /// fd -1 as `unsigned int`, which no process has open.
    const BAD_FD: u64 = 0xffff_ffff;

    /// The ioctl probes on [`BAD_FD`] must fail with EPERM because the filter decided: the
    /// kernel itself fails them with EBADF.
    #[test]
    fn ioctl_on_bad_fd_is_ebadf_natively() {
        let calls = [
            raw(
                libc::SYS_ioctl,
                [BAD_FD, libc::TIOCSTI | 1 << 32, 0, 0, 0, 0],
            ),
            raw(libc::SYS_ioctl, [BAD_FD, libc::TIOCLINUX, 0, 0, 0, 0]),
        ];
        let results = run_in_child(None, &calls);
        assert_eq!(results, [-i64::from(libc::EBADF); 2]);
    }

    /// TIOCSTI and TIOCLINUX fail with EPERM, also with a bit set in the high half of the
    /// request, and other requests run. TIOCSTI goes to a pseudo-terminal that the test owns,
    /// never to the terminal of the user running the tests.
    #[test]
    fn kernel_applies_ioctl_rule() {
        let null = std::fs::File::open("/dev/null").unwrap();
        let pty_master = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/ptmx")
            .unwrap();
        let null_fd = null.as_raw_fd() as u64;
        let pty_fd = pty_master.as_raw_fd() as u64;
        let byte = b'x';
        let byte_address = &byte as *const u8 as u64;
        // Larger than the kernel's struct termios (36 bytes), which TCGETS writes.
        let mut termios = [0u8; 64];
        let termios_address = termios.as_mut_ptr() as u64;
        let ioctl =
            |fd: u64, request: u64, arg: u64| raw(libc::SYS_ioctl, [fd, request, arg, 0, 0, 0]);
        let eperm = Expected::Errno(libc::EPERM);
        let high = 1u64 << 32;

        let probes = vec![
            probe(
                "ioctl(-1, TIOCSTI | 1 << 32)",
                ioctl(BAD_FD, libc::TIOCSTI | high, byte_address),
                eperm,
            ),
            probe(
                "ioctl(pty, TIOCSTI)",
                ioctl(pty_fd, libc::TIOCSTI, byte_address),
                eperm,
            ),
            probe(
                "ioctl(pty, TIOCSTI | 1 << 32)",
                ioctl(pty_fd, libc::TIOCSTI | high, byte_address),
                eperm,
            ),
            probe(
                "ioctl(-1, TIOCLINUX)",
                ioctl(BAD_FD, libc::TIOCLINUX, byte_address),
                eperm,
            ),
            probe(
                "ioctl(-1, TIOCLINUX | 1 << 32)",
                ioctl(BAD_FD, libc::TIOCLINUX | high, byte_address),
                eperm,
            ),
            // The low half of TIOCSTI << 32 is 0, so the filter lets the kernel check the fd.
            probe(
                "ioctl(-1, TIOCSTI << 32)",
                ioctl(BAD_FD, libc::TIOCSTI << 32, byte_address),
                Expected::Errno(libc::EBADF),
            ),
            probe(
                "ioctl(pty, TCGETS)",
                ioctl(pty_fd, libc::TCGETS, termios_address),
                Expected::Success,
            ),
            probe(
                "ioctl(pty, TCGETS | 1 << 32)",
                ioctl(pty_fd, libc::TCGETS | high, termios_address),
                Expected::Success,
            ),
            probe(
                "ioctl(/dev/null, TCGETS)",
                ioctl(null_fd, libc::TCGETS, termios_address),
                Expected::Errno(libc::ENOTTY),
            ),
        ];
        assert_filtered(&probes);
    }

    /// Only the query and PER_LINUX run. The kernel reads the argument as `unsigned int`, so a
    /// bit in the high half changes nothing.
    #[test]
    fn kernel_applies_personality_rule() {
        let personality = |persona: u64| raw(libc::SYS_personality, [persona, 0, 0, 0, 0, 0]);
        let eperm = Expected::Errno(libc::EPERM);
        let read_implies_exec = libc::READ_IMPLIES_EXEC as u64;
        let high = 1u64 << 32;

        let probes = vec![
            probe(
                "personality(0xffffffff)",
                personality(0xffff_ffff),
                Expected::Success,
            ),
            probe("personality(-1)", personality(u64::MAX), Expected::Success),
            probe("personality(PER_LINUX)", personality(0), Expected::Success),
            probe(
                "personality(PER_LINUX | 1 << 32)",
                personality(high),
                Expected::Success,
            ),
            probe(
                "personality(READ_IMPLIES_EXEC)",
                personality(read_implies_exec),
                eperm,
            ),
            probe(
                "personality(READ_IMPLIES_EXEC | 1 << 32)",
                personality(read_implies_exec | high),
                eperm,
            ),
            probe(
                "personality(ADDR_NO_RANDOMIZE)",
                personality(libc::ADDR_NO_RANDOMIZE as u64),
                eperm,
            ),
            probe("personality(UNAME26)", personality(0x0020000), eperm),
        ];
        assert_filtered(&probes);
    }

    /// Returns the nice value of thread or process `who` (0: the calling thread).
    fn current_nice(who: u64) -> i64 {
        // The system call returns 20 - nice, so that no valid result looks like an error.
        let result = raw_syscall(
            libc::SYS_getpriority,
            [libc::PRIO_PROCESS as u64, who, 0, 0, 0, 0],
        );
        assert!(
            result > 0,
            "getpriority({who}) failed with errno {}",
            -result
        );
        20 - result
    }

    /// A uid that no process on the test machine has, so PRIO_USER reaches no process if a
    /// broken filter lets the call through.
    const UNUSED_UID: u64 = 4_000_000_000;

    /// Pid 0 runs, and another pid notifies, which fails with ENOSYS because no listener exists.
    /// The test process is the child's parent. Each nice value written is the current one, so a
    /// broken filter changes no priority.
    #[test]
    fn kernel_applies_pid_rules() {
        let parent = u64::from(std::process::id());
        let own_nice = current_nice(0) as u64;
        let parent_nice = current_nice(parent) as u64;
        let mut old_limit = [0u64; 2];
        let old_limit_address = old_limit.as_mut_ptr() as u64;
        let mut cpu_mask = [0u64; 16];
        let cpu_mask_address = cpu_mask.as_mut_ptr() as u64;
        let cpu_mask_size = std::mem::size_of_val(&cpu_mask) as u64;
        let high = 1u64 << 32;
        let enosys = Expected::Errno(libc::ENOSYS);
        let eperm = Expected::Errno(libc::EPERM);

        let nofile = libc::RLIMIT_NOFILE as u64;
        let prlimit = |pid: u64| {
            raw(
                libc::SYS_prlimit64,
                [pid, nofile, 0, old_limit_address, 0, 0],
            )
        };
        let getaffinity = |pid: u64| {
            raw(
                libc::SYS_sched_getaffinity,
                [pid, cpu_mask_size, cpu_mask_address, 0, 0, 0],
            )
        };
        let getscheduler = |pid: u64| raw(libc::SYS_sched_getscheduler, [pid, 0, 0, 0, 0, 0]);
        let setpriority = |which: u64, who: u64, nice: u64| {
            raw(libc::SYS_setpriority, [which, who, nice, 0, 0, 0])
        };
        let getpriority =
            |which: u64, who: u64| raw(libc::SYS_getpriority, [which, who, 0, 0, 0, 0]);
        let ioprio_get = |which: u64, who: u64| raw(libc::SYS_ioprio_get, [which, who, 0, 0, 0, 0]);
        let process = libc::PRIO_PROCESS as u64;
        let pgrp = libc::PRIO_PGRP as u64;
        let user = libc::PRIO_USER as u64;

        let probes = vec![
            probe("prlimit64(0)", prlimit(0), Expected::Success),
            probe("prlimit64(1 << 32)", prlimit(high), Expected::Success),
            probe("prlimit64(parent)", prlimit(parent), enosys),
            probe(
                "prlimit64(parent | 1 << 32)",
                prlimit(parent | high),
                enosys,
            ),
            probe("sched_getaffinity(0)", getaffinity(0), Expected::Success),
            probe("sched_getaffinity(parent)", getaffinity(parent), enosys),
            probe("sched_getscheduler(0)", getscheduler(0), Expected::Success),
            probe("sched_getscheduler(parent)", getscheduler(parent), enosys),
            probe(
                "setpriority(PRIO_PROCESS, 0)",
                setpriority(process, 0, own_nice),
                Expected::Success,
            ),
            probe(
                "setpriority(PRIO_PROCESS | 1 << 32, 0)",
                setpriority(process | high, 0, own_nice),
                Expected::Success,
            ),
            probe(
                "setpriority(PRIO_PROCESS, parent)",
                setpriority(process, parent, parent_nice),
                enosys,
            ),
            probe(
                "setpriority(PRIO_USER, unused uid)",
                setpriority(user, UNUSED_UID, own_nice),
                eperm,
            ),
            probe(
                "getpriority(PRIO_PROCESS, 0)",
                getpriority(process, 0),
                Expected::Success,
            ),
            probe(
                "getpriority(PRIO_PROCESS, parent)",
                getpriority(process, parent),
                enosys,
            ),
            probe("getpriority(PRIO_PGRP, 0)", getpriority(pgrp, 0), eperm),
            probe("getpriority(PRIO_USER, 0)", getpriority(user, 0), eperm),
            probe(
                "ioprio_get(IOPRIO_WHO_PROCESS, 0)",
                ioprio_get(1, 0),
                Expected::Success,
            ),
            probe(
                "ioprio_get(IOPRIO_WHO_PROCESS, parent)",
                ioprio_get(1, parent),
                enosys,
            ),
            probe("ioprio_get(IOPRIO_WHO_PGRP, 0)", ioprio_get(2, 0), eperm),
            probe("ioprio_get(IOPRIO_WHO_USER, 0)", ioprio_get(3, 0), eperm),
        ];
        assert_filtered(&probes);
    }

    /// Fails when the running kernel implements a number that the table lists as unassigned or
    /// that lies above it, which means the table needs a new row.
    #[test]
    fn kernel_has_no_syscall_missing_from_table() {
        let numbers: Vec<i64> = UNASSIGNED.chain(MAX_SYSCALL + 1..=1023).collect();
        let calls: Vec<Call> = numbers.iter().map(|&nr| raw(nr, INVALID_ARGS)).collect();
        let results = run_in_child(None, &calls);
        for (nr, result) in numbers.iter().zip(results) {
            assert_eq!(
                result,
                -i64::from(libc::ENOSYS),
                "the kernel implements system call {nr}"
            );
        }
    }
}
