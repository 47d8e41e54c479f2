/* A cheap trapped call: the faccessat system call on "/" with F_OK. It is made with
 * syscall(2) because glibc's faccessat() calls faccessat2 since glibc 2.33. cordon sends
 * access, faccessat and faccessat2 to its supervisor unless the policy qualifies for the
 * kernel-only path. */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "micro.h"

int main(int argc, char **argv) {
    long iterations = parse_iterations(argc, argv, 2, "ITERATIONS");
    for (long i = 0; i < iterations / 10; i++) {
        if (syscall(SYS_faccessat, AT_FDCWD, "/", F_OK) != 0) fail("faccessat");
    }
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) {
        if (syscall(SYS_faccessat, AT_FDCWD, "/", F_OK) != 0) fail("faccessat");
    }
    report(now_ns() - start, iterations);
    return 0;
}
