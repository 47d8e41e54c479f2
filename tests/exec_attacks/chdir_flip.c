/*
 * chdir path buffer flip: a thread flips the path buffer between DIR/allowed and
 * DIR/denied while the main thread calls chdir on it. After each successful chdir the main
 * thread finds where it landed with getcwd() and with faccessat(AT_FDCWD, "only-in-denied"),
 * two calls cordon does not check, so they see the real working directory. Then it changes
 * back to DIR for the next attempt. A tracer that checks the path it read and lets the
 * kernel read the buffer again leaves the process in the denied directory unless the
 * post-validation at the syscall exit kills it.
 *
 * The attempts run in a worker process, so a killed worker counts as `killed` and the next
 * worker continues the race until the time is up.
 *
 * Layout below DIR: allowed/, denied/only-in-denied. Policy under test: deny chdir into
 * DIR/denied.
 */
#include "exec_race.h"

static _Alignas(8) char buffer[PATH_MAX + 16];

enum landing { LANDED_ALLOWED, LANDED_DENIED, LANDED_ELSEWHERE };

static int ends_with(const char *text, const char *suffix)
{
    size_t text_length = strlen(text);
    size_t suffix_length = strlen(suffix);
    return text_length >= suffix_length &&
           strcmp(text + text_length - suffix_length, suffix) == 0;
}

/* Finds the working directory without a call cordon checks. */
static enum landing find_landing(void)
{
    char cwd[PATH_MAX];
    if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0)
        return LANDED_ELSEWHERE;
    if (ends_with(cwd, "/denied") || syscall(SYS_faccessat, AT_FDCWD, "only-in-denied", F_OK) == 0)
        return LANDED_DENIED;
    if (ends_with(cwd, "/allowed"))
        return LANDED_ALLOWED;
    return LANDED_ELSEWHERE;
}

static void count_landing(struct counts *counts, enum landing landing)
{
    switch (landing) {
    case LANDED_ALLOWED:
        atomic_fetch_add(&counts->allowed, 1);
        break;
    case LANDED_DENIED:
        atomic_fetch_add(&counts->denied, 1);
        break;
    case LANDED_ELSEWHERE:
        atomic_fetch_add(&counts->unexpected, 1);
        atomic_fetch_add(&counts->other, 1);
        break;
    }
}

/* Runs attempts until the deadline, then exits. Called in a worker process. */
static void work(const char *dir, const char *path, struct flip *flip, long long deadline)
{
    start_thread(flip_name, flip);
    while (monotonic_ms() < deadline) {
        if (syscall(SYS_chdir, path) != 0) {
            count_errno(flip->counts, errno);
            continue;
        }
        count_landing(flip->counts, find_landing());
        if (syscall(SYS_chdir, dir) != 0)
            fail("chdir back to", dir);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "");
    if (strcmp(args.command, "prepare") == 0) {
        make_dir(args.dir, "allowed");
        make_dir(args.dir, "denied");
        write_file(args.dir, "denied/only-in-denied", "", 0644);
        return 0;
    }

    struct counts *counts = shared_counts();
    static struct flip flip;
    const char *path = place_flip(buffer, &flip, args.dir, "allowed", "denied", counts);
    long long deadline = monotonic_ms() + args.milliseconds;
    while (monotonic_ms() < deadline) {
        pid_t pid = fork();
        if (pid == 0)
            work(args.dir, path, &flip, deadline);
        if (pid < 0)
            fail("fork", "worker");
        int status = wait_child(pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            atomic_fetch_add(&counts->killed, 1);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "worker ended with status %#x\n", status);
            return 2;
        }
    }
    print_counts(counts);
    return 0;
}
