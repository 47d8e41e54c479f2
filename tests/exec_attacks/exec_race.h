/*
 * Helpers shared by the exec, chdir and O_PATH race programs, on top of
 * ../common/race_common.h: copying the marker program, the name flip, starting one exec
 * attempt per child process, and the result line.
 *
 * Every race program is run as
 *     PROGRAM prepare DIR [MARKER]              create the race's files below DIR; the exec
 *                                               races copy the marker program MARKER to
 *                                               DIR/allowed and DIR/denied
 *     PROGRAM run DIR MILLISECONDS [VARIANT]
 * and `run` prints one line on stdout:
 *     allowed=N denied=M other=K swaps=S killed=X
 * N counts attempts that reached the allowed object and M attempts that reached the denied
 * one. K counts failed attempts, and stderr lists them by errno. S counts the changes the
 * racing thread made. X counts attempts whose process died of SIGKILL, which under cordon
 * is the post-validation kill. For exec races N and M are the lines the marker program
 * appended to DIR/markers/allowed and DIR/markers/denied. Exit status 2 means the harness
 * itself failed.
 */
#ifndef CORDON_EXEC_RACE_H
#define CORDON_EXEC_RACE_H

#include "../common/race_common.h"

#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

extern char **environ;

/* errno values at or above this are counted together in the last slot. */
#define ERRNO_SLOTS 156

/* A child whose exec failed exits with this plus errno (errno < ERRNO_SLOTS fits 255). */
#define EXEC_FAILED 100

/* Number of x86 pause instructions the flipping thread executes between two stores. */
#define HOLD_PAUSES 16

/*
 * The counts, kept in memory shared with every child process, so that the worker processes
 * of the chdir race and the flipping threads of forked children can add to them.
 */
struct counts {
    atomic_ulong allowed;
    atomic_ulong denied;
    atomic_ulong other;
    atomic_ulong swaps;
    atomic_ulong killed;
    /* Children that exited with a status that is neither success nor a failed exec. */
    atomic_ulong unexpected;
    atomic_ulong errors[ERRNO_SLOTS];
};

/* Parses the command line of a race program, whose `prepare` may take the marker's path. */
static inline struct race_args parse_race_args(int argc, char **argv, const char *variants)
{
    return parse_race_command(argc, argv, 1, variants);
}

/* Copies the file SOURCE to DIR/NAME with mode 0755. */
static inline void copy_executable(const char *source, const char *dir, const char *name)
{
    char path[PATH_MAX];
    join_path(path, dir, name);
    int in = open(source, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        fail("open", source);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (out < 0)
        fail("create", path);
    char block[65536];
    ssize_t length;
    while ((length = read(in, block, sizeof block)) > 0) {
        if (write(out, block, (size_t)length) != length)
            fail("write", path);
    }
    if (length < 0)
        fail("read", source);
    close(in);
    close(out);
}

/* Creates DIR/allowed and DIR/denied as copies of the marker program, and DIR/markers. */
static inline void prepare_markers(const struct race_args *args)
{
    if (args->marker == NULL) {
        fprintf(stderr, "prepare needs the marker program's path\n");
        exit(2);
    }
    copy_executable(args->marker, args->dir, "allowed");
    copy_executable(args->marker, args->dir, "denied");
    make_dir(args->dir, "markers");
}

/* Allocates zeroed counts in memory that forked children share with this process. */
static inline struct counts *shared_counts(void)
{
    void *memory = mmap(NULL, sizeof(struct counts), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED)
        fail("mmap", "shared counts");
    return memory;
}

static inline void count_errno(struct counts *counts, int error)
{
    int slot = error >= 0 && error < ERRNO_SLOTS ? error : ERRNO_SLOTS - 1;
    atomic_fetch_add(&counts->other, 1);
    atomic_fetch_add(&counts->errors[slot], 1);
}

static inline void print_counts(struct counts *counts)
{
    printf("allowed=%lu denied=%lu other=%lu swaps=%lu killed=%lu\n",
           atomic_load(&counts->allowed), atomic_load(&counts->denied),
           atomic_load(&counts->other), atomic_load(&counts->swaps),
           atomic_load(&counts->killed));
    fprintf(stderr, "failed attempts by errno:");
    for (int slot = 0; slot < ERRNO_SLOTS; slot++) {
        unsigned long count = atomic_load(&counts->errors[slot]);
        if (count != 0) {
            const char *name = strerrorname_np(slot);
            fprintf(stderr, " %s=%lu", name != NULL ? name : "other", count);
        }
    }
    fprintf(stderr, "\nunexpected child exits: %lu\n", atomic_load(&counts->unexpected));
}

/* The flip of a name in a path buffer between two names of at most 7 bytes each. */
struct flip {
    _Atomic uint64_t *word;
    uint64_t first_word;
    uint64_t second_word;
    struct counts *counts;
};

/*
 * Writes DIR, one to eight slashes and FIRST into `buffer`, so that both the path and the
 * name start on an 8-byte boundary, and prepares `flip` to swap the name with SECOND.
 * Returns the path, which is `buffer` itself. `buffer` must have PATH_MAX + 16 bytes and be
 * 8-byte aligned. The extra slashes change nothing in the path's meaning.
 */
static inline char *place_flip(char *buffer, struct flip *flip, const char *dir,
                               const char *first, const char *second, struct counts *counts)
{
    size_t prefix_length = strlen(dir);
    if (strlen(first) > 7 || strlen(second) > 7 || prefix_length + 16 > PATH_MAX) {
        errno = ENAMETOOLONG;
        fail("place path", dir);
    }
    memcpy(buffer, dir, prefix_length);
    do
        buffer[prefix_length++] = '/';
    while (prefix_length % 8 != 0);

    char first_word[8] = {0};
    char second_word[8] = {0};
    memcpy(first_word, first, strlen(first));
    memcpy(second_word, second, strlen(second));
    memcpy(buffer + prefix_length, first_word, sizeof first_word);
    flip->word = (_Atomic uint64_t *)(void *)(buffer + prefix_length);
    memcpy(&flip->first_word, first_word, sizeof first_word);
    memcpy(&flip->second_word, second_word, sizeof second_word);
    flip->counts = counts;
    return buffer;
}

/*
 * Keeps the current name for a moment. Without this pause the second name, stored right
 * before the first one again, would be visible only for a few cycles. With it, each name
 * is visible about half of the time.
 */
static inline void hold_name(void)
{
    for (int i = 0; i < HOLD_PAUSES; i++)
        __builtin_ia32_pause();
}

/*
 * Flips the name with one aligned 8-byte store until `race_over` is set. A copy of the path
 * made in aligned 8-byte loads, as the kernel's strncpy_from_user makes it, therefore
 * contains one of the two whole names.
 */
static inline void *flip_name(void *arg)
{
    struct flip *flip = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        atomic_store_explicit(flip->word, flip->second_word, memory_order_relaxed);
        hold_name();
        atomic_store_explicit(flip->word, flip->first_word, memory_order_relaxed);
        hold_name();
        atomic_fetch_add_explicit(&flip->counts->swaps, 2, memory_order_relaxed);
    }
    return NULL;
}

