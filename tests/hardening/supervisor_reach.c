/*
 * Tries to reach into TARGET without signals: ptrace, process_vm_readv/writev, its
 * /proc/PID/mem and status, and the calls that take a pid and change a process's limits or
 * scheduling (prlimit64, setpriority, sched_setscheduler, sched_setaffinity, ioprio_set),
 * plus the reading counterparts. setpriority(PRIO_USER, USER, 19) renices every process of
 * USER. Then it makes the same changing calls on itself, with pid 0 and with its own pid,
 * which must keep working under cordon.
 *
 * Usage: supervisor_reach TARGET USER DENIED ALLOWED
 *   TARGET  a pid, or "parent" (the supervisor when cordon runs this program)
 *   USER    the uid for PRIO_USER (0 means the caller's), or "skip" to leave it out
 *
 * The program prints target=PID and waits for one line on stdin before it starts, so the
 * test can read TARGET's limits and priority first. After the calls and the probe it prints
 * done and waits for the end of stdin, so the test can read them again while TARGET and
 * this program still run.
 *
 * Reports: target=PID, one CALL=RESULT line per call, probe_denied, probe_allowed, done.
 */
#include "hardening.h"

#include <sched.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/uio.h>

/* The open-file limit the attack sets, chosen to differ from the common defaults (1024,
   4096, 524288, 1048576). */
#define NEW_NOFILE_LIMIT 77

/* Linux's ioprio encoding: the class in bits 13 and up. */
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

/* Returns the start address of TARGET's first writable private mapping, or the address of
   a variable of this program when TARGET's maps cannot be read, as under cordon. The
   address only matters when the call gets past the permission checks. */
static unsigned long writable_address(pid_t pid)
{
    static unsigned long fallback;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "re");
    if (maps == NULL)
        return (unsigned long)&fallback;
    char line[512];
    unsigned long address = (unsigned long)&fallback;
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start;
        char perms[5];
        if (sscanf(line, "%lx-%*x %4s", &start, perms) == 2 && strncmp(perms, "rw-p", 4) == 0) {
            address = start;
            break;
        }
    }
    fclose(maps);
    return address;
}

static void attach_and_detach(pid_t target)
{
    long result = ptrace(PTRACE_ATTACH, target, NULL, NULL);
    report_call("ptrace_attach", result);
    if (result != 0)
        return;
    int status;
    waitpid(target, &status, __WALL);
    ptrace(PTRACE_DETACH, target, NULL, NULL);
}

/* Reads 8 bytes of TARGET's memory and writes the buffer back: the same bytes when the
   read worked, zeros when it failed. */
static void copy_memory(pid_t target)
{
    unsigned long bytes = 0;
    struct iovec local = {&bytes, sizeof bytes};
    struct iovec remote = {(void *)writable_address(target), sizeof bytes};
    report_call("process_vm_readv", process_vm_readv(target, &local, 1, &remote, 1, 0));
    report_call("process_vm_writev", process_vm_writev(target, &local, 1, &remote, 1, 0));
}

static void open_proc_file(const char *call, pid_t target, const char *name, int flags)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)target, name);
    long fd = syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC);
    report_call(call, fd);
    if (fd >= 0)
        close((int)fd);
}

static void read_settings(pid_t target)
{
    struct rlimit limit;
    report_call("prlimit_get", syscall(SYS_prlimit64, target, RLIMIT_NOFILE, NULL, &limit));
    report_call("getpriority", syscall(SYS_getpriority, PRIO_PROCESS, target));
    report_call("sched_getscheduler", syscall(SYS_sched_getscheduler, target));
    cpu_set_t cpus;
    report_call("sched_getaffinity", syscall(SYS_sched_getaffinity, target, sizeof cpus, &cpus));
    report_call("ioprio_get", syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, target));
}

/* Makes every changing call on PID and reports each as PREFIX_CALL. */
static void change_settings(const char *prefix, pid_t pid)
{
    char call[64];
    struct rlimit limit = {NEW_NOFILE_LIMIT, NEW_NOFILE_LIMIT};
    snprintf(call, sizeof call, "%s_prlimit", prefix);
    report_call(call, syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, &limit, NULL));

    snprintf(call, sizeof call, "%s_setpriority", prefix);
    report_call(call, syscall(SYS_setpriority, PRIO_PROCESS, pid, 19));

    struct sched_param param = {0};
    snprintf(call, sizeof call, "%s_sched_setscheduler", prefix);
    report_call(call, syscall(SYS_sched_setscheduler, pid, SCHED_IDLE, &param));

    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(0, &cpus);
    snprintf(call, sizeof call, "%s_sched_setaffinity", prefix);
    report_call(call, syscall(SYS_sched_setaffinity, pid, sizeof cpus, &cpus));

    int priority = IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT;
    snprintf(call, sizeof call, "%s_ioprio_set", prefix);
    report_call(call, syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, priority));
}

static void wait_for_stdin_line(void)
{
    char byte;
    while (read(0, &byte, 1) == 1 && byte != '\n')
        ;
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 4, "TARGET USER DENIED ALLOWED");
    start_report();
    pid_t target = parse_pid(argv[1]);
    const char *user = argv[2];
    printf("target=%d\n", (int)target);
    wait_for_stdin_line();

    attach_and_detach(target);
    copy_memory(target);
    open_proc_file("proc_mem_write", target, "mem", O_WRONLY);
    open_proc_file("proc_mem_read", target, "mem", O_RDONLY);
    open_proc_file("proc_status", target, "status", O_RDONLY);
    read_settings(target);
    change_settings("target", target);
    if (strcmp(user, "skip") != 0)
        report_call("prio_user", syscall(SYS_setpriority, PRIO_USER, atoi(user), 19));

    change_settings("pid0", 0);
    change_settings("own_pid", getpid());

    probe_supervisor(SYS_openat, argv[3], argv[4]);
    printf("done\n");
    wait_for_stdin_end();
    return 0;
}
