/*
 * Rename of a directory that contains a read-denied file: each round renames DIR/pub to
 * DIR/pub_moved and reads pub_moved/file, then moves DIR/ab (which contains the secret) to
 * DIR/zz and reads zz/secret, undoing both moves afterwards. A supervisor that checks only
 * the directory's own names, and not what moves with it, lets the program read the secret
 * under its new path whenever the policy protects it by a pattern that names the old
 * directory (`DIR/ab/secret`, `DIR/a*` + `/secret`, or a hide pattern).
 *
 * Layout below DIR: pub/file (PUBLIC), ab/secret (SECRET). The exchange variant creates
 * the empty directory zz when it starts.
 *
 * allowed: rounds that read PUBLIC through pub_moved/file.
 * denied:  rounds that read SECRET through zz/secret.
 * aliased: moves of ab to zz that succeeded.
 * refused: moves or reads of the secret that failed with EACCES, other: the remaining
 *          failures of both branches.
 *
 * Variants: rename    SYS_renameat2 of ab to zz with RENAME_NOREPLACE
 *           exchange  SYS_renameat2 of ab and zz with RENAME_EXCHANGE
 */
#include "fs_race.h"

#define PUBLIC_BYTES "PUBLIC\n"
#define SECRET_BYTES "SECRET\n"

struct target {
    const char *variant;
    int dir_fd;
    /* Set when the secret's directory could not be moved back, which ends its rounds. */
    int lost;
};

/* Reads DIR/PATH into `bytes`, which has `size` bytes. Returns 0 or -1 with errno. */
static int read_at(const struct target *target, const char *path, char *bytes, size_t size)
{
    int fd = openat(target->dir_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(bytes, 0, size);
    ssize_t length = read(fd, bytes, size - 1);
    int error = errno;
    close(fd);
    errno = error;
    return length < 0 ? -1 : 0;
}

/* Moves ab to zz (or back, when `back` is set) by the variant's route. */
static long move_secret_dir(const struct target *target, int back)
{
    if (strcmp(target->variant, "exchange") == 0)
        return syscall(SYS_renameat2, target->dir_fd, "ab", target->dir_fd, "zz",
                       RENAME_EXCHANGE);
    if (back)
        return syscall(SYS_renameat2, target->dir_fd, "zz", target->dir_fd, "ab",
                       RENAME_NOREPLACE);
    return syscall(SYS_renameat2, target->dir_fd, "ab", target->dir_fd, "zz",
                   RENAME_NOREPLACE);
}

static void public_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (syscall(SYS_renameat2, target->dir_fd, "pub", target->dir_fd, "pub_moved",
                RENAME_NOREPLACE) != 0) {
        record_unexpected(tally, errno);
        return;
    }
    if (read_at(target, "pub_moved/file", bytes, sizeof bytes) != 0)
        record_unexpected(tally, errno);
    else if (strcmp(bytes, PUBLIC_BYTES) == 0)
        tally->allowed++;
    else
        tally->other++;
    if (renameat(target->dir_fd, "pub_moved", target->dir_fd, "pub") != 0)
        fail("move back", "pub_moved");
}

static void secret_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (move_secret_dir(target, 0) != 0) {
        record_failure(tally, errno);
        return;
    }
    tally->aliased++;
    if (read_at(target, "zz/secret", bytes, sizeof bytes) != 0)
        record_failure(tally, errno);
    else if (strcmp(bytes, SECRET_BYTES) == 0)
        tally->denied++;
    else
        tally->other++;
    /* Under a sandbox that let the move through, moving back may be denied. */
    if (move_secret_dir(target, 1) != 0)
        target->lost = 1;
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
    struct race_args args = parse_fs_args(argc, argv, "rename|exchange");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        make_dir(args.dir, "pub");
        make_dir(args.dir, "ab");
        join_path(path, args.dir, "pub");
        write_file(path, "file", PUBLIC_BYTES, 0644);
        join_path(path, args.dir, "ab");
        write_file(path, "secret", SECRET_BYTES, 0644);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    target.dir_fd = open_dir(args.dir, ".");
    if (strcmp(args.variant, "exchange") == 0 && mkdirat(target.dir_fd, "zz", 0755) != 0)
        fail("mkdir", "zz");
    run_attack(args.milliseconds, NULL, NULL, attempt, &target);
    return 0;
}
