/* fork, execve of /bin/true in the child, and waitpid in the parent: one iteration is one
 * whole short-lived process, including cordon's tracer stops at fork and exec. */
#include <sys/wait.h>
#include <unistd.h>

#include "micro.h"

static void run_true(void) {
    pid_t child = fork();
    if (child < 0) fail("fork");
    if (child == 0) {
        char *const child_argv[] = {"true", NULL};
        char *const child_envp[] = {NULL};
        execve("/bin/true", child_argv, child_envp);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) != child) fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "/bin/true ended with wait status %d\n", status);
        exit(1);
    }
}

int main(int argc, char **argv) {
    long iterations = parse_iterations(argc, argv, 2, "ITERATIONS");
    for (long i = 0; i < iterations / 10; i++) run_true();
    long long start = now_ns();
    for (long i = 0; i < iterations; i++) run_true();
    report(now_ns() - start, iterations);
    return 0;
}
