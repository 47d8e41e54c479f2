/*
 * Middle directory swap: a thread exchanges a real directory DIR/pub/d (containing f =
 * PUBLIC) with a symlink DIR/pub/l -> DIR/secret (containing f = SECRET) using
 * renameat2(RENAME_EXCHANGE), while the main thread opens DIR/pub/d/f. A supervisor that
 * resolves the path and then lets the kernel walk it again, or that checks a path string
 * instead of the directories it walked, opens the secret.
 *
 * Layout below DIR: pub/d/f (PUBLIC), secret/f (SECRET), pub/l -> DIR/secret. Policy under
 * test: deny reading DIR/secret and everything below it. The racing thread needs rename
 * access in DIR/pub.
 */
#include "race.h"

struct exchange {
    char directory_path[PATH_MAX];
    char link_path[PATH_MAX];
    char file_path[PATH_MAX];
};

static void *exchange_names(void *arg)
{
    struct exchange *exchange = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        if (renameat2(AT_FDCWD, exchange->directory_path, AT_FDCWD, exchange->link_path,
                      RENAME_EXCHANGE) != 0)
            fail("renameat2 RENAME_EXCHANGE", exchange->directory_path);
        atomic_fetch_add_explicit(&race_swaps, 1, memory_order_relaxed);
    }
    return NULL;
}

static long open_file(void *arg)
{
    struct exchange *exchange = arg;
    return syscall(SYS_openat, AT_FDCWD, exchange->file_path, O_RDONLY | O_CLOEXEC);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "");
    if (strcmp(args.command, "prepare") == 0) {
        make_dir(args.dir, "pub");
        make_dir(args.dir, "pub/d");
        write_file(args.dir, "pub/d/f", PUBLIC_BYTES, 0644);
        make_dir(args.dir, "secret");
        write_file(args.dir, "secret/f", SECRET_BYTES, 0644);
        make_symlink(args.dir, "secret", "pub/l");
        return 0;
    }

    static struct exchange exchange;
    join_path(exchange.directory_path, args.dir, "pub/d");
    join_path(exchange.link_path, args.dir, "pub/l");
    join_path(exchange.file_path, args.dir, "pub/d/f");
    run_race(args.milliseconds, exchange_names, &exchange, open_file, &exchange);
    return 0;
}
