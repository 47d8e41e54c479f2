/*
 * Helpers shared by the programs in this folder, on top of ../common/race_common.h: the
 * tally of both branches, the attempt loop, the name swap that the symlink races use, the
 * path buffer flip and small file helpers.
 *
 * Every program is run as
 *     PROGRAM prepare DIR                       create the files of the attack below DIR
 *     PROGRAM run DIR MILLISECONDS VARIANT      attack for that long, then print the counts
 * and `run` prints one line on stdout:
 *     allowed=N denied=M refused=R other=K swaps=S aliased=A
 * N counts calls that changed (or returned) the allowed object and M the times the
 * protected object was changed, moved or read. R counts calls that failed with EACCES,
 * K all other failures and unexpected results (stderr lists both by errno). S counts the
 * changes the racing thread made (0 for the programs without one). A counts hard links,
 * renames or exchanges that gave the protected file an allowed name, which only the alias
 * programs report (0 elsewhere). Exit status 2 means the harness itself failed.
 */
#ifndef CORDON_FS_RACE_H
#define CORDON_FS_RACE_H

#include "../common/race_common.h"

#include <stdint.h>

/* errno values at or above this are counted together in the last slot. */
#define ERRNO_SLOTS 160

/* Number of x86 pause instructions the flipping thread executes between two stores. */
#define HOLD_PAUSES 16

/* Numbers of x86 pause instructions the swapping thread waits after an exchange, in turn. */
#define SWAP_HOLDS {0, 250, 1000, 4000, 16000}

struct tally {
    unsigned long allowed;
    unsigned long denied;
    unsigned long refused;
    unsigned long other;
    unsigned long aliased;
    unsigned long errors[ERRNO_SLOTS];
};

/* Changes made by the racing thread, reported as `swaps`. */
static atomic_ulong race_swaps;

/* Parses the command line, which must name one of `variants` (`a|b|c`) as VARIANT. */
static inline struct race_args parse_fs_args(int argc, char **argv, const char *variants)
{
    struct race_args args = parse_race_command(argc, argv, 0, variants);
    if (strcmp(args.command, "run") != 0)
        return args;

    size_t length = strlen(args.variant);
    for (const char *start = variants; *start != '\0';) {
        const char *end = strchr(start, '|');
        size_t candidate = end != NULL ? (size_t)(end - start) : strlen(start);
        if (length != 0 && candidate == length && strncmp(start, args.variant, length) == 0)
            return args;
        if (end == NULL)
            break;
        start = end + 1;
    }
    fprintf(stderr, "unknown variant \"%s\": expected one of %s\n", args.variant, variants);
    exit(2);
}

/* Counts a failed call by its errno: EACCES as refused, everything else as other. */
static inline void record_failure(struct tally *tally, int error)
{
    int slot = error >= 0 && error < ERRNO_SLOTS ? error : ERRNO_SLOTS - 1;
    tally->errors[slot]++;
    if (error == EACCES)
        tally->refused++;
    else
        tally->other++;
}

/* Counts a failure of the allowed branch, which no policy under test refuses, as other. */
static inline void record_unexpected(struct tally *tally, int error)
{
    int slot = error >= 0 && error < ERRNO_SLOTS ? error : ERRNO_SLOTS - 1;
    tally->errors[slot]++;
    tally->other++;
}

static inline void print_tally(const struct tally *tally)
{
    printf("allowed=%lu denied=%lu refused=%lu other=%lu swaps=%lu aliased=%lu\n",
           tally->allowed, tally->denied, tally->refused, tally->other,
           atomic_load(&race_swaps), tally->aliased);
    fprintf(stderr, "failed calls by errno:");
    for (int slot = 0; slot < ERRNO_SLOTS; slot++) {
        if (tally->errors[slot] != 0) {
            const char *name = strerrorname_np(slot);
            fprintf(stderr, " %s=%lu", name != NULL ? name : "other", tally->errors[slot]);
        }
    }
    fprintf(stderr, "\n");
}

/*
 * Runs `racer` on a new thread (unless it is NULL) and calls `attempt` in a loop until the
 * time is up, then stops the racer and prints the tally. `attempt` counts its own results.
 */
static inline void run_attack(long milliseconds, void *(*racer)(void *), void *racer_arg,
                              void (*attempt)(struct tally *, void *), void *attempt_arg)
{
    static struct tally tally;
    pthread_t thread;
    if (racer != NULL)
        thread = start_thread(racer, racer_arg);
    long long deadline = monotonic_ms() + milliseconds;
    while (monotonic_ms() < deadline)
        attempt(&tally, attempt_arg);
    atomic_store(&race_over, 1);
    if (racer != NULL)
        pthread_join(thread, NULL);
    print_tally(&tally);
}

/* Opens DIR/NAME as a directory, or exits with status 2. */
static inline int open_dir(const char *dir, const char *name)
{
    char path[PATH_MAX];
    join_path(path, dir, name);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fail("open directory", path);
    return fd;
}

