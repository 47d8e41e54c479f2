/*
 * exec path buffer flip: a thread flips the path buffer of an execve between DIR/allowed
 * and DIR/denied while the process that owns the buffer execs it. A tracer that reads the
 * path once, checks it and resumes the call lets the kernel read the buffer again. Only
 * the post-validation at the exec event can catch the difference, by killing the process.
 *
 * Layout below DIR: allowed and denied (copies of the marker program), markers/. Policy
 * under test: deny exec of DIR/denied. The markers directory must be writable.
 *
 * Variants: vfork   the main thread starts each attempt with vfork, so the child shares the
 *                   memory in which a thread of the parent flips the buffer
 *           thread  each attempt forks a child that starts its own flipping thread and
 *                   then execs the buffer from its main thread
 */
#include "exec_race.h"

#include <semaphore.h>

static _Alignas(8) char buffer[PATH_MAX + 16];

struct attempt {
    const char *path;
    char *argv[3];
    struct flip *flip;
};

static int spawn_vfork(void *arg)
{
    struct attempt *attempt = arg;
    return vfork_execve(attempt->path, attempt->argv);
}

/* Posted by a child's flipping thread once it runs. */
static sem_t flipper_running;

static void *announce_and_flip(void *arg)
{
    sem_post(&flipper_running);
    return flip_name(arg);
}

/*
 * Forks a child that flips its own copy of the buffer on a second thread and execs it. The
 * child blocks until the flipper runs, so the exec always meets a running flipper, and a
 * flipper placed on the same CPU gets it at once. A successful exec ends the flipping
 * thread with the rest of the old program.
 */
static int spawn_thread(void *arg)
{
    struct attempt *attempt = arg;
    pid_t pid = fork();
    if (pid == 0) {
        if (sem_init(&flipper_running, 0, 0) != 0)
            fail("sem_init", "flipper_running");
        start_thread(announce_and_flip, attempt->flip);
        while (sem_wait(&flipper_running) != 0) {
        }
        syscall(SYS_execve, attempt->path, attempt->argv, environ);
        _exit(EXEC_FAILED + (errno < ERRNO_SLOTS ? errno : ERRNO_SLOTS - 1));
    }
    if (pid < 0)
        fail("fork", attempt->path);
    return wait_child(pid);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "vfork|thread");
    if (strcmp(args.command, "prepare") == 0) {
        prepare_markers(&args);
        return 0;
    }

    struct counts *counts = shared_counts();
    static struct flip flip;
    char markers[PATH_MAX];
    join_path(markers, args.dir, "markers");
    struct attempt attempt = {
        .path = place_flip(buffer, &flip, args.dir, "allowed", "denied", counts),
        .argv = {"exec_path_flip-child", markers, NULL},
        .flip = &flip,
    };

    if (strcmp(args.variant, "vfork") == 0) {
        pthread_t racer = start_thread(flip_name, &flip);
        run_exec_race(&args, counts, spawn_vfork, &attempt, &racer);
    } else if (strcmp(args.variant, "thread") == 0) {
        run_exec_race(&args, counts, spawn_thread, &attempt, NULL);
    } else {
        fprintf(stderr, "unknown variant %s: expected vfork or thread\n", args.variant);
        return 2;
    }
    return 0;
}
