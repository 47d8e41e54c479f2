/* fstatat(AT_FDCWD, PATH, &st, 0) of an allowed file (the newfstatat system call), which
 * cordon traps when the policy has stat or hide rules. */
#include <fcntl.h>
#include <sys/stat.h>

#include "micro.h"

int main(int argc, char **argv) {
    long iterations = parse_iterations(argc, argv, 3, "ITERATIONS PATH");
    const char *path = argv[2];
    struct stat st;
    for (long i = 0; i < iterations / 10; i++) {
        if (fstatat(AT_FDCWD, path, &st, 0) != 0) fail("fstatat");
    }
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) {
        if (fstatat(AT_FDCWD, path, &st, 0) != 0) fail("fstatat");
    }
    report(now_ns() - start, iterations);
    return 0;
}
