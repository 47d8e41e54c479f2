/*
 * Opens SECRET through the x32 entry of open (syscall number 2 with __X32_SYSCALL_BIT
 * set). A filter that only compares syscall numbers of the x86_64 table would let it
 * through. The sandbox must fail it with ENOSYS. Kernels built without x32 support, or
 * booted with it disabled, give ENOSYS natively as well.
 *
 * Reports: x32_open, content.
 */
#include "escape.h"

#define X32_SYSCALL_BIT 0x40000000L
#define X32_OPEN 2L

int main(int argc, char **argv)
{
    check_usage(argc, argv, 1, "SECRET");
    start_report();

    long fd = syscall(X32_SYSCALL_BIT | X32_OPEN, argv[1], O_RDONLY);
    report_call("x32_open", fd);
    if (fd >= 0)
        report_content((int)fd);
    return 0;
}
