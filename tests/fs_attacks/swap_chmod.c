/*
 * Symbolic link swapped under chmod: the main thread changes the mode of work/dir/file
 * while a racing thread exchanges work/dir (a real directory) with work/link (a symbolic
 * link to DIR/protected). A supervisor that checks one resolution of the path and lets the
 * kernel resolve it again changes the mode of DIR/protected/file.
 *
 * Layout below DIR: work/dir/file (mode 0644), work/link -> DIR/protected,
 * protected/file (mode 0644). Policy under test: changing attributes below DIR/protected
 * is denied, below DIR/work allowed.
 *
 * allowed: calls that gave the real directory's file the requested mode. The requested
 *          mode is 0600 or 0640, whichever the file does not have, so a match proves the
 *          call changed it.
 * denied:  times the mode of DIR/protected/file was no longer 0644 (set back when the
 *          policy lets it, and counted only once when it cannot be set back).
 *
 * Variants: chmod      SYS_chmod with the absolute path DIR/work/dir/file
 *           fchmodat   SYS_fchmodat with a dirfd on DIR/work and dir/file
 *           fchmodat2  SYS_fchmodat2 with the absolute path and no flags
 */
#include "fs_race.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define PROTECTED_MODE 0644

struct target {
    const char *variant;
    char path[PATH_MAX];
    int work_fd;
    int real_fd;
    int protected_fd;
    /* The current mode of the real directory's file. */
    mode_t real_mode;
    /* Set when DIR/protected/file could not be set back, so the change counts only once. */
    int lost;
};

static long chmod_once(const struct target *target, mode_t mode)
{
    if (strcmp(target->variant, "chmod") == 0)
        return syscall(SYS_chmod, target->path, mode);
    if (strcmp(target->variant, "fchmodat") == 0)
        return syscall(SYS_fchmodat, target->work_fd, "dir/file", mode);
    return syscall(SYS_fchmodat2, AT_FDCWD, target->path, mode, 0);
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    mode_t mode = target->real_mode == 0600 ? 0640 : 0600;
    long result = chmod_once(target, mode);
    int error = errno;

    if (!target->lost && mode_at(target->protected_fd, "file") != PROTECTED_MODE) {
        tally->denied++;
        /* Under a sandbox that let the chmod through, setting it back may be denied. */
        if (fchmodat(target->protected_fd, "file", PROTECTED_MODE, 0) != 0)
            target->lost = 1;
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    target->real_mode = mode_at(target->real_fd, "file");
    if (target->real_mode == mode)
        tally->allowed++;
}

int main(int argc, char **argv)
{
    struct race_args args = parse_fs_args(argc, argv, "chmod|fchmodat|fchmodat2");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        prepare_dir_swap(args.dir);
        /* The umask must not narrow the mode the protected file is compared with. */
        umask(022);
        join_path(path, args.dir, "work/dir");
        write_file(path, "file", "PUBLIC\n", PROTECTED_MODE);
        join_path(path, args.dir, "protected");
        write_file(path, "file", "SECRET\n", PROTECTED_MODE);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.path, args.dir, "work/dir/file");
    target.work_fd = open_dir(args.dir, "work");
    target.real_fd = open_dir(args.dir, "work/dir");
    target.protected_fd = open_dir(args.dir, "protected");
    target.real_mode = mode_at(target.real_fd, "file");
    if (mode_at(target.protected_fd, "file") != PROTECTED_MODE) {
        errno = EINVAL;
        fail("check the mode of", "protected/file");
    }

    struct name_swap swap = {.dir_fd = target.work_fd, .first = "dir", .second = "link"};
    run_attack(args.milliseconds, swap_names, &swap, attempt, &target);
    return 0;
}
