/*
 * Forks COUNT children and never reaps them. Each child waits for the end of stdin and
 * exits. Under a process limit, children beyond the limit are killed as they are created,
 * and each one stays behind as a zombie that keeps its pid, because this parent
 * never calls wait.
 *
 * Usage: unreaped_children COUNT
 * Prints forked=N failed=M once all forks returned, then waits for the end of stdin.
 */
#include "hardening.h"

int main(int argc, char **argv)
{
    check_usage(argc, argv, 1, "COUNT");
    start_report();
    long count = atol(argv[1]);
    long forked = 0;
    long failed = 0;
    for (long i = 0; i < count; i++) {
        pid_t child = fork();
        if (child == 0) {
            wait_for_stdin_end();
            _exit(0);
        }
        if (child < 0)
            failed++;
        else
            forked++;
    }
    printf("forked=%ld failed=%ld\n", forked, failed);
    wait_for_stdin_end();
    return 0;
}
