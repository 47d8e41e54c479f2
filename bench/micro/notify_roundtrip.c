/* The floor under every call cordon traps: one seccomp user-notification round trip with no
 * work in it. The measuring process installs a filter that sends the faccessat system call
 * (made with syscall(2), as in faccessat.c) to a listener. A forked supervisor process
 * responds to each notification with 0 without performing the call. One call therefore costs
 * the filter, the wake-up of the supervisor, its RECV and SEND ioctls and the wake-up of
 * the caller.
 *
 * MODE is one of:
 *   plain         default wake-ups
 *   sync          SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP set on the listener (Linux 6.6), as
 *                 cordon sets it
 *   plain-pinned, sync-pinned   the same with both processes pinned to the first allowed CPU
 * Runs natively only: the kernel refuses a second listener in a process's filter chain
 * (EBUSY), so it cannot run under cordon. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "micro.h"

/* Older uapi headers (before Linux 6.6) lack these two. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static void send_fd(int socket, int fd) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    struct msghdr message = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    if (sendmsg(socket, &message, 0) != 1) fail("sendmsg");
}

static int receive_fd(int socket) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr message = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    if (recvmsg(socket, &message, 0) != 1) fail("recvmsg");
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header == NULL || header->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "recvmsg: no file descriptor received\n");
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof(int));
    return fd;
}

/* Responds to every notification with the return value 0 until the listener closes. */
static void serve(int socket, int sync_wake_up) {
    int listener = receive_fd(socket);
    if (sync_wake_up) {
        __u64 flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) != 0) fail("SECCOMP_IOCTL_NOTIF_SET_FLAGS");
    }
    char ready = 1;
    if (write(socket, &ready, 1) != 1) fail("write");

    struct seccomp_notif request;
    struct seccomp_notif_resp response;
    for (;;) {
        memset(&request, 0, sizeof(request));
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
            if (errno == EINTR) continue;
            _exit(0); /* the measuring process has exited */
        }
        memset(&response, 0, sizeof(response));
        response.id = request.id;
        /* ENOENT means the caller was killed meanwhile, which only happens at the end. */
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response);
    }
}

static int install_filter(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_faccessat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
    int listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
    if (listener < 0) fail("seccomp(SECCOMP_SET_MODE_FILTER)");
    return listener;
}

static void pin_to_first_cpu(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) fail("sched_getaffinity");
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (sched_setaffinity(0, sizeof(one), &one) != 0) fail("sched_setaffinity");
            return;
        }
    }
}

int main(int argc, char **argv) {
    long iterations = parse_iterations(argc, argv, 3, "ITERATIONS plain|sync|plain-pinned|sync-pinned");
    const char *mode = argv[2];
    int sync_wake_up = strncmp(mode, "sync", 4) == 0;
    int pinned = strstr(mode, "-pinned") != NULL;
    if (!sync_wake_up && strncmp(mode, "plain", 5) != 0) {
        fprintf(stderr, "%s: invalid mode \"%s\", expected plain, sync, plain-pinned or sync-pinned\n", argv[0], mode);
        return 2;
    }
    if (pinned) pin_to_first_cpu();

    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) fail("socketpair");
    pid_t supervisor = fork();
    if (supervisor < 0) fail("fork");
    if (supervisor == 0) {
        close(sockets[0]);
        serve(sockets[1], sync_wake_up);
    }
    close(sockets[1]);

    int listener = install_filter();
    send_fd(sockets[0], listener);
    close(listener);
    char ready;
    if (read(sockets[0], &ready, 1) != 1) fail("read");

    /* The supervisor responds with 0 without performing the call, so the path is never used. */
    for (long i = 0; i < iterations / 10; i++) {
        if (syscall(SYS_faccessat, AT_FDCWD, "/", F_OK) != 0) fail("faccessat");
    }
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) {
        if (syscall(SYS_faccessat, AT_FDCWD, "/", F_OK) != 0) fail("faccessat");
    }
    report(now_ns() - start, iterations);

    kill(supervisor, SIGKILL);
    waitpid(supervisor, NULL, 0);
    return 0;
}
