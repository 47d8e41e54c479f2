/*
 * Symbolic link swapped under unlink: the main thread deletes work/dir/victim while a
 * racing thread exchanges work/dir (a real directory) with work/link (a symbolic link to
 * DIR/protected). A supervisor that checks one resolution of the path and lets the kernel
 * resolve it again deletes DIR/protected/victim.
 *
 * Layout below DIR: work/dir/victim (PUBLIC), work/link -> DIR/protected,
 * protected/victim (SECRET). Policy under test: deleting below DIR/protected is denied,
 * deleting below DIR/work allowed.
 *
 * allowed: calls that deleted the victim in the real directory (re-created each time).
 * denied:  times DIR/protected/victim disappeared (re-created when the policy lets it, and
 *          counted only once when it cannot be re-created).
 *
 * Variants: unlink    SYS_unlink with the absolute path DIR/work/dir/victim
 *           unlinkat  SYS_unlinkat with a dirfd on DIR/work and dir/victim
 */
#include "fs_race.h"

struct target {
    const char *variant;
    char path[PATH_MAX];
    int work_fd;
    int real_fd;
    int protected_fd;
    /* Set when DIR/protected/victim could not be re-created, so the loss counts only once. */
    int lost;
};

static long unlink_once(const struct target *target)
{
    if (strcmp(target->variant, "unlink") == 0)
        return syscall(SYS_unlink, target->path);
    return syscall(SYS_unlinkat, target->work_fd, "dir/victim", 0);
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    long result = unlink_once(target);
    int error = errno;

    if (!target->lost && !exists_at(target->protected_fd, "victim")) {
        tally->denied++;
        /* Under a sandbox that let the delete through, creating may be denied as well. */
        if (create_at(target->protected_fd, "victim", "SECRET\n") != 0)
            target->lost = 1;
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    if (exists_at(target->real_fd, "victim")) {
        /* Only the protected victim went, which is counted above. */
        return;
    }
    tally->allowed++;
    if (create_at(target->real_fd, "victim", "PUBLIC\n") != 0)
        fail("re-create", "work/dir/victim");
}

int main(int argc, char **argv)
{
    struct race_args args = parse_fs_args(argc, argv, "unlink|unlinkat");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        prepare_dir_swap(args.dir);
        join_path(path, args.dir, "work/dir");
        write_file(path, "victim", "PUBLIC\n", 0644);
        join_path(path, args.dir, "protected");
        write_file(path, "victim", "SECRET\n", 0644);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.path, args.dir, "work/dir/victim");
    target.work_fd = open_dir(args.dir, "work");
    target.real_fd = open_dir(args.dir, "work/dir");
    target.protected_fd = open_dir(args.dir, "protected");

    struct name_swap swap = {.dir_fd = target.work_fd, .first = "dir", .second = "link"};
    run_attack(args.milliseconds, swap_names, &swap, attempt, &target);
    return 0;
}
