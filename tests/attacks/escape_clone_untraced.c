/*
 * Creates a child with raw clone(CLONE_UNTRACED | SIGCHLD), which the kernel does not
 * attach to the parent's tracer even with PTRACE_O_TRACECLONE, and lets the child read
 * SECRET. An untraced child escapes the exec, chdir and mmap checks that the tracer performs.
 * The sandbox must fail the clone with EPERM, so no child runs.
 *
 * Reports: clone, then from the child child_open and content; from the parent child_exit.
 */
#include "escape.h"

#include <sched.h>
#include <signal.h>

static void run_child(const char *secret)
{
    long fd = syscall(SYS_openat, AT_FDCWD, secret, O_RDONLY | O_CLOEXEC);
    report_call("child_open", fd);
    if (fd >= 0)
        report_content((int)fd);
    _exit(0);
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 1, "SECRET");
    start_report();

    /* x86_64 argument order: flags, stack, parent_tid, child_tid, tls. A null stack makes
       the child continue on its copy of the parent's stack, as after fork. */
    long pid = syscall(SYS_clone, (long)(CLONE_UNTRACED | SIGCHLD), 0L, 0L, 0L, 0L);
    if (pid == 0)
        run_child(argv[1]);
    report_call("clone", pid);
    if (pid < 0)
        return 0;

    int status;
    if (waitpid((pid_t)pid, &status, 0) < 0) {
        perror("waitpid");
        return 2;
    }
    printf("child_exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
