/*
 * Starts WORKERS processes (the main process and WORKERS - 1 forked workers). Once all of
 * them exist, each forks COUNT children one after the other. Each child writes one byte to
 * a shared pipe and exits at once, and its parent reaps it before the next fork. Under
 * `--max-processes WORKERS` every child is beyond the limit, so the supervisor must kill
 * each one before it runs any code, and no byte may arrive. write(2) on a pipe is not
 * trapped, so a child that runs at all gets its byte through. Several workers keep the
 * tracer busy, which is when a child's first stop can reach it before the parent's fork
 * event.
 *
 * Usage: limit_race WORKERS COUNT
 * Prints forked=N ran=M: the children forked by all workers and those that wrote a byte.
 * Forks refused with EAGAIN (a process limit) are not counted as forked.
 * Exit status 2 means the harness failed, for example because a worker was killed.
 */
#include <errno.h>

#include "hardening.h"

/* Forks COUNT children one after the other and returns how many forks succeeded. */
static long fork_children(long count, int mark)
{
    long forked = 0;
    for (long i = 0; i < count; i++) {
        pid_t child = fork();
        if (child == 0) {
            ssize_t written = write(mark, "x", 1);
            _exit(written == 1 ? 0 : 1);
        }
        if (child < 0 && errno == EAGAIN)
            continue; /* refused by a process limit: nothing was created */
        if (child < 0) {
            perror("fork");
            exit(2);
        }
        forked++;
        waitpid(child, NULL, 0);
    }
    return forked;
}

/* Runs one worker: waits until the start pipe is closed, forks, and writes its count. */
static void run_worker(long count, int start, int mark, int total)
{
    char byte;
    if (read(start, &byte, 1) != 0)
        _exit(2);
    long forked = fork_children(count, mark);
    if (write(total, &forked, sizeof forked) != sizeof forked)
        _exit(2);
    _exit(0);
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 2, "WORKERS COUNT");
    long workers = atol(argv[1]);
    long count = atol(argv[2]);
    int start[2];
    int marks[2];
    int totals[2];
    if (workers < 1 || count < 0) {
        fprintf(stderr, "WORKERS must be positive and COUNT not negative\n");
        return 2;
    }
    if (pipe2(start, O_CLOEXEC) != 0 || pipe2(marks, O_CLOEXEC) != 0 ||
        pipe2(totals, O_CLOEXEC) != 0) {
        perror("pipe2");
        return 2;
    }

    for (long i = 1; i < workers; i++) {
        pid_t worker = fork();
        if (worker == 0) {
            close(start[1]);
            run_worker(count, start[0], marks[1], totals[1]);
        }
        if (worker < 0) {
            perror("fork");
            return 2;
        }
    }
    /* Closing the write ends starts the workers, and lets the reads below end if a worker
       dies without writing its count. */
    close(start[1]);
    close(totals[1]);

    long forked = fork_children(count, marks[1]);
    for (long i = 1; i < workers; i++) {
        long worker_forked = 0;
        if (read(totals[0], &worker_forked, sizeof worker_forked) != sizeof worker_forked) {
            fprintf(stderr, "a worker ended without reporting its count\n");
            return 2;
        }
        forked += worker_forked;
    }
    while (wait(NULL) > 0)
        ;
    close(marks[1]);

    long ran = 0;
    char bytes[256];
    ssize_t length;
    while ((length = read(marks[0], bytes, sizeof bytes)) > 0)
        ran += length;
    printf("forked=%ld ran=%ld\n", forked, ran);
    return 0;
}
