/*
 * Helpers shared by the race programs: the command line, the time limit, the file layout,
 * classifying what an open returned, and the result line.
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

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

struct race_args {
    const char *command;
    const char *dir;
    long milliseconds;
    const char *variant;
};

/* Set by the main thread when the time is up; the racing thread stops on it. */
static atomic_int race_over;

/* Changes made by the racing thread, reported as `swaps`. */
static atomic_ulong race_swaps;

static inline void fail(const char *what, const char *object)
{
    fprintf(stderr, "%s %s: %s\n", what, object, strerror(errno));
    exit(2);
}

static inline long long monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static inline struct race_args parse_race_args(int argc, char **argv, const char *variants)
{
    struct race_args args = {0};
    if (argc == 3 && strcmp(argv[1], "prepare") == 0) {
        args.command = "prepare";
        args.dir = argv[2];
        return args;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "run") == 0) {
        args.command = "run";
        args.dir = argv[2];
        args.milliseconds = strtol(argv[3], NULL, 10);
        args.variant = argc == 5 ? argv[4] : "";
        if (args.milliseconds > 0)
            return args;
    }
    fprintf(stderr, "usage: %s prepare DIR | %s run DIR MILLISECONDS %s\n", argv[0], argv[0],
            variants);
    exit(2);
}

/* Joins DIR and a relative name into `out`, which has PATH_MAX bytes. */
static inline void join_path(char *out, const char *dir, const char *name)
{
    int length = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (length < 0 || length >= PATH_MAX) {
        errno = ENAMETOOLONG;
        fail("join path", name);
    }
}

static inline void make_dir(const char *dir, const char *name)
{
    char path[PATH_MAX];
    join_path(path, dir, name);
    if (mkdir(path, 0755) != 0)
        fail("mkdir", path);
}

static inline void write_file(const char *dir, const char *name, const char *contents)
{
    char path[PATH_MAX];
    join_path(path, dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        fail("create", path);
    size_t length = strlen(contents);
    if (write(fd, contents, length) != (ssize_t)length)
        fail("write", path);
    close(fd);
}

/* Creates DIR/NAME as a symbolic link to DIR/TARGET (an absolute link). */
static inline void make_symlink(const char *dir, const char *target, const char *name)
{
    char target_path[PATH_MAX];
    char link_path[PATH_MAX];
    join_path(target_path, dir, target);
    join_path(link_path, dir, name);
    if (symlink(target_path, link_path) != 0)
        fail("symlink", link_path);
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
    pthread_t thread;
    struct tally tally = {0};
    int error = pthread_create(&thread, NULL, racer, racer_arg);
    if (error != 0) {
        errno = error;
        fail("pthread_create", "racing thread");
    }
    long long deadline = monotonic_ms() + milliseconds;
    while (monotonic_ms() < deadline)
        record_open(&tally, attempt(attempt_arg));
    atomic_store(&race_over, 1);
    pthread_join(thread, NULL);
    print_tally(&tally);
}

#endif
