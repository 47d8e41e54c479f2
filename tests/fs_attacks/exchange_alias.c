/*
 * RENAME_EXCHANGE to move a read-denied file to an allowed name: each round exchanges the
 * two allowed files DIR/allowed/a and DIR/allowed/b and reads a, then exchanges
 * DIR/protected/secret with DIR/allowed/c, reads c and exchanges them back. A supervisor
 * that checks each name only for the object it names now, and not for the object that will
 * get it, lets the program read the secret through allowed/c.
 *
 * Layout below DIR: allowed/a ("PUBLIC A"), allowed/b ("PUBLIC B"), allowed/c ("PUBLIC C"),
 * protected/secret (SECRET). Policy under test: reading DIR/protected/secret denied,
 * renaming in DIR/allowed allowed.
 *
 * allowed: exchanges of a and b after which a returned the bytes b had before.
 * denied:  rounds that read SECRET through allowed/c.
 * aliased: exchanges of the secret with allowed/c that succeeded.
 * refused: secret exchanges or reads that failed with EACCES, other: the remaining
 *          failures of both branches.
 *
 * Variants: secret_first   renameat2(DIR/protected/secret, DIR/allowed/c, RENAME_EXCHANGE)
 *           secret_second  renameat2(DIR/allowed/c, DIR/protected/secret, RENAME_EXCHANGE)
 */
#include "fs_race.h"

#define A_BYTES "PUBLIC A\n"
#define B_BYTES "PUBLIC B\n"
#define C_BYTES "PUBLIC C\n"
#define SECRET_BYTES "SECRET\n"

struct target {
    const char *variant;
    char secret_path[PATH_MAX];
    char c_path[PATH_MAX];
    int allowed_fd;
    /* Whether allowed/a contains the bytes b was created with. */
    int a_holds_b;
    /* Set when the secret could not be exchanged back, which ends its rounds. */
    int lost;
};

/* Reads allowed/NAME into `bytes`, which has `size` bytes. Returns 0 or -1 with errno. */
static int read_allowed(const struct target *target, const char *name, char *bytes,
                        size_t size)
{
    int fd = openat(target->allowed_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(bytes, 0, size);
    ssize_t length = read(fd, bytes, size - 1);
    int error = errno;
    close(fd);
    errno = error;
    return length < 0 ? -1 : 0;
}

static long exchange_secret(const struct target *target)
{
    if (strcmp(target->variant, "secret_first") == 0)
        return syscall(SYS_renameat2, AT_FDCWD, target->secret_path, AT_FDCWD,
                       target->c_path, RENAME_EXCHANGE);
    return syscall(SYS_renameat2, AT_FDCWD, target->c_path, AT_FDCWD, target->secret_path,
                   RENAME_EXCHANGE);
}

static void public_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (syscall(SYS_renameat2, target->allowed_fd, "a", target->allowed_fd, "b",
                RENAME_EXCHANGE) != 0) {
        record_unexpected(tally, errno);
        return;
    }
    target->a_holds_b = !target->a_holds_b;
    if (read_allowed(target, "a", bytes, sizeof bytes) != 0)
        record_unexpected(tally, errno);
    else if (strcmp(bytes, target->a_holds_b ? B_BYTES : A_BYTES) == 0)
        tally->allowed++;
    else
        tally->other++;
}

static void secret_round(struct tally *tally, struct target *target)
{
    char bytes[32];
    if (exchange_secret(target) != 0) {
        record_failure(tally, errno);
        return;
    }
    tally->aliased++;
    if (read_allowed(target, "c", bytes, sizeof bytes) != 0)
        record_failure(tally, errno);
    else if (strcmp(bytes, SECRET_BYTES) == 0)
        tally->denied++;
    else
        tally->other++;
    /* Under a sandbox that let the exchange through, exchanging back may be denied. */
    if (exchange_secret(target) != 0)
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
    struct race_args args = parse_fs_args(argc, argv, "secret_first|secret_second");
    if (strcmp(args.command, "prepare") == 0) {
        char path[PATH_MAX];
        make_dir(args.dir, "allowed");
        make_dir(args.dir, "protected");
        join_path(path, args.dir, "allowed");
        write_file(path, "a", A_BYTES, 0644);
        write_file(path, "b", B_BYTES, 0644);
        write_file(path, "c", C_BYTES, 0644);
        join_path(path, args.dir, "protected");
        write_file(path, "secret", SECRET_BYTES, 0644);
        return 0;
    }

    static struct target target;
    target.variant = args.variant;
    join_path(target.secret_path, args.dir, "protected/secret");
    join_path(target.c_path, args.dir, "allowed/c");
    target.allowed_fd = open_dir(args.dir, "allowed");
    run_attack(args.milliseconds, NULL, NULL, attempt, &target);
    return 0;
}
