/*
 * Enters a new user and mount namespace, bind-mounts SECRET over PUBLIC and reads PUBLIC.
 * The supervisor checks the path PUBLIC, which the policy allows, while the kernel returns
 * the secret's bytes. The sandbox must fail unshare(CLONE_NEWUSER | CLONE_NEWNS) with
 * EPERM.
 *
 * Reports: unshare, make_private, bind_mount, open_public, content.
 */
#include "escape.h"

#include <sched.h>
#include <sys/mount.h>

int main(int argc, char **argv)
{
    check_usage(argc, argv, 2, "SECRET PUBLIC");
    start_report();
    const char *secret = argv[1];
    const char *public = argv[2];

    int result = unshare(CLONE_NEWUSER | CLONE_NEWNS);
    report_call("unshare", result);
    if (result != 0)
        return 0;

    /* Mounts copied into a namespace owned by a new user namespace are already slaves, so
       the bind mount cannot propagate back. Making them private, as unshare(1) does by
       default, also stops host mount events from reaching the test. */
    result = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    report_call("make_private", result);
    if (result != 0)
        return 0;

    result = mount(secret, public, NULL, MS_BIND, NULL);
    report_call("bind_mount", result);
    if (result != 0)
        return 0;

    long fd = syscall(SYS_openat, AT_FDCWD, public, O_RDONLY | O_CLOEXEC);
    report_call("open_public", fd);
    if (fd >= 0)
        report_content((int)fd);
    return 0;
}
