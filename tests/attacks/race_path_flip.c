/*
 * Path buffer flip: one thread flips a shared path buffer between the name of the public
 * file and the name of the secret file while the main thread opens the buffer in a loop.
 * A supervisor that checks one copy of the path and lets the kernel read the buffer again
 * opens the secret.
 *
 * Layout below DIR: public (PUBLIC), secret (SECRET). Policy under test: deny reading
 * DIR/secret.
 *
 * Variants: open    SYS_open with the absolute path
 *           openat  SYS_openat with a dirfd on DIR and the relative name
 *           openat2 SYS_openat2 with the absolute path
 */
#include "race.h"

#include <linux/openat2.h>
#include <stdint.h>

/* Both names are 6 bytes, so with the terminating NUL each fits one aligned 8-byte word. */
static const char public_name[8] = "public";
static const char secret_name[8] = "secret";

/* The path buffer. The file name starts on an 8-byte boundary inside it. */
static _Alignas(8) char buffer[PATH_MAX + 16];

/* Number of x86 pause instructions the flipping thread executes between two stores. */
#define HOLD_PAUSES 16

struct flip {
    _Atomic uint64_t *word;
    uint64_t public_word;
    uint64_t secret_word;
};

/*
 * Keeps the current name for a moment. Without this pause the secret name, stored right
 * before the public one, would be visible only for a few cycles. With it, each name is
 * visible about half of the time.
 */
static void hold_name(void)
{
    for (int i = 0; i < HOLD_PAUSES; i++)
        __builtin_ia32_pause();
}

/*
 * Flips the name with one aligned 8-byte store, so every copy of the path, whether made by
 * the kernel or by a supervisor, contains one of the two whole names.
 */
static void *flip_name(void *arg)
{
    struct flip *flip = arg;
    while (!atomic_load_explicit(&race_over, memory_order_relaxed)) {
        atomic_store_explicit(flip->word, flip->secret_word, memory_order_relaxed);
        hold_name();
        atomic_store_explicit(flip->word, flip->public_word, memory_order_relaxed);
        hold_name();
        atomic_fetch_add_explicit(&race_swaps, 2, memory_order_relaxed);
    }
    return NULL;
}

struct attempt {
    const char *variant;
    const char *path;
    int dirfd;
};

static long open_once(void *arg)
{
    struct attempt *attempt = arg;
    if (strcmp(attempt->variant, "open") == 0)
        return syscall(SYS_open, attempt->path, O_RDONLY | O_CLOEXEC);
    if (strcmp(attempt->variant, "openat") == 0)
        return syscall(SYS_openat, attempt->dirfd, attempt->path, O_RDONLY | O_CLOEXEC);
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
    return syscall(SYS_openat2, AT_FDCWD, attempt->path, &how, sizeof how);
}

/*
 * Writes PREFIX followed by the public name into the buffer so that the name starts on an
 * 8-byte boundary, and returns the start of the path.
 */
static char *place_path(const char *prefix)
{
    size_t prefix_length = strlen(prefix);
    if (prefix_length + sizeof public_name + 8 > sizeof buffer) {
        errno = ENAMETOOLONG;
        fail("place path", prefix);
    }
    size_t offset = (8 - prefix_length % 8) % 8;
    char *path = buffer + offset;
    memcpy(path, prefix, prefix_length);
    memcpy(path + prefix_length, public_name, sizeof public_name);
    return path;
}

int main(int argc, char **argv)
{
    struct race_args args = parse_race_args(argc, argv, "open|openat|openat2");
    if (strcmp(args.command, "prepare") == 0) {
        write_file(args.dir, "public", PUBLIC_BYTES, 0644);
        write_file(args.dir, "secret", SECRET_BYTES, 0644);
        return 0;
    }

    struct attempt attempt = {.variant = args.variant, .dirfd = AT_FDCWD};
    char prefix[PATH_MAX];
    if (strcmp(args.variant, "openat") == 0) {
        attempt.dirfd = open(args.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (attempt.dirfd < 0)
            fail("open directory", args.dir);
        prefix[0] = '\0';
    } else if (strcmp(args.variant, "open") == 0 || strcmp(args.variant, "openat2") == 0) {
        join_path(prefix, args.dir, "");
    } else {
        fprintf(stderr, "unknown variant %s: expected open, openat or openat2\n", args.variant);
        return 2;
    }
    attempt.path = place_path(prefix);

    struct flip flip = {.word = (_Atomic uint64_t *)(void *)(attempt.path + strlen(prefix))};
    memcpy(&flip.public_word, public_name, sizeof flip.public_word);
    memcpy(&flip.secret_word, secret_name, sizeof flip.secret_word);
    run_race(args.milliseconds, flip_name, &flip, open_once, &attempt);
    return 0;
}
