/*
 * Symbolic link swapped under rename: the main thread renames work/dir/x to work/moved
 * while a racing thread exchanges work/dir (a real directory) with work/link (a symbolic
 * link to DIR/protected). A supervisor that checks one resolution of the source and lets
 * the kernel resolve it again moves DIR/protected/x out of its directory. The destination
 * variant attacks the other end: it renames work/incoming to work/dir/new, which puts a
 * file into DIR/protected when the swap wins.
 *
 * Layout below DIR: work/dir/x (PUBLIC), work/incoming (PUBLIC), work/link ->
 * DIR/protected, protected/x (SECRET). Policy under test: renaming below DIR/protected is
 * denied, renaming below DIR/work allowed.
 *
 * allowed: calls that moved the real directory's x, or moved work/incoming into the real
 *          directory (moved back each time).
 * denied:  times DIR/protected/x was moved away, or DIR/protected/new appeared (undone
 *          when the policy lets it, and counted only once when it cannot be undone).
 *
 * Variants: rename       SYS_rename with the absolute paths
 *           renameat2    SYS_renameat2 with a dirfd on DIR/work, dir/x and moved, and
 *                        RENAME_NOREPLACE
 *           destination  SYS_renameat2 of DIR/work/incoming to DIR/work/dir/new with
 *                        RENAME_NOREPLACE
 */
#include "fs_race.h"

struct target {
    const char *variant;
    char source[PATH_MAX];
    char destination[PATH_MAX];
    char incoming[PATH_MAX];
    char new_path[PATH_MAX];
    int work_fd;
    int real_fd;
    int protected_fd;
    /* Set when DIR/protected/x could not be moved back, so the loss counts only once. */
    int lost;
};

static long rename_once(const struct target *target)
{
    if (strcmp(target->variant, "rename") == 0)
        return syscall(SYS_rename, target->source, target->destination);
    return syscall(SYS_renameat2, target->work_fd, "dir/x", target->work_fd, "moved",
                   RENAME_NOREPLACE);
}

static void attempt_destination(struct tally *tally, struct target *target)
{
    long result = syscall(SYS_renameat2, AT_FDCWD, target->incoming, AT_FDCWD,
                          target->new_path, RENAME_NOREPLACE);
    int error = errno;

    if (!target->lost && exists_at(target->protected_fd, "new")) {
        tally->denied++;
        /* Under a sandbox that let the rename through, moving back may be denied as well. */
        if (renameat(target->protected_fd, "new", target->work_fd, "incoming") != 0) {
            target->lost = 1;
            if (create_at(target->work_fd, "incoming", "PUBLIC\n") != 0)
                fail("re-create", "work/incoming");
        }
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    if (!exists_at(target->real_fd, "new")) {
        /* Only the protected directory got the file, which is counted above. */
        return;
    }
    tally->allowed++;
    if (renameat(target->real_fd, "new", target->work_fd, "incoming") != 0)
        fail("move back", "work/dir/new");
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    if (strcmp(target->variant, "destination") == 0) {
        attempt_destination(tally, target);
        return;
    }
    long result = rename_once(target);
    int error = errno;

    if (!target->lost && !exists_at(target->protected_fd, "x")) {
        tally->denied++;
        /*
         * Under a sandbox that let the rename through, moving back may be denied as well.
         * Then the file is removed from work/moved, where it would make the next rename
         * with RENAME_NOREPLACE fail.
         */
        if (renameat(target->work_fd, "moved", target->protected_fd, "x") != 0) {
            target->lost = 1;
            unlinkat(target->work_fd, "moved", 0);
        }
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    if (exists_at(target->real_fd, "x")) {
        /* Only the protected file moved, which is counted above. */
        return;
    }
    tally->allowed++;
    if (renameat(target->work_fd, "moved", target->real_fd, "x") != 0)
        fail("move back", "work/moved");
}

int main(int argc, char **argv)
{
    struct race_args args = parse_fs_args(argc, argv, "rename|renameat2|destination");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        prepare_dir_swap(args.dir);
        join_path(path, args.dir, "work/dir");
        write_file(path, "x", "PUBLIC\n", 0644);
        join_path(path, args.dir, "work");
        write_file(path, "incoming", "PUBLIC\n", 0644);
        join_path(path, args.dir, "protected");
        write_file(path, "x", "SECRET\n", 0644);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.source, args.dir, "work/dir/x");
    join_path(target.destination, args.dir, "work/moved");
    join_path(target.incoming, args.dir, "work/incoming");
    join_path(target.new_path, args.dir, "work/dir/new");
    target.work_fd = open_dir(args.dir, "work");
    target.real_fd = open_dir(args.dir, "work/dir");
    target.protected_fd = open_dir(args.dir, "protected");

    struct name_swap swap = {.dir_fd = target.work_fd, .first = "dir", .second = "link"};
    run_attack(args.milliseconds, swap_names, &swap, attempt, &target);
    return 0;
}
