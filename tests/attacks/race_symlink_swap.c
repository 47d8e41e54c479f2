/*
 * Final symlink swap: a thread atomically replaces DIR/link (symlink to a temporary name,
 * then rename over the link) so that it points alternately to the public and to the secret
 * file, while the main thread opens DIR/link. A supervisor that checks the link's target
 * and then lets the kernel follow the link again opens the secret.
 *
 * Layout below DIR: public (PUBLIC), secret (SECRET), link -> DIR/public. Policy under
 * test: deny reading DIR/secret. The racing thread needs create, rename and delete access
 * in DIR.
 */
#include "race.h"

struct swap {
    char public_path[PATH_MAX];
    char secret_path[PATH_MAX];
    char temporary_path[PATH_MAX];
    char link_path[PATH_MAX];
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
    atomic_fetch_add_explicit(&race_swaps, 1, memory_order_relaxed);
}

static void *swap_link(void *arg)
{
    struct swap *swap = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        point_link(swap, swap->secret_path);
        point_link(swap, swap->public_path);
    }
    return NULL;
}

static long open_link(void *arg)
{
    struct swap *swap = arg;
    return syscall(SYS_openat, AT_FDCWD, swap->link_path, O_RDONLY | O_CLOEXEC);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "");
    if (strcmp(args.command, "prepare") == 0) {
        write_file(args.dir, "public", PUBLIC_BYTES, 0644);
        write_file(args.dir, "secret", SECRET_BYTES, 0644);
        make_symlink(args.dir, "public", "link");
        return 0;
    }

    static struct swap swap;
    join_path(swap.public_path, args.dir, "public");
    join_path(swap.secret_path, args.dir, "secret");
    join_path(swap.temporary_path, args.dir, "link.tmp");
    join_path(swap.link_path, args.dir, "link");
    run_race(args.milliseconds, swap_link, &swap, open_link, &swap);
    return 0;
}
