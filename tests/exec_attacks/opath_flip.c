/*
 * O_PATH path buffer flip: a thread flips the path buffer between DIR/visible and
 * DIR/hidden while the main thread opens it with O_PATH and fstats the fd. The hidden
 * file's inode number, recorded before the sandbox started, must never appear.
 *
 * Layout below DIR: visible, hidden. Policy under test: hide DIR/hidden.
 *
 * The variant operand is the hidden file's inode number (decimal). `allowed` counts fds on
 * the visible file, `denied` fds on the hidden file, `other` failed opens and fds on any
 * other inode.
 */
#include "exec_race.h"

static _Alignas(8) char buffer[PATH_MAX + 16];

struct attempt {
    const char *path;
    ino_t visible;
    ino_t hidden;
    struct counts *counts;
};

static void open_once(struct attempt *attempt)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, attempt->path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        count_errno(attempt->counts, errno);
        return;
    }
    struct stat stat;
    int status = fstat(fd, &stat);
    close(fd);
    if (status != 0)
        count_errno(attempt->counts, errno);
    else if (stat.st_ino == attempt->hidden)
        atomic_fetch_add(&attempt->counts->denied, 1);
    else if (stat.st_ino == attempt->visible)
        atomic_fetch_add(&attempt->counts->allowed, 1);
    else
        atomic_fetch_add(&attempt->counts->other, 1);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "HIDDEN_INODE");
    if (strcmp(args.command, "prepare") == 0) {
        write_file(args.dir, "visible", "VISIBLE\n", 0644);
        write_file(args.dir, "hidden", "HIDDEN\n", 0644);
        return 0;
    }

    char *end;
    errno = 0;
    unsigned long long hidden = strtoull(args.variant, &end, 10);
    if (errno != 0 || *args.variant == '\0' || *end != '\0' || hidden == 0) {
        fprintf(stderr, "invalid hidden inode number %s\n", args.variant);
        return 2;
    }
    char visible_path[PATH_MAX];
    join_path(visible_path, args.dir, "visible");
    struct stat visible;
    if (stat(visible_path, &visible) != 0)
        fail("stat", visible_path);

    struct counts *counts = shared_counts();
    static struct flip flip;
    struct attempt attempt = {
        .path = place_flip(buffer, &flip, args.dir, "visible", "hidden", counts),
        .visible = visible.st_ino,
        .hidden = (ino_t)hidden,
        .counts = counts,
    };
    pthread_t racer = start_thread(flip_name, &flip);
    long long deadline = monotonic_ms() + args.milliseconds;
    while (monotonic_ms() < deadline)
        open_once(&attempt);
    atomic_store(&race_over, 1);
    pthread_join(racer, NULL);
    print_counts(counts);
    return 0;
}
