/*
 * Helpers shared by the escape programs. Each escape program takes the path of the secret
 * file, tries to read it through one route around the supervisor, and reports on stdout,
 * one line each:
 *     CALL=ok            the call succeeded
 *     CALL=ERRNONAME     the call failed, for example io_uring_setup=ENOSYS
 *     content=BYTES      the bytes it read (only after a successful open)
 * Exit status 2 means the harness itself failed.
 */
#ifndef CORDON_ESCAPE_H
#define CORDON_ESCAPE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Makes stdout unbuffered, so a forked child does not print the parent's pending output
 * again and lines of parent and child keep their order.
 */
static inline void start_report(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
}

/* Prints CALL=ok, or CALL=ERRNONAME for the errno value `error`. */
static inline void report_error(const char *call, int error)
{
    if (error == 0) {
        printf("%s=ok\n", call);
        return;
    }
    const char *name = strerrorname_np(error);
    if (name != NULL)
        printf("%s=%s\n", call, name);
    else
        printf("%s=errno%d\n", call, error);
}

/* Reports the result of a call that returns -1 and sets errno on failure. */
static inline void report_call(const char *call, long result)
{
    report_error(call, result < 0 ? errno : 0);
}

/* Prints what FD returns as a `content=` line, then closes FD. */
static inline void report_content(int fd)
{
    char bytes[256];
    ssize_t length = read(fd, bytes, sizeof bytes);
    close(fd);
    if (length < 0) {
        report_call("read", -1);
        return;
    }
    printf("content=%.*s\n", (int)length, bytes);
}

static inline void check_usage(int argc, char **argv, int expected, const char *operands)
{
    if (argc != expected + 1) {
        fprintf(stderr, "usage: %s %s\n", argv[0], operands);
        exit(2);
    }
}

#endif
