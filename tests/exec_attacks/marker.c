/*
 * Marker: proves that a binary ran. It appends one line to MARKERS/NAME, where MARKERS is
 * its last argument and NAME the base name of the file the kernel executed, read from
 * /proc/self/exe. The races run copies of this program named `allowed` and `denied`, and
 * reach them through names that are the same for both (a symlink, a `#!` interpreter, a
 * memfd), so argv[0] cannot tell them apart.
 *
 * Exit status: 0 after writing the line, 3 when it could not.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DELETED_SUFFIX " (deleted)"

int main(int argc, char **argv)
{
    if (argc < 2)
        return 3;

    char exe[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (length <= 0)
        return 3;
    exe[length] = '\0';

    /* A memfd's link reads "/memfd:NAME (deleted)". */
    size_t suffix = strlen(DELETED_SUFFIX);
    if ((size_t)length > suffix && strcmp(exe + length - suffix, DELETED_SUFFIX) == 0)
        exe[length - suffix] = '\0';
    const char *name = strrchr(exe, '/');
    name = name != NULL ? name + 1 : exe;

    char path[PATH_MAX];
    int path_length = snprintf(path, sizeof path, "%s/%s", argv[argc - 1], name);
    if (path_length < 0 || path_length >= (int)sizeof path)
        return 3;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return 3;
    int written = write(fd, "ran\n", 4) == 4;
    close(fd);
    return written ? 0 : 3;
}