static inline int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) != pid) {
        if (errno != EINTR)
            fail("waitpid", "child");
    }
    return status;
}

/*
 * Counts the wait status of one exec attempt's child. A child that ran the marker exits 0
 * and is counted later from the marker files.
 */
static inline void count_exec_status(struct counts *counts, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) >= EXEC_FAILED) {
        count_errno(counts, WEXITSTATUS(status) - EXEC_FAILED);
        return;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        atomic_fetch_add(&counts->killed, 1);
        return;
    }
    atomic_fetch_add(&counts->unexpected, 1);
    atomic_fetch_add(&counts->other, 1);
}

/* Returns the number of lines in DIR/markers/NAME, 0 when the file does not exist. */
static inline unsigned long count_marker_lines(const char *dir, const char *name)
{
    char markers[PATH_MAX];
    char path[PATH_MAX];
    join_path(markers, dir, "markers");
    join_path(path, markers, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        fail("open", path);
    }
    unsigned long lines = 0;
    char block[4096];
    ssize_t length;
    while ((length = read(fd, block, sizeof block)) > 0) {
        for (ssize_t i = 0; i < length; i++)
            lines += block[i] == '\n';
    }
    close(fd);
    return lines;
}

/*
 * Calls `spawn`, which starts one child that execs and returns its wait status, in a loop
 * until the time is up. Then stops the racing thread (if any), counts the markers and
 * prints the counts.
 */
static inline void run_exec_race(const struct race_args *args, struct counts *counts,
                                 int (*spawn)(void *), void *spawn_arg, pthread_t *racer)
{
    long long deadline = monotonic_ms() + args->milliseconds;
    while (monotonic_ms() < deadline)
        count_exec_status(counts, spawn(spawn_arg));
    atomic_store(&race_over, 1);
    if (racer != NULL)
        pthread_join(*racer, NULL);
    atomic_store(&counts->allowed, count_marker_lines(args->dir, "allowed"));
    atomic_store(&counts->denied, count_marker_lines(args->dir, "denied"));
    print_counts(counts);
}

/*
 * Starts a child with vfork that runs `execve(path, argv, environ)` and returns its wait
 * status. The child shares this process's memory, so a thread of this process that
 * changes `path` races the supervisor's reading of the child's arguments.
 */
static inline int vfork_execve(const char *path, char *const argv[])
{
    pid_t pid = vfork();
    if (pid == 0) {
        syscall(SYS_execve, path, argv, environ);
        _exit(EXEC_FAILED + (errno < ERRNO_SLOTS ? errno : ERRNO_SLOTS - 1));
    }
    if (pid < 0)
        fail("vfork", path);
    return wait_child(pid);
}

#endif
