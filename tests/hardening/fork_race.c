/*
 * Threads that fork at the same moment with raw fork(2), so several creations pass cordon's
 * check at syscall entry together. Children exit at once; the parent reaps those that exited
 * normally and keeps the ones cordon killed as zombies. Prints "zombies N": the killed
 * children it leaves unreaped at the end (each one still uses a pid).
 *
 * Usage: fork_race ROUNDS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 6

static pthread_barrier_t start, done;
static pid_t forked[THREADS];

static void *forker(void *argument)
{
    long index = (long)argument;
    for (;;) {
        pthread_barrier_wait(&start);
        forked[index] = (pid_t)syscall(SYS_fork);
        if (forked[index] == 0)
            syscall(SYS_exit_group, 0);
        pthread_barrier_wait(&done);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    pthread_t thread;
    pthread_barrier_init(&start, NULL, THREADS + 1);
    pthread_barrier_init(&done, NULL, THREADS + 1);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&thread, NULL, forker, (void *)i);
    int zombies = 0;
    for (int round = 0; round < rounds; round++) {
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&done);
        usleep(1000);
        for (int i = 0; i < THREADS; i++) {
            if (forked[i] <= 0)
                continue;
            siginfo_t info;
            memset(&info, 0, sizeof info);
            if (waitid(P_PID, forked[i], &info, WEXITED | WNOWAIT) != 0)
                continue;
            if (info.si_code == CLD_KILLED)
                zombies++;
            else
                waitpid(forked[i], NULL, 0);
        }
    }
    printf("zombies %d\n", zombies);
    fflush(stdout);
    _exit(0);
}
