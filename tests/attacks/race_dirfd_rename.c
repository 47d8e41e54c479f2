/*
 * dirfd renamed concurrently: the program opens a directory fd on X, then a thread renames
 * X back and forth between DIR/w/x/d and DIR/w/pub/x/d while the main thread opens
 * "../../priv/f" relative to the fd. At DIR/w/x/d that names DIR/w/priv/f (SECRET), at
 * DIR/w/pub/x/d it names DIR/w/pub/priv/f (PUBLIC). A supervisor that computes the fd's
 * path at one moment and then follows ".." through the fd at another opens the secret.
 *
 * Layout below DIR: w/x/d (the directory X), w/pub/x, w/priv/f (SECRET), w/pub/priv/f
 * (PUBLIC). Policy under test: deny reading DIR/w/priv and everything below it. The racing
 * thread needs rename access in DIR/w/x and DIR/w/pub/x.
 */
#include "race.h"

struct move {
    char first_path[PATH_MAX];
    char second_path[PATH_MAX];
};

static void *move_directory(void *arg)
{
    struct move *move = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        if (rename(move->first_path, move->second_path) != 0)
            fail("rename", move->first_path);
        if (rename(move->second_path, move->first_path) != 0)
            fail("rename", move->second_path);
        atomic_fetch_add_explicit(&race_swaps, 2, memory_order_relaxed);
    }
    return NULL;
}

static long open_relative(void *arg)
{
    int dirfd = *(int *)arg;
    return syscall(SYS_openat, dirfd, "../../priv/f", O_RDONLY | O_CLOEXEC);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "");
    if (strcmp(args.command, "prepare") == 0) {
        make_dir(args.dir, "w");
        make_dir(args.dir, "w/x");
        make_dir(args.dir, "w/x/d");
        make_dir(args.dir, "w/pub");
        make_dir(args.dir, "w/pub/x");
        make_dir(args.dir, "w/priv");
        write_file(args.dir, "w/priv/f", SECRET_BYTES, 0644);
        make_dir(args.dir, "w/pub/priv");
        write_file(args.dir, "w/pub/priv/f", PUBLIC_BYTES, 0644);
        return 0;
    }

    static struct move move;
    join_path(move.first_path, args.dir, "w/x/d");
    join_path(move.second_path, args.dir, "w/pub/x/d");
    int dirfd = open(move.first_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        fail("open directory", move.first_path);
    run_race(args.milliseconds, move_directory, &move, open_relative, &dirfd);
    return 0;
}
