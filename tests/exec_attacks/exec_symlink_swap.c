/*
 * exec through a swapped symlink: a thread atomically replaces DIR/link (symlink to a
 * temporary name, then rename over the link) so that it points alternately to DIR/allowed
 * and DIR/denied, while the main thread starts children that exec through the link. A
 * tracer that resolves the link and then lets the kernel follow it again runs the denied
 * file unless the exec event's post-validation kills it.
 *
 * Layout below DIR: allowed and denied (copies of the marker program), markers/,
 * link -> DIR/allowed, and script, a file whose first line is "#!DIR/link". Policy under
 * test: deny exec of DIR/denied. The racing thread needs create, rename and delete access
 * in DIR.
 *
 * Variants: binary       exec DIR/link, so the link names the program itself.
 *           interpreter  exec DIR/script, so the link names the script's interpreter. The
 *                        kernel starts it as "DIR/link DIR/script MARKERS".
 */
#include "exec_race.h"

struct swap {
    char allowed_path[PATH_MAX];
    char denied_path[PATH_MAX];
    char temporary_path[PATH_MAX];
    char link_path[PATH_MAX];
    struct counts *counts;
};

/* Points the link at TARGET with symlink + rename, so the link always exists. */
static void point_link(struct swap *swap, const char *target)
{
    if (symlink(target, swap->temporary_path) != 0) {
        /* A run killed between symlink and rename leaves the temporary name behind. */
        if (errno == EEXIST && unlink(swap->temporary_path) == 0)
            return;
        fail("symlink", swap->temporary_path);
    }
    if (rename(swap->temporary_path, swap->link_path) != 0)
        fail("rename", swap->temporary_path);
    atomic_fetch_add_explicit(&swap->counts->swaps, 1, memory_order_relaxed);
}

static void *swap_link(void *arg)
{
    struct swap *swap = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        point_link(swap, swap->denied_path);
        point_link(swap, swap->allowed_path);
    }
    return NULL;
}

struct attempt {
    char path[PATH_MAX];
    char *argv[3];
};

static int spawn_vfork(void *arg)
{
    struct attempt *attempt = arg;
    return vfork_execve(attempt->path, attempt->argv);
}

static void prepare(const struct race_args *args)
{
    prepare_markers(args);
    make_symlink(args->dir, "allowed", "link");
    char line[PATH_MAX + 8];
    int length = snprintf(line, sizeof line, "#!%s/link\n", args->dir);
    if (length < 0 || length >= (int)sizeof line) {
        errno = ENAMETOOLONG;
        fail("shebang line for", args->dir);
    }
    write_file(args->dir, "script", line, 0755);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "binary|interpreter");
    if (strcmp(args.command, "prepare") == 0) {
        prepare(&args);
        return 0;
    }

    struct counts *counts = shared_counts();
    static struct swap swap;
    swap.counts = counts;
    join_path(swap.allowed_path, args.dir, "allowed");
    join_path(swap.denied_path, args.dir, "denied");
    join_path(swap.temporary_path, args.dir, "link.tmp");
    join_path(swap.link_path, args.dir, "link");

    static struct attempt attempt;
    static char markers[PATH_MAX];
    join_path(markers, args.dir, "markers");
    if (strcmp(args.variant, "binary") == 0) {
        join_path(attempt.path, args.dir, "link");
    } else if (strcmp(args.variant, "interpreter") == 0) {
        join_path(attempt.path, args.dir, "script");
    } else {
        fprintf(stderr, "unknown variant %s: expected binary or interpreter\n", args.variant);
        return 2;
    }
    attempt.argv[0] = attempt.path;
    attempt.argv[1] = markers;
    attempt.argv[2] = NULL;

    pthread_t racer = start_thread(swap_link, &swap);
    run_exec_race(&args, counts, spawn_vfork, &attempt, &racer);
    return 0;
}
