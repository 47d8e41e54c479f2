/*
 * Creates a child with clone3 and lets it read SECRET. clone3 takes its flags from memory,
 * where a seccomp filter cannot look, so a filter cannot tell a CLONE_UNTRACED clone3 from
 * a plain one. The sandbox must fail clone3 with ENOSYS (C libraries then fall back to
 * clone, whose flags the filter can check).
 *
 * Reports: clone3, then from the child child_open and content; from the parent child_exit.
 */
#include "escape.h"

#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>

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

    /* Without CLONE_VM and with no stack given, the child continues on its copy of the
       parent's stack, as after fork. */
    struct clone_args args = {.flags = CLONE_UNTRACED, .exit_signal = SIGCHLD};
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        run_child(argv[1]);
    report_call("clone3", pid);
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
