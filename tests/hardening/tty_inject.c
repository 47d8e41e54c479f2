/*
 * Tries to push input into the terminal on stdin with TIOCSTI and to reach the console with
 * TIOCLINUX, each once as the plain request and once with bit 32 of the request set. The
 * kernel ignores the high half of the request, so a filter that compares all 64 bits lets
 * the second form through. Under cordon all four must fail with EPERM. Natively, with stdin
 * not a terminal, the terminal driver returns ENOTTY.
 *
 * Usage: tty_inject DENIED ALLOWED
 * Reports: tiocsti, tiocsti_high, tioclinux, tioclinux_high, probe_denied, probe_allowed.
 */
#include "hardening.h"

#include <sys/ioctl.h>

/* The TIOCLINUX subcode that reads the console's shift state: harmless if it ran. */
#define TIOCL_GETSHIFTSTATE 6

static void try_ioctl(const char *call, unsigned long request, void *argument)
{
    report_call(call, syscall(SYS_ioctl, 0, request, argument));
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 2, "DENIED ALLOWED");
    start_report();
    const unsigned long high_bit = 1UL << 32;

    char input = '\n';
    try_ioctl("tiocsti", TIOCSTI, &input);
    try_ioctl("tiocsti_high", TIOCSTI | high_bit, &input);

    char subcode = TIOCL_GETSHIFTSTATE;
    try_ioctl("tioclinux", TIOCLINUX, &subcode);
    subcode = TIOCL_GETSHIFTSTATE;
    try_ioctl("tioclinux_high", TIOCLINUX | high_bit, &subcode);

    probe_supervisor(SYS_openat, argv[1], argv[2]);
    return 0;
}
