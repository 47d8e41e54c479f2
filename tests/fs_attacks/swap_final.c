/*
 * Final symbolic link swapped under calls that follow it: the main thread changes the
 * mode or size of, or stats, DIR/work/link while a racing thread exchanges work/link
 * (a symbolic link to work/file) with work/other (a symbolic link to DIR/protected/file).
 * A supervisor that checks the link's target and then lets the kernel follow the link
 * again acts on DIR/protected/file.
 *
 * Layout below DIR: work/file (PUBLIC, 7 bytes, mode 0644), protected/file (SECRET, a
 * sparse file of SECRET_SIZE bytes, mode 0644), work/link -> DIR/work/file,
 * work/other -> DIR/protected/file.
 *
 * Variants and what they count:
 *   chmod     SYS_chmod to 0600 or 0640, whichever work/file does not have. Policy under
 *       test: changing attributes below DIR/protected denied. allowed: calls that gave
 *       work/file the requested mode. denied: times protected/file's mode was not 0644.
 *   truncate  SYS_truncate to 100 or 200 bytes, whichever work/file does not have. Policy
 *       as for chmod. allowed: calls that gave work/file the requested size. denied: times
 *       protected/file's size was not SECRET_SIZE.
 *   statx     SYS_statx. Policy under test: stat below DIR/protected denied. allowed:
 *       results with work/file's inode. denied: other results with the secret's size.
 * The protected file is restored after a denied success when the policy lets it, and a
 * change that cannot be undone counts only once.
 */
#include "fs_race.h"

#include <linux/stat.h>

#define PROTECTED_MODE 0644
#define SECRET_SIZE 12345

struct target {
    const char *variant;
    char path[PATH_MAX];
    char protected_path[PATH_MAX];
    int work_fd;
    int protected_fd;
    ino_t inode;
    mode_t mode;
    off_t size;
    int lost;
};

/* Sets the protected file's mode and size back. Returns 0, or -1 with errno set. */
static int restore_protected(const struct target *target)
{
    if (fchmodat(target->protected_fd, "file", PROTECTED_MODE, 0) != 0)
        return -1;
    return truncate(target->protected_path, SECRET_SIZE);
}

/* Counts a change of the protected file's mode or size, which no call may make. */
static void check_protected(struct tally *tally, struct target *target)
{
    if (target->lost)
        return;
    struct stat status;
    if (fstatat(target->protected_fd, "file", &status, 0) != 0)
        fail("stat", "protected/file");
    if ((status.st_mode & 07777) == PROTECTED_MODE && status.st_size == SECRET_SIZE)
        return;
    tally->denied++;
    if (restore_protected(target) != 0)
        target->lost = 1;
}

static void attempt_chmod(struct tally *tally, struct target *target)
{
    mode_t mode = target->mode == 0600 ? 0640 : 0600;
    long result = syscall(SYS_chmod, target->path, mode);
    int error = errno;
    check_protected(tally, target);
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    target->mode = mode_at(target->work_fd, "file");
    if (target->mode == mode)
        tally->allowed++;
}

static void attempt_truncate(struct tally *tally, struct target *target)
{
    off_t size = target->size == 100 ? 200 : 100;
    long result = syscall(SYS_truncate, target->path, size);
    int error = errno;
    check_protected(tally, target);
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    target->size = size_at(target->work_fd, "file");
    if (target->size == size)
        tally->allowed++;
}

static void attempt_statx(struct tally *tally, struct target *target)
{
    struct statx status;
    if (syscall(SYS_statx, AT_FDCWD, target->path, 0, STATX_INO | STATX_SIZE, &status) != 0)
        record_failure(tally, errno);
    else if (status.stx_ino == target->inode)
        tally->allowed++;
    else if (status.stx_size == SECRET_SIZE)
        tally->denied++;
    else
        tally->other++;
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    if (strcmp(target->variant, "chmod") == 0)
        attempt_chmod(tally, target);
    else if (strcmp(target->variant, "truncate") == 0)
        attempt_truncate(tally, target);
    else
        attempt_statx(tally, target);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_fs_args(argc, argv, "chmod|truncate|statx");
    if (strcmp(args.command, "prepare") == 0) {
        char work[PATH_MAX];
        char protected[PATH_MAX];
        char target_path[PATH_MAX];
        char link_path[PATH_MAX];
        /* The umask must not narrow the mode the protected file is compared with. */
        umask(022);
        make_dir(args.dir, "work");
        make_dir(args.dir, "protected");
        join_path(work, args.dir, "work");
        join_path(protected, args.dir, "protected");
        write_file(work, "file", "PUBLIC\n", PROTECTED_MODE);
        write_sized_file(protected, "file", "SECRET\n", SECRET_SIZE);
        make_symlink(work, "file", "link");
        join_path(target_path, protected, "file");
        join_path(link_path, work, "other");
        if (symlink(target_path, link_path) != 0)
            fail("symlink", link_path);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.path, args.dir, "work/link");
    join_path(target.protected_path, args.dir, "protected/file");
    target.work_fd = open_dir(args.dir, "work");
    /* The statx variant runs with stat below DIR/protected denied and never uses it. */
    if (strcmp(args.variant, "statx") != 0)
        target.protected_fd = open_dir(args.dir, "protected");

    struct stat status;
    if (fstatat(target.work_fd, "file", &status, 0) != 0)
        fail("stat", "work/file");
    target.inode = status.st_ino;
    target.mode = status.st_mode & 07777;
    target.size = status.st_size;

    struct name_swap swap = {.dir_fd = target.work_fd, .first = "link", .second = "other"};
    run_attack(args.milliseconds, swap_names, &swap, attempt, &target);
    return 0;
}
