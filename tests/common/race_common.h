/*
 * Helpers shared by the race programs in ../attacks (through race.h) and ../exec_attacks
 * (through exec_race.h): the command line, the time limit, the racing thread, and creating
 * the files of a race. Each including header defines its own counts and result line.
 * Exit status 2 means the harness itself failed.
 */
#ifndef CORDON_RACE_COMMON_H
#define CORDON_RACE_COMMON_H

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

struct race_args {
    const char *command;
    const char *dir;
    /* The marker program's path, given only to `prepare` of the exec races. */
    const char *marker;
    long milliseconds;
    const char *variant;
};

/* Set by the main thread when the time is up. Racing threads stop when they see it. */
static atomic_int race_over;

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

/*
 * Parses `prepare DIR [MARKER]` or `run DIR MILLISECONDS [VARIANT]`, or prints the usage
 * and exits with status 2. MARKER is accepted only when `takes_marker` is nonzero.
 * `variants` names the accepted VARIANT values in the usage line.
 */
static inline struct race_args parse_race_command(int argc, char **argv, int takes_marker,
                                                  const char *variants)
{
    struct race_args args = {0};
    if ((argc == 3 || (takes_marker && argc == 4)) && strcmp(argv[1], "prepare") == 0) {
        args.command = "prepare";
        args.dir = argv[2];
        args.marker = argc == 4 ? argv[3] : NULL;
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
    fprintf(stderr, "usage: %s prepare DIR%s | %s run DIR MILLISECONDS %s\n", argv[0],
            takes_marker ? " [MARKER]" : "", argv[0], variants);
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

static inline void write_file(const char *dir, const char *name, const char *contents, mode_t mode)
{
    char path[PATH_MAX];
    join_path(path, dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
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

static inline pthread_t start_thread(void *(*function)(void *), void *arg)
{
    pthread_t thread;
    int error = pthread_create(&thread, NULL, function, arg);
    if (error != 0) {
        errno = error;
        fail("pthread_create", "racing thread");
    }
    return thread;
}

#endif
