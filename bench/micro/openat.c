/* openat(AT_FDCWD, PATH, O_RDONLY | O_CLOEXEC) and close of an allowed file. Only the
 * open can reach cordon's supervisor, because close is never trapped. */
#include <fcntl.h>
#include <unistd.h>

#include "micro.h"

static void open_and_close(const char *path) {
    int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("openat");
    close(fd);
}

int main(int argc, char **argv) {
    long iterations = parse_iterations(argc, argv, 3, "ITERATIONS PATH");
    const char *path = argv[2];
    for (long i = 0; i < iterations / 10; i++) open_and_close(path);
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) open_and_close(path);
    report(now_ns() - start, iterations);
    return 0;
}
