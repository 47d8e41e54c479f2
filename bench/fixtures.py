"""Build what the benchmarks run on: the microbenchmark programs, a C project with a
Makefile and a git repository with a history. Everything is generated into a temporary
directory, natively and before any timed run, and is the same on every machine.
"""

import os
import subprocess

MICRO_SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "micro")
MICRO_PROGRAMS = ("faccessat", "openat", "fstatat", "fork_exec", "notify_roundtrip")

C_UNITS = 300

GIT_DIRECTORIES = 30
GIT_FILES_PER_DIRECTORY = 100
GIT_COMMITS = 50
GIT_FILES_PER_COMMIT = 20
# Commit dates and the files' modification times are fixed, so the history and the index are
# the same in every run. No file is then "racily clean" (modified in the second the index was
# written), which would make `git status` read its contents.
GIT_DATE = 1700000000
GIT_FILE_MTIME = GIT_DATE - 86400


class FixtureError(Exception):
    """A fixture could not be built: a compiler or git command failed."""


def run_checked(argv, cwd, env=None):
    """Run a setup command natively, raising FixtureError with its output when it fails."""
    result = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    if result.returncode != 0:
        raise FixtureError(
            f"{' '.join(argv)} failed with exit status {result.returncode}:\n"
            f"{(result.stdout + result.stderr).decode(errors='replace')[-2000:]}"
        )
    return result.stdout


def compile_micro_programs(bin_dir):
    """Compile bench/micro/*.c with gcc -O2 into bin_dir. Returns {name: path}."""
    programs = {}
    for name in MICRO_PROGRAMS:
        source = os.path.join(MICRO_SOURCES, f"{name}.c")
        binary = os.path.join(bin_dir, name)
        run_checked(["gcc", "-O2", "-Wall", "-o", binary, source], cwd=bin_dir)
        programs[name] = binary
    return programs


def make_c_project(directory):
    """Write C_UNITS small C files, a main.c that calls them and a Makefile.

    Each unit includes two system headers and a project header, so each compilation opens
    and stats about as many files as a small real translation unit."""
    os.makedirs(directory)
    with open(os.path.join(directory, "common.h"), "w") as header:
        header.write(
            "#include <stddef.h>\n"
            "static inline int mix(int x) { return (x * 2654435761u) >> 7; }\n"
        )
    declarations = []
    calls = []
    for index in range(C_UNITS):
        with open(os.path.join(directory, f"unit_{index:03}.c"), "w") as unit:
            unit.write(
                "#include <stdio.h>\n"
                "#include <string.h>\n"
                '#include "common.h"\n'
                f"int unit_{index:03}(int x) {{\n"
                "    char text[32];\n"
                f"    snprintf(text, sizeof text, \"%d\", mix(x + {index}));\n"
                "    return (int)strlen(text);\n"
                "}\n"
            )
        declarations.append(f"int unit_{index:03}(int x);\n")
        calls.append(f"    total += unit_{index:03}(argc);\n")
    with open(os.path.join(directory, "main.c"), "w") as main:
        main.write("#include <stdio.h>\n")
        main.writelines(declarations)
        main.write("int main(int argc, char **argv) {\n    (void)argv;\n    int total = 0;\n")
        main.writelines(calls)
        main.write('    printf("%d\\n", total);\n    return 0;\n}\n')
    with open(os.path.join(directory, "Makefile"), "w") as makefile:
        makefile.write(
            "CC = gcc\n"
            "CFLAGS = -O2\n"
            "OBJECTS = main.o $(patsubst %.c,%.o,$(wildcard unit_*.c))\n"
            "program: $(OBJECTS)\n"
            "\t$(CC) -o $@ $(OBJECTS)\n"
            "%.o: %.c common.h\n"
            "\t$(CC) $(CFLAGS) -c -o $@ $<\n"
        )


def make_git_repository(directory, env):
    """Create a repository of GIT_DIRECTORIES * GIT_FILES_PER_DIRECTORY files with
    GIT_COMMITS commits, each after the first changing GIT_FILES_PER_COMMIT files, then pack
    it and refresh the index, so that the timed commands find a settled repository."""
    os.makedirs(directory)
    paths = []
    for directory_index in range(GIT_DIRECTORIES):
        subdirectory = os.path.join(directory, f"d{directory_index:02}")
        os.mkdir(subdirectory)
        for file_index in range(GIT_FILES_PER_DIRECTORY):
            path = os.path.join(subdirectory, f"f{file_index:03}.txt")
            with open(path, "w") as file:
                file.write(f"file {directory_index}/{file_index}\n" + "line\n" * 20)
            paths.append(path)

    git = [
        "git", "-c", "user.name=cordon bench", "-c", "user.email=bench@example.invalid",
        "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main",
    ]  # fmt: skip
    run_checked(git + ["init", "-q"], cwd=directory, env=env)
    for commit in range(GIT_COMMITS):
        if commit > 0:
            for change in range(GIT_FILES_PER_COMMIT):
                # A stride that is coprime with the file count spreads the changes over the tree.
                path = paths[(commit * GIT_FILES_PER_COMMIT + change) * 7 % len(paths)]
                with open(path, "a") as file:
                    file.write(f"change {commit}.{change}\n")
        date = f"@{GIT_DATE + commit * 3600} +0000"
        commit_env = dict(env, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        run_checked(git + ["add", "-A"], cwd=directory, env=commit_env)
        run_checked(git + ["commit", "-q", "-m", f"commit {commit}"], cwd=directory, env=commit_env)

    run_checked(git + ["gc", "-q"], cwd=directory, env=env)
    for path in paths:
        os.utime(path, (GIT_FILE_MTIME, GIT_FILE_MTIME))
    run_checked(git + ["update-index", "-q", "--refresh"], cwd=directory, env=env)
    return len(paths)
