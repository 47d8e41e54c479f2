/*
 * Runs a binary from a memfd: copies BINARY into memfd_create("marker"), then calls
 * execveat(memfd, "", argv, envp, AT_EMPTY_PATH). The memfd has no path, so cordon names it
 * "memfd:marker" and `--deny-exec 'memfd:*'` must refuse it.
 *
 * Usage: memfd_exec BINARY MARKERS
 *
 * On success the binary replaces this program (the marker program appends to
 * MARKERS/memfd:marker). Otherwise it prints `execveat=ERRNO_NAME` and exits 1; exit
 * status 2 means a step before the exec failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what, const char *object)
{
    fprintf(stderr, "%s %s: %s\n", what, object, strerror(errno));
    return 2;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BINARY MARKERS\n", argv[0]);
        return 2;
    }
    int in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fail("open", argv[1]);
    int memfd = memfd_create("marker", MFD_CLOEXEC);
    if (memfd < 0)
        return fail("memfd_create", "marker");
    char block[65536];
    ssize_t length;
    while ((length = read(in, block, sizeof block)) > 0) {
        if (write(memfd, block, (size_t)length) != length)
            return fail("write", "memfd");
    }
    if (length < 0)
        return fail("read", argv[1]);
    close(in);

    char *child_argv[] = {"marker", argv[2], NULL};
    syscall(SYS_execveat, memfd, "", child_argv, environ, AT_EMPTY_PATH);
    const char *name = strerrorname_np(errno);
    printf("execveat=%s\n", name != NULL ? name : "unknown");
    return 1;
}
