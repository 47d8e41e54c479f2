/*
 * execveat relative to a dirfd while directories are exchanged: the program opens a dirfd
 * on DIR/w, and a thread swaps the names of DIR/w/d and DIR/w/x with
 * renameat2(RENAME_EXCHANGE) while children exec "d/prog" relative to the dirfd. One
 * directory's prog is a symlink to DIR/allowed, the other's to DIR/denied, so the canonical
 * path of the file the kernel runs depends on which directory is named d at the moment of
 * the kernel's lookup. A tracer that resolves the path at one moment and lets the kernel
 * resolve it at another runs the denied file unless the post-validation kills it.
 *
 * Layout below DIR: allowed and denied (copies of the marker program), markers/,
 * w/d/prog -> DIR/allowed, w/x/prog -> DIR/denied. Policy under test: deny exec of
 * DIR/denied. The racing thread needs rename access in DIR/w.
 */
#include "exec_race.h"

#include <linux/fs.h>

struct exchange {
    int dirfd;
    struct counts *counts;
};

static void *exchange_directories(void *arg)
{
    struct exchange *exchange = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        if (syscall(SYS_renameat2, exchange->dirfd, "d", exchange->dirfd, "x",
                    RENAME_EXCHANGE) != 0)
            fail("renameat2(RENAME_EXCHANGE)", "d and x");
        atomic_fetch_add_explicit(&exchange->counts->swaps, 1, memory_order_relaxed);
    }
    return NULL;
}

struct attempt {
    int dirfd;
    char *argv[3];
};

static int spawn_vfork(void *arg)
{
    struct attempt *attempt = arg;
    pid_t pid = vfork();
    if (pid == 0) {
        syscall(SYS_execveat, attempt->dirfd, "d/prog", attempt->argv, environ, 0);
        _exit(EXEC_FAILED + (errno < ERRNO_SLOTS ? errno : ERRNO_SLOTS - 1));
    }
    if (pid < 0)
        fail("vfork", "d/prog");
    return wait_child(pid);
}

static void prepare(const struct race_args *args)
{
    prepare_markers(args);
    make_dir(args->dir, "w");
    make_dir(args->dir, "w/d");
    make_dir(args->dir, "w/x");

    char target[PATH_MAX];
    char link[PATH_MAX];
    join_path(target, args->dir, "allowed");
    join_path(link, args->dir, "w/d/prog");
    if (symlink(target, link) != 0)
        fail("symlink", link);
    join_path(target, args->dir, "denied");
    join_path(link, args->dir, "w/x/prog");
    if (symlink(target, link) != 0)
        fail("symlink", link);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "");
    if (strcmp(args.command, "prepare") == 0) {
        prepare(&args);
        return 0;
    }

    char parent[PATH_MAX];
    join_path(parent, args.dir, "w");
    int dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        fail("open directory", parent);

    struct counts *counts = shared_counts();
    static struct exchange exchange;
    exchange.dirfd = dirfd;
    exchange.counts = counts;
    static char markers[PATH_MAX];
    join_path(markers, args.dir, "markers");
    struct attempt attempt = {.dirfd = dirfd, .argv = {"prog", markers, NULL}};

    pthread_t racer = start_thread(exchange_directories, &exchange);
    run_exec_race(&args, counts, spawn_vfork, &attempt, &racer);
    return 0;
}
