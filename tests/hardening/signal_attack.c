/*
 * Sends signals to TARGET through every route a process has: kill, tkill, tgkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal, a process-group kill, kill(-1) and
 * SIGIO ownership of a pipe (F_SETOWN + F_SETSIG + O_ASYNC, then a write). Under cordon,
 * Landlock's signal scoping must reject each of them for a process outside the sandbox.
 *
 * Usage: signal_attack TARGET PGID ROUTES DENIED ALLOWED
 *   TARGET  a pid, or "parent" (the supervisor when cordon runs this program)
 *   PGID    the process group kill_pgrp sends to, or 0 to skip that route
 *   ROUTES  comma-separated route names. "all" stands for every route except kill_all,
 *           which signals every process the caller may signal and must be named itself
 *
 * Reports: target=PID, one CALL=RESULT line per call, then probe_denied and probe_allowed.
 */
#include "hardening.h"

#include <signal.h>

static pid_t target;
static pid_t target_group;

/* Builds the siginfo a sigqueue() call sends. A negative si_code is required to queue a
   signal to another process. */
static siginfo_t queued_info(int signal)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = signal;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    return info;
}

static void route_kill_stop(void)
{
    report_call("kill_stop", kill(target, SIGSTOP));
}

static void route_kill_term(void)
{
    report_call("kill_term", kill(target, SIGTERM));
}

static void route_kill_kill(void)
{
    report_call("kill_kill", kill(target, SIGKILL));
}

static void route_tkill(void)
{
    report_call("tkill", syscall(SYS_tkill, target, SIGKILL));
}

static void route_tgkill(void)
{
    report_call("tgkill", syscall(SYS_tgkill, target, target, SIGKILL));
}

static void route_rt_sigqueueinfo(void)
{
    siginfo_t info = queued_info(SIGKILL);
    report_call("rt_sigqueueinfo", syscall(SYS_rt_sigqueueinfo, target, SIGKILL, &info));
}

static void route_rt_tgsigqueueinfo(void)
{
    siginfo_t info = queued_info(SIGKILL);
    long result = syscall(SYS_rt_tgsigqueueinfo, target, target, SIGKILL, &info);
    report_call("rt_tgsigqueueinfo", result);
}

static void route_pidfd(void)
{
    long pidfd = syscall(SYS_pidfd_open, target, 0);
    report_call("pidfd_open", pidfd);
    if (pidfd < 0)
        return;
    report_call("pidfd_send_signal", syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0));
    close((int)pidfd);
}

static void route_kill_pgrp(void)
{
    report_call("kill_pgrp", kill(-target_group, SIGKILL));
}

static void route_kill_all(void)
{
    /* Linux returns 0 when it found any process to try, even if every signal was rejected
       with EPERM, so only the targets' survival shows the result. */
    report_call("kill_all", kill(-1, SIGKILL));
}

/* Makes TARGET the owner of a pipe's read end with SIGTERM as its I/O signal, then writes
   to the pipe, which makes the kernel send that signal to the owner. */
static void route_fsetown(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        perror("pipe2");
        exit(2);
    }
    report_call("f_setown", fcntl(fds[0], F_SETOWN, target));
    report_call("f_setsig", fcntl(fds[0], F_SETSIG, SIGTERM));
    int flags = fcntl(fds[0], F_GETFL);
    report_call("o_async", fcntl(fds[0], F_SETFL, flags | O_ASYNC));
    report_call("pipe_write", write(fds[1], "x", 1));
    close(fds[0]);
    close(fds[1]);
}

struct route {
    const char *name;
    void (*run)(void);
    int in_all;
};

/* The order puts the stopping and terminating signals first: if one of them reached the
   supervisor, the later calls and the probe hang or die, and the test fails. */
static const struct route routes[] = {
    {"kill_stop", route_kill_stop, 1},
    {"kill_term", route_kill_term, 1},
    {"tkill", route_tkill, 1},
    {"tgkill", route_tgkill, 1},
    {"rt_sigqueueinfo", route_rt_sigqueueinfo, 1},
    {"rt_tgsigqueueinfo", route_rt_tgsigqueueinfo, 1},
    {"pidfd", route_pidfd, 1},
    {"fsetown", route_fsetown, 1},
    {"kill_pgrp", route_kill_pgrp, 1},
    {"kill_kill", route_kill_kill, 1},
    {"kill_all", route_kill_all, 0},
};

/* Returns whether NAME is one of the comma-separated names in LIST. */
static int listed(const char *list, const char *name)
{
    size_t length = strlen(name);
    const char *item = list;
    for (;;) {
        const char *end = strchr(item, ',');
        size_t item_length = end != NULL ? (size_t)(end - item) : strlen(item);
        if (item_length == length && strncmp(item, name, length) == 0)
            return 1;
        if (end == NULL)
            return 0;
        item = end + 1;
    }
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 5, "TARGET PGID ROUTES DENIED ALLOWED");
    start_report();
    target = parse_pid(argv[1]);
    target_group = parse_pid(argv[2]);
    const char *selection = argv[3];
    int all = listed(selection, "all");
    printf("target=%d\n", (int)target);

    size_t matched = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *route = &routes[i];
        int chosen = (all && route->in_all) || listed(selection, route->name);
        if (route->run == route_kill_pgrp && target_group == 0)
            chosen = 0;
        if (chosen) {
            route->run();
            matched++;
        }
    }
    if (matched == 0) {
        fprintf(stderr, "no route selected by %s\n", selection);
        return 2;
    }

    probe_supervisor(SYS_openat, argv[4], argv[5]);
    return 0;
}
