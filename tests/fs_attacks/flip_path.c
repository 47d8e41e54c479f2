/*
 * Path buffer flip under stat, rename and truncate: one thread flips a directory name in a
 * shared path buffer between `public` and `secret` while the main thread passes the buffer
 * to the call in a loop. A supervisor that checks one copy of the path and lets the kernel
 * read the buffer again acts on DIR/secret/file.
 *
 * Layout below DIR: public/file (PUBLIC, 7 bytes), secret/file (SECRET, a sparse file of
 * SECRET_SIZE bytes). The path is DIR/public/file or DIR/secret/file, and the flipped word
 * is "public/f" or "secret/f".
 *
 * Variants and what they count:
 *   stat, newfstatat, statx  SYS_stat with the absolute path, SYS_newfstatat with a dirfd
 *       on DIR and the relative path, SYS_statx with the absolute path. Policy under test:
 *       stat of DIR/secret/file denied. allowed: results with public/file's inode.
 *       denied: other results with the secret's size.
 *   rename  SYS_rename of the buffer to DIR/public/moved. Policy under test: renaming
 *       DIR/secret/file denied. allowed: calls that moved public/file (moved back each
 *       time). denied: times secret/file was moved away.
 *   truncate  SYS_truncate of the buffer to 100 or 200 bytes, whichever public/file does
 *       not have. Policy under test: changing attributes of DIR/secret/file denied.
 *       allowed: calls that gave public/file the requested size. denied: times the size of
 *       secret/file was no longer SECRET_SIZE.
 * The protected file is restored after a denied success when the policy lets it, and a
 * loss that cannot be undone counts only once.
 */
#include "fs_race.h"

#include <linux/stat.h>

#define SECRET_SIZE 12345

static const char public_word[8] = {'p', 'u', 'b', 'l', 'i', 'c', '/', 'f'};
static const char secret_word[8] = {'s', 'e', 'c', 'r', 'e', 't', '/', 'f'};

struct target {
    const char *variant;
    const char *path;
    char moved[PATH_MAX];
    char secret_path[PATH_MAX];
    int dir_fd;
    int public_fd;
    int secret_fd;
    ino_t public_inode;
    off_t public_size;
    int lost;
};

/*
 * Counts what a successful stat call returned. The buffer names only the two files, so
 * another inode than the public file's is the secret's, which its size confirms.
 */
static void record_status(struct tally *tally, const struct target *target, ino_t inode,
                          off_t size)
{
    if (inode == target->public_inode && size == target->public_size)
        tally->allowed++;
    else if (size == SECRET_SIZE)
        tally->denied++;
    else
        tally->other++;
}

static void attempt_stat(struct tally *tally, struct target *target)
{
    long result;
    ino_t inode = 0;
    off_t size = 0;
    if (strcmp(target->variant, "statx") == 0) {
        struct statx status;
        result = syscall(SYS_statx, AT_FDCWD, target->path, 0, STATX_INO | STATX_SIZE,
                         &status);
        inode = status.stx_ino;
        size = (off_t)status.stx_size;
    } else {
        struct stat status;
        if (strcmp(target->variant, "stat") == 0)
            result = syscall(SYS_stat, target->path, &status);
        else
            result = syscall(SYS_newfstatat, target->dir_fd, target->path, &status, 0);
        inode = status.st_ino;
        size = status.st_size;
    }
    if (result != 0)
        record_failure(tally, errno);
    else
        record_status(tally, target, inode, size);
}

static void attempt_rename(struct tally *tally, struct target *target)
{
    long result = syscall(SYS_rename, target->path, target->moved);
    int error = errno;

    if (!target->lost && !exists_at(target->secret_fd, "file")) {
        tally->denied++;
        if (renameat(target->public_fd, "moved", target->secret_fd, "file") != 0) {
            target->lost = 1;
            unlinkat(target->public_fd, "moved", 0);
        }
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    if (exists_at(target->public_fd, "file"))
        return;
    tally->allowed++;
    if (renameat(target->public_fd, "moved", target->public_fd, "file") != 0)
        fail("move back", "public/moved");
}

/* Sets the secret's size back with an fd, since the path buffer is being flipped. */
static int restore_secret_size(const struct target *target)
{
    int fd = open(target->secret_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int result = ftruncate(fd, SECRET_SIZE);
    close(fd);
    return result;
}

static void attempt_truncate(struct tally *tally, struct target *target)
{
    off_t size = target->public_size == 100 ? 200 : 100;
    long result = syscall(SYS_truncate, target->path, size);
    int error = errno;

    if (!target->lost && size_at(target->secret_fd, "file") != SECRET_SIZE) {
        tally->denied++;
        if (restore_secret_size(target) != 0)
            target->lost = 1;
    }
    if (result != 0) {
        record_failure(tally, error);
        return;
    }
    target->public_size = size_at(target->public_fd, "file");
    if (target->public_size == size)
        tally->allowed++;
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    if (strcmp(target->variant, "rename") == 0)
        attempt_rename(tally, target);
    else if (strcmp(target->variant, "truncate") == 0)
        attempt_truncate(tally, target);
    else
        attempt_stat(tally, target);
}

int main(int argc, char **argv)
{
    struct race_args args =
        parse_fs_args(argc, argv, "stat|newfstatat|statx|rename|truncate");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        make_dir(args.dir, "public");
        make_dir(args.dir, "secret");
        join_path(path, args.dir, "public");
        write_file(path, "file", "PUBLIC\n", 0644);
        join_path(path, args.dir, "secret");
        write_sized_file(path, "file", "SECRET\n", SECRET_SIZE);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.moved, args.dir, "public/moved");
    join_path(target.secret_path, args.dir, "secret/file");
    target.dir_fd = open_dir(args.dir, ".");
    target.public_fd = open_dir(args.dir, "public");
    /* Only the stat variants run with stat of the secret denied, and they never use it. */
    if (strcmp(args.variant, "rename") == 0 || strcmp(args.variant, "truncate") == 0)
        target.secret_fd = open_dir(args.dir, "secret");

    struct stat status;
    if (fstatat(target.public_fd, "file", &status, 0) != 0)
        fail("stat", "public/file");
    target.public_inode = status.st_ino;
    target.public_size = status.st_size;

    char prefix[PATH_MAX];
    if (strcmp(args.variant, "newfstatat") == 0)
        prefix[0] = '\0';
    else
        join_path(prefix, args.dir, "");
    struct flip flip;
    target.path = place_flip(&flip, prefix, public_word, secret_word, "ile");
    run_attack(args.milliseconds, flip_word, &flip, attempt, &target);
    return 0;
}
