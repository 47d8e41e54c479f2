/*
 * Forged trace data: installs a seccomp filter of its own that returns
 * SECCOMP_RET_TRACE | 0x1234 for execve and getpid. The kernel reports the most recently
 * installed filter's data to the tracer, so a tracer that decided by that data instead of
 * the syscall number would skip the exec check or mistake getpid for a checked call.
 * Without a tracer the kernel fails both calls with ENOSYS.
 *
 * Usage: forged_trace DENIED ALLOWED MARKERS
 *
 * Prints one line per step:
 *   install=ok|ERRNO        PR_SET_NO_NEW_PRIVS and the filter
 *   exec_denied=RESULT      a forked child execs DENIED with MARKERS as its argument
 *   exec_allowed=RESULT     the same for ALLOWED
 *   getpid=ok|wrong|ERRNO   ok when getpid returns the main thread's id
 * where RESULT is `ran` (the child exited 0), the exec's errno name, `signal N` or
 * `exit N`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FORGED_DATA 0x1234
/* A child whose exec failed exits with this plus errno. */
#define EXEC_FAILED 100

static const char *errno_name(int error)
{
    const char *name = strerrorname_np(error);
    return name != NULL ? name : "unknown";
}

static long install_filter(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | FORGED_DATA),
    };
    struct sock_fprog program = {sizeof code / sizeof code[0], code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

static void report_exec(const char *label, const char *path, const char *markers)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)path, (char *)markers, NULL};
        syscall(SYS_execve, path, argv, environ);
        _exit(EXEC_FAILED + (errno < 155 ? errno : 155));
    }
    if (pid < 0) {
        printf("%s=fork-%s\n", label, errno_name(errno));
        return;
    }
    int status;
    while (waitpid(pid, &status, 0) != pid) {
        if (errno != EINTR) {
            printf("%s=waitpid-%s\n", label, errno_name(errno));
            return;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        printf("%s=ran\n", label);
    else if (WIFEXITED(status) && WEXITSTATUS(status) >= EXEC_FAILED)
        printf("%s=%s\n", label, errno_name(WEXITSTATUS(status) - EXEC_FAILED));
    else if (WIFSIGNALED(status))
        printf("%s=signal %d\n", label, WTERMSIG(status));
    else
        printf("%s=exit %d\n", label, WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DENIED ALLOWED MARKERS\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);

    if (install_filter() != 0) {
        printf("install=%s\n", errno_name(errno));
        return 1;
    }
    printf("install=ok\n");

    report_exec("exec_denied", argv[1], argv[3]);
    report_exec("exec_allowed", argv[2], argv[3]);

    long pid = syscall(SYS_getpid);
    if (pid < 0)
        printf("getpid=%s\n", errno_name(errno));
    else
        printf("getpid=%s\n", pid == syscall(SYS_gettid) ? "ok" : "wrong");
    return 0;
}
