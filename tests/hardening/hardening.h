/*
 * Helpers shared by the hardening programs, on top of the report format of the escape
 * programs (CALL=ok or CALL=ERRNONAME, one line each, see ../attacks/escape.h).
 *
 * Each attack program ends with probe_supervisor(): after an attack on the supervisor or
 * the host, the supervisor must still work, so a denied open still fails with EACCES and
 * an allowed open still succeeds.
 */
#ifndef CORDON_HARDENING_H
#define CORDON_HARDENING_H

#include "../attacks/escape.h"

/* Parses a pid operand, or exits with status 2. "parent" names the parent process, which is
   the supervisor when cordon runs the program directly. */
static inline pid_t parse_pid(const char *text)
{
    if (strcmp(text, "parent") == 0)
        return getppid();
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 0) {
        fprintf(stderr, "invalid pid %s\n", text);
        exit(2);
    }
    return (pid_t)value;
}

/* Opens PATH read-only with the raw system call NR (SYS_open or SYS_openat). */
static inline long open_with(long nr, const char *path)
{
    if (nr == SYS_open)
        return syscall(SYS_open, path, O_RDONLY | O_CLOEXEC);
    return syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

/* Opens DENIED and ALLOWED once each with system call NR and reports probe_denied and
   probe_allowed, followed by a content= line for each open that succeeded. */
static inline void probe_supervisor(long nr, const char *denied, const char *allowed)
{
    long fd = open_with(nr, denied);
    report_call("probe_denied", fd);
    if (fd >= 0)
        report_content((int)fd);

    fd = open_with(nr, allowed);
    report_call("probe_allowed", fd);
    if (fd >= 0)
        report_content((int)fd);
}

/* Reads stdin until its end, so the test decides when the program exits. */
static inline void wait_for_stdin_end(void)
{
    char bytes[64];
    while (read(0, bytes, sizeof bytes) > 0)
        ;
}

#endif
