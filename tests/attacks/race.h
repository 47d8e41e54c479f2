/*
 * Helpers shared by the race programs, on top of ../common/race_common.h: classifying
 * what an open returned, and the result line.
 *
 * Every race program is run as
 *     PROGRAM prepare DIR               create the files of the race below DIR
 *     PROGRAM run DIR MILLISECONDS [VARIANT]
 * and `run` prints one line on stdout:
 *     allowed=N denied=M other=K swaps=S
 * where N counts opens that returned the PUBLIC file, M opens that returned the SECRET
 * file, K failed opens (errno counts go to stderr), and S the changes the racing thread
 * made to the file system or the path buffer. Exit status 2 means the harness itself failed.
 */
#ifndef CORDON_RACE_H
#define CORDON_RACE_H

#include "../common/race_common.h"

#define PUBLIC_BYTES "PUBLIC\n"
#define SECRET_BYTES "SECRET\n"

/* errno values at or above this are counted together in the last slot. */
#define ERRNO_SLOTS 160

struct tally {
    unsigned long allowed;
    unsigned long denied;
    unsigned long other;
    unsigned long errors[ERRNO_SLOTS];
};

/* Changes made by the racing thread, reported as `swaps`. */
static atomic_ulong race_swaps;

/* Parses the command line of a race program, whose `prepare` takes no marker. */
static inline struct race_args parse_race_args(int argc, char **argv, const char *variants)
{
    return parse_race_command(argc, argv, 0, variants);
}

/*
 * Counts the result of one open: a negative fd counts as `other` with its errno, an fd is
 * read, closed and counted by the bytes it returned.
 */
static inline void record_open(struct tally *tally, long fd)
{
    if (fd < 0) {
        int slot = errno < ERRNO_SLOTS ? errno : ERRNO_SLOTS - 1;
        tally->other++;
        tally->errors[slot]++;
        return;
    }
    char bytes[32] = {0};
    ssize_t length = read((int)fd, bytes, sizeof bytes - 1);
    close((int)fd);
    if (length > 0 && strcmp(bytes, PUBLIC_BYTES) == 0)
        tally->allowed++;
    else if (length > 0 && strcmp(bytes, SECRET_BYTES) == 0)
        tally->denied++;
    else
        tally->other++;
}

static inline void print_tally(const struct tally *tally)
{
    printf("allowed=%lu denied=%lu other=%lu swaps=%lu\n", tally->allowed, tally->denied,
           tally->other, atomic_load(&race_swaps));
    fprintf(stderr, "failed opens by errno:");
    for (int slot = 0; slot < ERRNO_SLOTS; slot++) {
        if (tally->errors[slot] != 0) {
            const char *name = strerrorname_np(slot);
            fprintf(stderr, " %s=%lu", name != NULL ? name : "other", tally->errors[slot]);
        }
    }
    fprintf(stderr, "\n");
}

/*
 * Runs `racer` on a new thread and calls `attempt` in a loop until the time is up, then
 * stops the racer and prints the tally.
 */
static inline void run_race(long milliseconds, void *(*racer)(void *), void *racer_arg,
                     long (*attempt)(void *), void *attempt_arg)
{
    struct tally tally = {0};
    pthread_t thread = start_thread(racer, racer_arg);
    long long deadline = monotonic_ms() + milliseconds;
    while (monotonic_ms() < deadline)
        record_open(&tally, attempt(attempt_arg));
    atomic_store(&race_over, 1);
    pthread_join(thread, NULL);
    print_tally(&tally);
}

#endif
