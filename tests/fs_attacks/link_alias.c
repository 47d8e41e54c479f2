/*
 * Hard link or rename to a read-denied file, then read through the new name: each round
 * gives first DIR/allowed/public and then DIR/protected/secret the name DIR/allowed/alias,
 * reads the alias and removes it again (or renames the file back). A supervisor that checks
 * only the new name, where reading is allowed, lets the program read the secret.
 *
 * Layout below DIR: allowed/public (PUBLIC), protected/secret (SECRET). Policy under test:
 * reading DIR/protected/secret denied, linking and renaming to DIR/allowed allowed.
 *
 * allowed: rounds that read PUBLIC through the alias of allowed/public.
 * denied:  rounds that read SECRET through the alias of protected/secret.
 * aliased: rounds where protected/secret got the alias at all.
 * refused: secret rounds that failed with EACCES at some step, other: the remaining
 *          failures of both branches.
 *
 * Variants: link           SYS_link with the absolute paths
 *           linkat         SYS_linkat with the absolute source, a dirfd on DIR/allowed and
 *                          "alias"
 *           linkat_empty   SYS_linkat with AT_EMPTY_PATH on an fd of the file: O_PATH, or
 *                          O_WRONLY when an O_PATH open is refused
 *           linkat_procfd  SYS_linkat with AT_SYMLINK_FOLLOW on /proc/self/fd/N, N being
 *                          such an fd
 *           rename         SYS_renameat2 with RENAME_NOREPLACE, then back
 */
#include "fs_race.h"

#define PUBLIC_BYTES "PUBLIC\n"
#define SECRET_BYTES "SECRET\n"

struct target {
    const char *variant;
    char public_path[PATH_MAX];
    char secret_path[PATH_MAX];
    char alias_path[PATH_MAX];
    int allowed_fd;
    /* Set when the secret could not be renamed back, which ends its rounds. */
    int lost;
};

/* Opens the file for the fd routes: O_PATH, or O_WRONLY when O_PATH is refused. */
static int open_source(const char *path)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0 && errno == EACCES)
        fd = open(path, O_WRONLY | O_CLOEXEC);
    return fd;
}

/* Gives SOURCE the name allowed/alias by the variant's route. Returns 0 or -1 with errno. */
static int make_alias(const struct target *target, const char *source)
{
    const char *variant = target->variant;
    if (strcmp(variant, "link") == 0)
        return (int)syscall(SYS_link, source, target->alias_path);
    if (strcmp(variant, "linkat") == 0)
        return (int)syscall(SYS_linkat, AT_FDCWD, source, target->allowed_fd, "alias", 0);
    if (strcmp(variant, "rename") == 0)
        return (int)syscall(SYS_renameat2, AT_FDCWD, source, target->allowed_fd, "alias",
                            RENAME_NOREPLACE);

    int fd = open_source(source);
    if (fd < 0)
        return -1;
    long result;
    if (strcmp(variant, "linkat_empty") == 0) {
        result = syscall(SYS_linkat, fd, "", target->allowed_fd, "alias", AT_EMPTY_PATH);
    } else {
        char fd_path[64];
        snprintf(fd_path, sizeof fd_path, "/proc/self/fd/%d", fd);
        result = syscall(SYS_linkat, AT_FDCWD, fd_path, target->allowed_fd, "alias",
                         AT_SYMLINK_FOLLOW);
    }
    int error = errno;
    close(fd);
    errno = error;
    return (int)result;
}

/* Removes the alias again: renames it back to SOURCE, or unlinks the second link. */
static int remove_alias(const struct target *target, const char *source)
{
    if (strcmp(target->variant, "rename") == 0)
        return renameat(target->allowed_fd, "alias", AT_FDCWD, source);
    return unlinkat(target->allowed_fd, "alias", 0);
}

/* Reads the alias into `bytes`, which has `size` bytes. Returns 0 or -1 with errno. */
static int read_alias(const struct target *target, char *bytes, size_t size)
{
    int fd = openat(target->allowed_fd, "alias", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(bytes, 0, size);
    ssize_t length = read(fd, bytes, size - 1);
    int error = errno;
    close(fd);
    errno = error;
    return length < 0 ? -1 : 0;
}

static void public_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (make_alias(target, target->public_path) != 0) {
        record_unexpected(tally, errno);
        return;
    }
    if (read_alias(target, bytes, sizeof bytes) != 0)
        record_unexpected(tally, errno);
    else if (strcmp(bytes, PUBLIC_BYTES) == 0)
        tally->allowed++;
    else
        tally->other++;
    if (remove_alias(target, target->public_path) != 0)
        fail("remove the alias of", target->public_path);
}

static void secret_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (make_alias(target, target->secret_path) != 0) {
        record_failure(tally, errno);
        return;
    }
    tally->aliased++;
    if (read_alias(target, bytes, sizeof bytes) != 0)
        record_failure(tally, errno);
    else if (strcmp(bytes, SECRET_BYTES) == 0)
        tally->denied++;
    else
        tally->other++;
    /* Under a sandbox that let the alias through, renaming back may be denied. */
    if (remove_alias(target, target->secret_path) != 0) {
        target->lost = 1;
        unlinkat(target->allowed_fd, "alias", 0);
    }
}

static void attempt(struct tally *tally, void *arg)
{
    struct target *target = arg;
    public_round(tally, target);
    if (!target->lost)
        secret_round(tally, target);
}

int main(int argc, char **argv)
{
    struct race_args args =
        parse_fs_args(argc, argv, "link|linkat|linkat_empty|linkat_procfd|rename");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        make_dir(args.dir, "allowed");
        make_dir(args.dir, "protected");
        join_path(path, args.dir, "allowed");
        write_file(path, "public", PUBLIC_BYTES, 0644);
        join_path(path, args.dir, "protected");
        write_file(path, "secret", SECRET_BYTES, 0644);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.public_path, args.dir, "allowed/public");
    join_path(target.secret_path, args.dir, "protected/secret");
    join_path(target.alias_path, args.dir, "allowed/alias");
    target.allowed_fd = open_dir(args.dir, "allowed");
    run_attack(args.milliseconds, NULL, NULL, attempt, &target);
    return 0;
}
