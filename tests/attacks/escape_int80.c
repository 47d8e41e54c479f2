/*
 * Opens SECRET through the 32-bit `int 0x80` entry from a 64-bit process. Number 5 is open
 * in the i386 table but fstat in the x86_64 table, so a filter that ignores the
 * architecture field would let it through as fstat. The pointer in ebx has only 32 bits,
 * so the path is copied into memory mapped below 4 GiB. The sandbox must fail it with
 * ENOSYS.
 *
 * Reports: int80_open, content.
 */
#include "escape.h"

#include <sys/mman.h>

#define I386_OPEN 5L

/* Runs the i386 open through int 0x80 and returns the fd or -errno. */
static long int80_open(const char *path, long flags)
{
    long result;
    /* Older kernels did not preserve r8-r11 on this entry, so they are declared clobbered. */
    __asm__ volatile("int $0x80"
                     : "=a"(result)
                     : "0"(I386_OPEN), "b"(path), "c"(flags), "d"(0L)
                     : "memory", "r8", "r9", "r10", "r11");
    return result;
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 1, "SECRET");
    start_report();

    size_t length = strlen(argv[1]) + 1;
    char *low = mmap(NULL, length, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) {
        perror("mmap MAP_32BIT");
        return 2;
    }
    memcpy(low, argv[1], length);

    long fd = int80_open(low, O_RDONLY);
    report_error("int80_open", fd < 0 ? (int)-fd : 0);
    if (fd >= 0)
        report_content((int)fd);
    return 0;
}
