/* Shared helpers of the microbenchmarks: argument parsing, a monotonic clock and the
 * result line. Each program times ITERATIONS calls in-process, after an untimed warm-up
 * of a tenth as many, and prints the mean wall time per iteration in nanoseconds. */
#ifndef MICRO_H
#define MICRO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parses argv[1] as the iteration count. Exits with status 2 and a usage line when argc
 * differs from expected_argc or the count is not a positive integer. */
static inline long parse_iterations(int argc, char **argv, int expected_argc, const char *usage) {
    if (argc != expected_argc) {
        fprintf(stderr, "usage: %s %s\n", argv[0], usage);
        exit(2);
    }
    char *end;
    long iterations = strtol(argv[1], &end, 10);
    if (*end != '\0' || iterations < 1) {
        fprintf(stderr, "%s: invalid iteration count \"%s\", expected a positive integer\n",
                argv[0], argv[1]);
        exit(2);
    }
    return iterations;
}

/* Prints the result line that bench/run.py parses: nanoseconds per iteration. */
static inline void report(long long elapsed_ns, long iterations) {
    printf("%.1f\n", (double)elapsed_ns / (double)iterations);
}

/* Exits with status 1 after naming the failed call and its errno. */
static inline void fail(const char *call_name) {
    fprintf(stderr, "%s failed: %s\n", call_name, strerror(errno));
    exit(1);
}

#endif
