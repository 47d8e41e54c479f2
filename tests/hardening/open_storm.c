/*
 * Starts THREADS threads that wait at a barrier and then each open ALLOWED and DENIED
 * ROUNDS times, so the supervisor serves many concurrent notifications at once. Every
 * successful open is read and closed at once.
 *
 * Usage: open_storm THREADS ROUNDS DENIED ALLOWED
 * Reports one line of counts:
 *   allowed_ok=N allowed_failed=N denied_eacces=N denied_opened=N denied_other=N
 * denied_opened counts opens of DENIED that succeeded, denied_other those that failed
 * with an errno other than EACCES. Exit status 2 means the harness failed.
 */
#include "hardening.h"

#include <pthread.h>
#include <stdatomic.h>

/* Small stacks keep 1000 threads far below any memory limit. */
#define STACK_SIZE (64 * 1024)

static const char *denied_path;
static const char *allowed_path;
static long rounds;
static pthread_barrier_t start_line;

static atomic_long allowed_ok;
static atomic_long allowed_failed;
static atomic_long denied_eacces;
static atomic_long denied_opened;
static atomic_long denied_other;

static long open_read_close(const char *path)
{
    long fd = open_with(SYS_openat, path);
    if (fd < 0)
        return -1;
    char byte;
    if (read((int)fd, &byte, 1) < 0) {
        perror("read");
        exit(2);
    }
    close((int)fd);
    return 0;
}

static void *open_both(void *unused)
{
    (void)unused;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < rounds; i++) {
        if (open_read_close(allowed_path) == 0)
            atomic_fetch_add(&allowed_ok, 1);
        else
            atomic_fetch_add(&allowed_failed, 1);

        if (open_read_close(denied_path) == 0)
            atomic_fetch_add(&denied_opened, 1);
        else if (errno == EACCES)
            atomic_fetch_add(&denied_eacces, 1);
        else
            atomic_fetch_add(&denied_other, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 4, "THREADS ROUNDS DENIED ALLOWED");
    long threads = atol(argv[1]);
    rounds = atol(argv[2]);
    denied_path = argv[3];
    allowed_path = argv[4];
    if (threads <= 0 || rounds <= 0) {
        fprintf(stderr, "THREADS and ROUNDS must be positive\n");
        return 2;
    }

    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, STACK_SIZE);
    pthread_barrier_init(&start_line, NULL, (unsigned int)threads);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (ids == NULL) {
        perror("calloc");
        return 2;
    }
    for (long i = 0; i < threads; i++) {
        int error = pthread_create(&ids[i], &attributes, open_both, NULL);
        if (error != 0) {
            fprintf(stderr, "pthread_create of thread %ld: %s\n", i, strerror(error));
            return 2;
        }
    }
    for (long i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);

    printf("allowed_ok=%ld allowed_failed=%ld denied_eacces=%ld denied_opened=%ld "
           "denied_other=%ld\n",
           atomic_load(&allowed_ok), atomic_load(&allowed_failed), atomic_load(&denied_eacces),
           atomic_load(&denied_opened), atomic_load(&denied_other));
    return 0;
}
