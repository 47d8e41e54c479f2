/*
 * Installs a seccomp filter of its own, as any program may, and then opens files. A stacked
 * filter can only restrict its own process further: it must not let an open past the
 * supervisor.
 *
 * Usage: own_filter MODE DENIED ALLOWED
 *   errno     the filter returns SECCOMP_RET_ERRNO(EPERM) for openat. Reports openat_allowed
 *             (EPERM from the program's own filter), then probes with SYS_open, which the
 *             filter lets through to the supervisor.
 *   listener  the filter returns SECCOMP_RET_USER_NOTIF for openat, installed with
 *             SECCOMP_FILTER_FLAG_NEW_LISTENER. A thread replies to every notification with
 *             SECCOMP_USER_NOTIF_FLAG_CONTINUE, which lets the kernel run the open as if
 *             no filter had returned USER_NOTIF. Reports open_denied and open_allowed
 *             through openat, and notifications=N.
 *   trace     the filter returns SECCOMP_RET_TRACE with made-up data for openat and
 *             getppid. Without a tracer the kernel fails those calls with ENOSYS. Under
 *             cordon the supervisor's USER_NOTIF outranks TRACE for openat, and its tracer
 *             gets the getppid stops. Reports getppid, then probes with SYS_openat.
 *
 * Reports: no_new_privs, install, the mode's lines, probe_denied, probe_allowed.
 */
#include "hardening.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

static atomic_long notifications;

/* Installs a filter that returns ACTION for NR (and for SECOND_NR unless it is -1) and
   allows every other call. Returns the seccomp() result: 0, a listener fd, or -1. */
static long install_filter(int nr, int second_nr, unsigned int action, unsigned int flags)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)second_nr, 2, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, action),
    };
    struct sock_fprog program = {sizeof code / sizeof code[0], code};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
}

/* Replies CONTINUE to every notification on the listener until the listener fails. It
   makes no openat call itself, so it never waits for its own reply. */
static void *continue_everything(void *argument)
{
    int listener = (int)(long)argument;
    for (;;) {
        struct seccomp_notif request;
        memset(&request, 0, sizeof request);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        struct seccomp_notif_resp response;
        memset(&response, 0, sizeof response);
        response.id = request.id;
        response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0)
            atomic_fetch_add(&notifications, 1);
    }
}

static void open_and_report(const char *call, const char *path)
{
    long fd = open_with(SYS_openat, path);
    report_call(call, fd);
    if (fd >= 0)
        report_content((int)fd);
}

static void run_errno(const char *allowed)
{
    long result = install_filter(SYS_openat, -1, SECCOMP_RET_ERRNO | EPERM, 0);
    report_call("install", result);
    report_call("openat_allowed", open_with(SYS_openat, allowed));
}

static void run_listener(const char *denied, const char *allowed)
{
    long listener = install_filter(SYS_openat, -1, SECCOMP_RET_USER_NOTIF,
                                   SECCOMP_FILTER_FLAG_NEW_LISTENER);
    report_call("install", listener);
    if (listener >= 0) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, continue_everything, (void *)listener) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(2);
        }
    }
    open_and_report("open_denied", denied);
    open_and_report("open_allowed", allowed);
    printf("notifications=%ld\n", atomic_load(&notifications));
}

static void run_trace(void)
{
    long result = install_filter(SYS_openat, SYS_getppid, SECCOMP_RET_TRACE | 0x1234, 0);
    report_call("install", result);
    report_call("getppid", syscall(SYS_getppid));
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 3, "errno|listener|trace DENIED ALLOWED");
    start_report();
    const char *mode = argv[1];
    const char *denied = argv[2];
    const char *allowed = argv[3];

    /* Installing a filter without CAP_SYS_ADMIN requires no_new_privs. */
    report_call("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

    long probe_nr = SYS_open;
    if (strcmp(mode, "errno") == 0) {
        run_errno(allowed);
    } else if (strcmp(mode, "listener") == 0) {
        run_listener(denied, allowed);
        probe_nr = SYS_openat;
    } else if (strcmp(mode, "trace") == 0) {
        run_trace();
        probe_nr = SYS_openat;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }

    probe_supervisor(probe_nr, denied, allowed);
    return 0;
}