/* Returns whether NAME exists below `dirfd`. Any error other than ENOENT ends the run. */
static inline int exists_at(int dirfd, const char *name)
{
    struct stat status;
    if (fstatat(dirfd, name, &status, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    if (errno != ENOENT)
        fail("stat", name);
    return 0;
}

/* Returns the mode bits of NAME below `dirfd`, or exits with status 2. */
static inline mode_t mode_at(int dirfd, const char *name)
{
    struct stat status;
    if (fstatat(dirfd, name, &status, AT_SYMLINK_NOFOLLOW) != 0)
        fail("stat", name);
    return status.st_mode & 07777;
}

/* Returns the size of NAME below `dirfd`, or exits with status 2. */
static inline off_t size_at(int dirfd, const char *name)
{
    struct stat status;
    if (fstatat(dirfd, name, &status, AT_SYMLINK_NOFOLLOW) != 0)
        fail("stat", name);
    return status.st_size;
}

/* Creates DIR/NAME with CONTENTS and then sets its size to SIZE (a sparse tail). */
static inline void write_sized_file(const char *dir, const char *name, const char *contents,
                                    off_t size)
{
    char path[PATH_MAX];
    write_file(dir, name, contents, 0644);
    join_path(path, dir, name);
    if (truncate(path, size) != 0)
        fail("truncate", path);
}

/* Creates NAME below `dirfd` with CONTENTS. Returns 0, or -1 with errno set. */
static inline int create_at(int dirfd, const char *name, const char *contents)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t length = strlen(contents);
    ssize_t written = write(fd, contents, length);
    close(fd);
    if (written != (ssize_t)length) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/*
 * The name swap of the symlink races: the racing thread exchanges two names in one
 * directory with renameat2(RENAME_EXCHANGE). In the directory swap, set up by
 * `prepare_dir_swap`, `work/dir` is a real directory and `work/link` a symbolic link to
 * DIR/protected, so a path through `work/dir` reaches the real directory or the protected
 * one, depending on the moment.
 */
struct name_swap {
    int dir_fd;
    const char *first;
    const char *second;
};

/* Creates work/dir (empty), protected and the link work/link -> DIR/protected. */
static inline void prepare_dir_swap(const char *dir)
{
    char work[PATH_MAX];
    char target[PATH_MAX];
    char link_path[PATH_MAX];
    make_dir(dir, "work");
    make_dir(dir, "protected");
    join_path(work, dir, "work");
    make_dir(work, "dir");
    join_path(target, dir, "protected");
    join_path(link_path, work, "link");
    if (symlink(target, link_path) != 0)
        fail("symlink", link_path);
}

static inline void exchange_names(const struct name_swap *swap)
{
    if (syscall(SYS_renameat2, swap->dir_fd, swap->first, swap->dir_fd, swap->second,
                RENAME_EXCHANGE) != 0)
        fail("renameat2 RENAME_EXCHANGE", swap->first);
    atomic_fetch_add_explicit(&race_swaps, 1, memory_order_relaxed);
}

/*
 * Keeps the current layout for the round's entry of SWAP_HOLDS. Short waits make many
 * exchanges fall inside a call. Long ones keep the symbolic link in place long enough for
 * whole calls to meet it, which a supervisor with a slow path needs before the denied
 * branch is reached at all.
 */
static inline void hold_layout(unsigned long round)
{
    static const int holds[] = SWAP_HOLDS;
    int pauses = holds[round % (sizeof holds / sizeof holds[0])];
    for (int i = 0; i < pauses; i++)
        __builtin_ia32_pause();
}

/* Exchanges the names twice per round, so the layout ends as it started. */
static inline void *swap_names(void *arg)
{
    struct name_swap *swap = arg;
    for (unsigned long round = 0; !atomic_load_explicit(&race_over, memory_order_relaxed);
         round++) {
        exchange_names(swap);
        hold_layout(round);
        exchange_names(swap);
        hold_layout(round);
    }
    return NULL;
}

/*
 * The path buffer flip. The path is PREFIX, one aligned 8-byte word and SUFFIX. The racing
 * thread replaces the word with one aligned store, so every copy of the path contains one
 * of the two whole words.
 */
struct flip {
    _Atomic uint64_t *word;
    uint64_t allowed_word;
    uint64_t denied_word;
};

/* The path buffer. The flipped word starts on an 8-byte boundary inside it. */
static _Alignas(8) char flip_buffer[PATH_MAX + 16];

/*
 * Keeps the current word for a moment. Without this pause the denied word, stored right
 * before the allowed one, would be visible only for a few cycles.
 */
static inline void hold_word(void)
{
    for (int i = 0; i < HOLD_PAUSES; i++)
        __builtin_ia32_pause();
}

static inline void *flip_word(void *arg)
{
    struct flip *flip = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        atomic_store_explicit(flip->word, flip->denied_word, memory_order_relaxed);
        hold_word();
        atomic_store_explicit(flip->word, flip->allowed_word, memory_order_relaxed);
        hold_word();
        atomic_fetch_add_explicit(&race_swaps, 2, memory_order_relaxed);
    }
    return NULL;
}

/*
 * Writes PREFIX, ALLOWED (exactly 8 bytes, no NUL) and SUFFIX into the path buffer with
 * ALLOWED on an 8-byte boundary, fills `flip`, and returns the start of the path.
 */
static inline char *place_flip(struct flip *flip, const char *prefix, const char allowed[8],
                               const char denied[8], const char *suffix)
{
    size_t prefix_length = strlen(prefix);
    size_t suffix_length = strlen(suffix);
    if (prefix_length + 8 + suffix_length + 16 > sizeof flip_buffer) {
        errno = ENAMETOOLONG;
        fail("place path", prefix);
    }
    size_t offset = (8 - prefix_length % 8) % 8;
    char *path = flip_buffer + offset;
    memcpy(path, prefix, prefix_length);
    memcpy(path + prefix_length, allowed, 8);
    memcpy(path + prefix_length + 8, suffix, suffix_length + 1);

    flip->word = (_Atomic uint64_t *)(void *)(path + prefix_length);
    memcpy(&flip->allowed_word, allowed, 8);
    memcpy(&flip->denied_word, denied, 8);
    return path;
}

#endif
