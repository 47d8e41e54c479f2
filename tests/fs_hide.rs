//! Hidden paths on every route that can observe a file. Each test runs one Python script (or
//! a real program) natively, where the hidden names behave like any file, and under cordon
//! with `--hide`. Under cordon the hidden names must look nonexistent (ENOENT) and
//! create-type calls on them must fail with EACCES. The visible siblings must behave as they
//! do natively.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

use common::fs_support::{
    assert_lines, give_tree_to, python_command, run_native, run_sandboxed, snapshot, stdout_lines,
};
use common::sandbox::{path_str, stdout_text, PYTHON};
use common::{describe, identities, Identity, Scratch};

/// Builds the tree every route test uses and returns its policy. Hidden: `hidden` (a file),
/// `hidden-link` (a symbolic link to `visible`), `hidden-exe` (a script) and the directory
/// `hdir` with `hdir/sub` and `hdir/inner/`. Visible: `visible`, `visible-exe`, `vdir/sub`,
/// and the links `link-to-hidden -> hidden`, `link-to-visible -> visible`,
/// `link-into-hdir -> hdir/sub` and `link-to-hdir -> hdir`. `hidden` and `visible` carry
/// the extended attribute `user.tag`.
fn build_tree(who: Identity, dir: &Scratch) -> Vec<String> {
    let root = &dir.path;
    fs::write(root.join("visible"), "visible\n").expect("write visible");
    fs::write(root.join("hidden"), "hidden\n").expect("write hidden");
    for name in ["visible-exe", "hidden-exe"] {
        fs::write(root.join(name), format!("#!/bin/sh\necho {name} ran\n")).expect("write script");
        fs::set_permissions(root.join(name), fs::Permissions::from_mode(0o755))
            .expect("chmod script");
    }

    fs::create_dir_all(root.join("hdir/inner")).expect("mkdir hdir");
    fs::write(root.join("hdir/sub"), "below a hidden directory\n").expect("write hdir/sub");
    fs::create_dir(root.join("vdir")).expect("mkdir vdir");
    fs::write(root.join("vdir/sub"), "below a visible directory\n").expect("write vdir/sub");

    symlink("visible", root.join("hidden-link")).expect("symlink hidden-link");
    symlink("hidden", root.join("link-to-hidden")).expect("symlink link-to-hidden");
    symlink("visible", root.join("link-to-visible")).expect("symlink link-to-visible");
    symlink("hdir/sub", root.join("link-into-hdir")).expect("symlink link-into-hdir");
    symlink("hdir", root.join("link-to-hdir")).expect("symlink link-to-hdir");

    for name in ["visible", "hidden"] {
        let status = std::process::Command::new("setfattr")
            .args(["-n", "user.tag", "-v", name])
            .arg(root.join(name))
            .status()
            .expect("run setfattr");
        assert!(status.success(), "setfattr on {name}");
    }

    give_tree_to(who, root);
    let base = path_str(root);
    strings![
        "-q",
        "--allow-modify",
        format!("{base}/**"),
        "--hide",
        format!("{base}/hidden*"),
        "--hide",
        format!("{base}/hdir")
    ]
}

/// Runs `body` natively and under cordon, each in a fresh tree, as every identity. Asserts
/// the lines each run prints and that the run under cordon left its tree unchanged.
fn check_route(route: &str, body: &str, native: &[&str], hidden: &[&str]) {
    for who in identities() {
        let native_dir = Scratch::new(who, &format!("{route}-native"));
        build_tree(who, &native_dir);
        let output = run_native(
            who,
            &native_dir.path,
            &python_command(&native_dir.path, body),
        );
        assert_lines(&output, native, &format!("{route} natively as {who:?}"));

        let dir = Scratch::new(who, route);
        let policy = build_tree(who, &dir);
        let before = snapshot(&dir.path);
        let output = run_sandboxed(who, &dir.path, &policy, &python_command(&dir.path, body));
        assert_lines(&output, hidden, &format!("{route} under cordon as {who:?}"));
        let after = snapshot(&dir.path);
        assert_eq!(
            after, before,
            "{route} under cordon changed the tree as {who:?}"
        );
    }
}

#[test]
fn hide_stat() {
    let body = r#"
for name in ("hidden", "hdir", "hidden-link", "hidden-exe", d + "/hidden", "visible", "vdir", "link-to-visible"):
    attempt(f"stat {name.replace(d, 'D')}", lambda: sys_call("stat", name, buffer(144)))
    attempt(f"newfstatat {name.replace(d, 'D')}", lambda: sys_call("newfstatat", AT_FDCWD, name, buffer(144), 0))
"#;
    let names = [
        "hidden",
        "hdir",
        "hidden-link",
        "hidden-exe",
        "D/hidden",
        "visible",
        "vdir",
        "link-to-visible",
    ];
    let (native, hidden) = expectations(&names, &["stat", "newfstatat"], 5, "ok 0", "ENOENT");
    check_route("hide-stat", body, &refs(&native), &refs(&hidden));
}

/// Builds the expected lines `CALL NAME RESULT` for each name and call: the first
/// `hidden_count` names give `hidden_result` under cordon, the others `visible_result`.
/// Natively every name gives `visible_result`.
fn expectations(
    names: &[&str],
    calls: &[&str],
    hidden_count: usize,
    visible_result: &str,
    hidden_result: &str,
) -> (Vec<String>, Vec<String>) {
    let mut native = Vec::new();
    let mut hidden = Vec::new();
    for (index, name) in names.iter().enumerate() {
        for call in calls {
            native.push(format!("{call} {name} {visible_result}"));
            let result = if index < hidden_count {
                hidden_result
            } else {
                visible_result
            };
            hidden.push(format!("{call} {name} {result}"));
        }
    }
    (native, hidden)
}

fn refs(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

#[test]
fn hide_lstat() {
    let body = r#"
for name in ("hidden", "hidden-link", "hdir/sub", "link-to-hidden", "visible", "link-into-hdir"):
    attempt(f"lstat {name}", lambda: sys_call("lstat", name, buffer(144)))
    attempt(f"nofollow {name}", lambda: sys_call("newfstatat", AT_FDCWD, name, buffer(144), 0x100))
"#;
    let names = [
        "hidden",
        "hidden-link",
        "hdir/sub",
        "link-to-hidden",
        "visible",
        "link-into-hdir",
    ];
    let (native, hidden) = expectations(&names, &["lstat", "nofollow"], 3, "ok 0", "ENOENT");
    check_route("hide-lstat", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_statx() {
    let body = r#"
cwd = os.open(".", os.O_RDONLY)
for name in ("hidden", "hdir", "hidden-link", "link-to-hidden", "visible", "vdir"):
    attempt(f"statx {name}", lambda: sys_call("statx", AT_FDCWD, name, 0, 0x7ff, buffer(256)))
    attempt(f"statx-nofollow {name}", lambda: sys_call("statx", AT_FDCWD, name, 0x100, 0x7ff, buffer(256)))
    attempt(f"statx-dirfd {name}", lambda: sys_call("statx", cwd, name, 0, 0x7ff, buffer(256)))
"#;
    // link-to-hidden itself is visible, so only following it fails.
    let native: Vec<String> = [
        "hidden",
        "hdir",
        "hidden-link",
        "link-to-hidden",
        "visible",
        "vdir",
    ]
    .iter()
    .flat_map(|name| {
        ["statx", "statx-nofollow", "statx-dirfd"].map(|call| format!("{call} {name} ok 0"))
    })
    .collect();
    let hidden: Vec<String> = native
        .iter()
        .map(|line| {
            let hidden_name = ["hidden ", "hdir ", "hidden-link "]
                .iter()
                .any(|name| line.contains(&format!(" {name}")));
            let through_link =
                line.contains(" link-to-hidden ") && !line.starts_with("statx-nofollow");
            if hidden_name || through_link {
                line.replace("ok 0", "ENOENT")
            } else {
                line.clone()
            }
        })
        .collect();
    check_route("hide-statx", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_access() {
    let body = r#"
for name in ("hidden", "hdir/sub", "link-to-hidden", "visible", "vdir/sub"):
    attempt(f"access {name}", lambda: sys_call("access", name, os.F_OK))
    attempt(f"faccessat {name}", lambda: os.access(name, os.R_OK) or sys_call("access", "/nonexistent-cordon-path", 0))
    attempt(f"faccessat2 {name}", lambda: sys_call("faccessat2", AT_FDCWD, name, os.F_OK, 0x200))
"#;
    // os.access returns False instead of raising, so a False result is turned into the
    // ENOENT of a missing path and a True result into `ok True`.
    let names = [
        "hidden",
        "hdir/sub",
        "link-to-hidden",
        "visible",
        "vdir/sub",
    ];
    let mut native = Vec::new();
    let mut hidden = Vec::new();
    for (index, name) in names.iter().enumerate() {
        for (call, ok) in [
            ("access", "ok 0"),
            ("faccessat", "ok True"),
            ("faccessat2", "ok 0"),
        ] {
            native.push(format!("{call} {name} {ok}"));
            hidden.push(format!(
                "{call} {name} {}",
                if index < 3 { "ENOENT" } else { ok }
            ));
        }
    }
    check_route("hide-access", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_readlink() {
    let body = r#"
def read_link(name):
    data = buffer(256)
    length = sys_call("readlink", name, data, 256)
    return data.raw[:length].decode()
for name in ("hidden-link", "hdir/../hidden-link", "link-to-hidden", "link-into-hdir", "link-to-visible"):
    attempt(f"readlink {name}", lambda: read_link(name))
    attempt(f"readlinkat {name}", lambda: os.readlink(name))
attempt("stat link-to-hidden", lambda: sys_call("stat", "link-to-hidden", buffer(144)))
"#;
    let native = [
        "readlink hidden-link ok visible",
        "readlinkat hidden-link ok visible",
        "readlink hdir/../hidden-link ok visible",
        "readlinkat hdir/../hidden-link ok visible",
        "readlink link-to-hidden ok hidden",
        "readlinkat link-to-hidden ok hidden",
        "readlink link-into-hdir ok hdir/sub",
        "readlinkat link-into-hdir ok hdir/sub",
        "readlink link-to-visible ok visible",
        "readlinkat link-to-visible ok visible",
        "stat link-to-hidden ok 0",
    ];
    // The links to hidden targets are visible themselves, so their text can be read, but
    // following them fails.
    let hidden = [
        "readlink hidden-link ENOENT",
        "readlinkat hidden-link ENOENT",
        "readlink hdir/../hidden-link ENOENT",
        "readlinkat hdir/../hidden-link ENOENT",
        "readlink link-to-hidden ok hidden",
        "readlinkat link-to-hidden ok hidden",
        "readlink link-into-hdir ok hdir/sub",
        "readlinkat link-into-hdir ok hdir/sub",
        "readlink link-to-visible ok visible",
        "readlinkat link-to-visible ok visible",
        "stat link-to-hidden ENOENT",
    ];
    check_route("hide-readlink", body, &native, &hidden);
}

#[test]
fn hide_getdents_ls() {
    let all = [
        ".",
        "..",
        "hdir",
        "hidden",
        "hidden-exe",
        "hidden-link",
        "link-into-hdir",
        "link-to-hdir",
        "link-to-hidden",
        "link-to-visible",
        "vdir",
        "visible",
        "visible-exe",
    ];
    let visible: Vec<&str> = all
        .iter()
        .copied()
        .filter(|name| !name.starts_with("hid") && *name != "hdir")
        .collect();
    for who in identities() {
        let native_dir = Scratch::new(who, "hide-ls-native");
        build_tree(who, &native_dir);
        let native = run_native(who, &native_dir.path, &strings!["ls", "-a"]);
        assert_lines(&native, &all, &format!("ls -a natively as {who:?}"));

        let dir = Scratch::new(who, "hide-ls");
        let policy = build_tree(who, &dir);
        let output = run_sandboxed(who, &dir.path, &policy, &strings!["ls", "-a"]);
        assert_lines(&output, &visible, &format!("ls -a under cordon as {who:?}"));

        let body = r#"
print(sorted(os.listdir(".")))
print(sorted(getdents_names(".", 64)[0]))
print(sorted(entry.name for entry in os.scandir(".")))
"#;
        let python = run_sandboxed(who, &dir.path, &policy, &python_command(&dir.path, body));
        let listed: Vec<&str> = visible
            .iter()
            .copied()
            .filter(|name| !name.starts_with('.'))
            .collect();
        let with_dots = format!("{visible:?}").replace('"', "'");
        let without_dots = format!("{listed:?}").replace('"', "'");
        assert_lines(
            &python,
            &[&without_dots, &with_dots, &without_dots],
            &format!("python listings under cordon as {who:?}"),
        );
    }
}

/// Script that fills `many/` with 2400 names `h-NNNN` and 200 names `v-NNN`. It keeps only
/// the three `v-` names that come last in the directory's order (ext4 lists entries in hash
/// order), so several whole getdents chunks before them contain only hidden names. Prints
/// the position of the first kept `v-` name in the directory order and the three names.
const CHUNK_SETUP: &str = r#"
import os, sys
many = os.path.join(sys.argv[1], "many")
os.mkdir(many)
for i in range(2400):
    open(os.path.join(many, f"h-{i:04d}"), "w").close()
for i in range(200):
    open(os.path.join(many, f"v-{i:03d}"), "w").close()
order = os.listdir(many)
visible = [name for name in order if name.startswith("v-")]
for name in visible[:-3]:
    os.unlink(os.path.join(many, name))
order = os.listdir(many)
keep = sorted(visible[-3:])
print(min(order.index(name) for name in keep), *keep)
"#;

#[test]
fn hide_getdents_whole_chunks() {
    let body = r#"
for size in (64, 256, 4096, 32768):
    names, calls = getdents_names("many", size)
    hidden = [name for name in names if name.startswith("h-")]
    print(size, "hidden", len(hidden), "visible", sorted(name for name in names if not name.startswith("h-")), flush=True)
"#;
    for who in identities() {
        for run in ["native", "cordon"] {
            let dir = Scratch::new(who, &format!("hide-chunks-{run}"));
            let setup = run_native(
                who,
                &dir.path,
                &strings![PYTHON, "-c", CHUNK_SETUP, path_str(&dir.path)],
            );
            let fields: Vec<String> = stdout_text(&setup)
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            assert_eq!(
                fields.len(),
                4,
                "chunk setup as {who:?}:\n{}",
                describe(&setup)
            );
            let first_visible: usize = fields[0].parse().expect("position");
            // glibc's readdir reads 32 KiB chunks, about 1024 of these names. With the first
            // visible name after position 2048, the second chunk ls reads is entirely hidden.
            assert!(first_visible >= 2048, "as {who:?}, the first visible name is at {first_visible}; the hidden names do not fill whole chunks");
            let visible =
                format!("{:?}", [".", "..", &fields[1], &fields[2], &fields[3]]).replace('"', "'");

            let command = python_command(&dir.path, body);
            let mut ls_expected = vec![".".to_owned(), "..".to_owned()];
            ls_expected.extend(fields[1..].iter().cloned());
            if run == "native" {
                let output = run_native(who, &dir.path, &command);
                let lines = stdout_lines(&output);
                assert_eq!(
                    lines.len(),
                    4,
                    "natively as {who:?}:\n{}",
                    describe(&output)
                );
                assert!(
                    lines.iter().all(|line| line.contains("hidden 2400 ")),
                    "natively as {who:?}:\n{}",
                    describe(&output)
                );
                continue;
            }
            let base = path_str(&dir.path);
            let policy = strings!["-q", "--hide", format!("{base}/many/h-*")];
            let output = run_sandboxed(who, &dir.path, &policy, &command);
            let expected: Vec<String> = [64, 256, 4096, 32768]
                .iter()
                .map(|size| format!("{size} hidden 0 visible {visible}"))
                .collect();
            assert_lines(
                &output,
                &refs(&expected),
                &format!("getdents of many/ under cordon as {who:?}"),
            );

            let ls = run_sandboxed(who, &dir.path, &policy, &strings!["ls", "-a", "-f", "many"]);
            let mut ls_lines = stdout_lines(&ls);
            ls_lines.sort();
            ls_expected.sort();
            assert_eq!(
                ls_lines,
                ls_expected,
                "ls -a -f many under cordon as {who:?}:\n{}",
                describe(&ls)
            );
        }
    }
}

#[test]
fn hide_open() {
    let body = r#"
def open_close(name, flags):
    os.close(os.open(name, flags))
    return 0
for name, flags in (("hidden", os.O_RDONLY), ("hidden", os.O_WRONLY), ("hidden-link", os.O_RDONLY), ("hdir", os.O_RDONLY | os.O_DIRECTORY), ("hdir/sub", os.O_RDONLY), ("hidden", os.O_PATH), ("visible", os.O_RDONLY), ("vdir/sub", os.O_RDONLY)):
    attempt(f"open {name} {flags:o}", lambda: open_close(name, flags))
"#;
    let opens = [
        ("hidden", "0"),
        ("hidden", "1"),
        ("hidden-link", "0"),
        ("hdir", "200000"),
        ("hdir/sub", "0"),
        ("hidden", "10000000"),
        ("visible", "0"),
        ("vdir/sub", "0"),
    ];
    let native: Vec<String> = opens
        .iter()
        .map(|(name, flags)| format!("open {name} {flags} ok 0"))
        .collect();
    let hidden: Vec<String> = opens
        .iter()
        .enumerate()
        .map(|(index, (name, flags))| {
            format!(
                "open {name} {flags} {}",
                if index < 6 { "ENOENT" } else { "ok 0" }
            )
        })
        .collect();
    check_route("hide-open", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_exec() {
    let body = r#"
for name in ("./hidden-exe", "hdir/../visible-exe", "./visible-exe"):
    attempt(f"exec {name}", lambda: subprocess.run([name], capture_output=True).stdout.decode().strip())
print("sh", subprocess.run(["sh", "-c", "./hidden-exe"], capture_output=True).returncode, flush=True)
"#;
    let native = [
        "exec ./hidden-exe ok hidden-exe ran",
        "exec hdir/../visible-exe ok visible-exe ran",
        "exec ./visible-exe ok visible-exe ran",
        "sh 0",
    ];
    let hidden = [
        "exec ./hidden-exe ENOENT",
        "exec hdir/../visible-exe ENOENT",
        "exec ./visible-exe ok visible-exe ran",
        "sh 127",
    ];
    check_route("hide-exec", body, &native, &hidden);
}

#[test]
fn hide_chdir() {
    let body = r#"
def change(name):
    os.chdir(name)
    here = os.getcwd()
    os.chdir(d)
    return here.replace(d, "D")
for name in ("hdir", "hdir/inner", "link-to-hdir", "vdir/../hdir", "vdir"):
    attempt(f"chdir {name}", lambda: change(name))
print("sh", subprocess.run(["sh", "-c", "cd hdir"], capture_output=True).returncode, flush=True)
"#;
    let native = [
        "chdir hdir ok D/hdir",
        "chdir hdir/inner ok D/hdir/inner",
        "chdir link-to-hdir ok D/hdir",
        "chdir vdir/../hdir ok D/hdir",
        "chdir vdir ok D/vdir",
        "sh 0",
    ];
    let hidden = [
        "chdir hdir ENOENT",
        "chdir hdir/inner ENOENT",
        "chdir link-to-hdir ENOENT",
        "chdir vdir/../hdir ENOENT",
        "chdir vdir ok D/vdir",
        "sh 2",
    ];
    check_route("hide-chdir", body, &native, &hidden);
}

#[test]
fn hide_statfs() {
    let body = r#"
for name in ("hidden", "hdir", "hdir/sub", "link-to-hidden", "visible", "vdir"):
    attempt(f"statfs {name}", lambda: sys_call("statfs", name, buffer(120)))
    attempt(f"statvfs {name}", lambda: os.statvfs(name) and 0)
"#;
    let names = [
        "hidden",
        "hdir",
        "hdir/sub",
        "link-to-hidden",
        "visible",
        "vdir",
    ];
    let (native, hidden) = expectations(&names, &["statfs", "statvfs"], 4, "ok 0", "ENOENT");
    check_route("hide-statfs", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_getxattr() {
    let body = r#"
def xattr_at(name):
    value = buffer(64)
    args = ctypes.create_string_buffer(struct.pack("QII", ctypes.addressof(value), 64, 0), 16)
    length = sys_call("getxattrat", AT_FDCWD, name, 0, "user.tag", args, 16)
    return value.raw[:length].decode()
def file_attr(name):
    return sys_call("file_getattr", AT_FDCWD, name, buffer(24), 24, 0)
for name in ("hidden", "link-to-hidden", "hdir/../hidden", "visible"):
    attempt(f"getxattr {name}", lambda: os.getxattr(name, "user.tag").decode())
    attempt(f"lgetxattr {name}", lambda: sys_call("lgetxattr", name, "user.tag", buffer(64), 64))
    attempt(f"listxattr {name}", lambda: os.listxattr(name))
    attempt(f"getxattrat {name}", lambda: xattr_at(name))
    attempt(f"file_getattr {name}", lambda: file_attr(name))
"#;
    let native = [
        "getxattr hidden ok hidden",
        "lgetxattr hidden ok 6",
        "listxattr hidden ok ['user.tag']",
        "getxattrat hidden ok hidden",
        "file_getattr hidden ok 0",
        "getxattr link-to-hidden ok hidden",
        "lgetxattr link-to-hidden ENODATA",
        "listxattr link-to-hidden ok ['user.tag']",
        "getxattrat link-to-hidden ok hidden",
        "file_getattr link-to-hidden ok 0",
        "getxattr hdir/../hidden ok hidden",
        "lgetxattr hdir/../hidden ok 6",
        "listxattr hdir/../hidden ok ['user.tag']",
        "getxattrat hdir/../hidden ok hidden",
        "file_getattr hdir/../hidden ok 0",
        "getxattr visible ok visible",
        "lgetxattr visible ok 7",
        "listxattr visible ok ['user.tag']",
        "getxattrat visible ok visible",
        "file_getattr visible ok 0",
    ];
    // lgetxattr of the visible link link-to-hidden reads the link itself, which has no
    // user.tag, so it gives ENODATA both ways.
    let hidden: Vec<String> = native
        .iter()
        .map(|line| {
            if line.contains(" visible ") || line.starts_with("lgetxattr link-to-hidden") {
                (*line).to_owned()
            } else {
                let mut words: Vec<&str> = line.split(' ').take(2).collect();
                words.push("ENOENT");
                words.join(" ")
            }
        })
        .collect();
    check_route("hide-xattr", body, &native, &refs(&hidden));
}

#[test]
fn hide_inotify_add_watch() {
    let body = r#"
watcher = libc.inotify_init1(0)
for name in ("hidden", "hdir", "hdir/sub", "link-to-hidden", "visible"):
    attempt(f"watch {name}", lambda: sys_call("inotify_add_watch", watcher, name, 2) > 0)
"#;
    let names = ["hidden", "hdir", "hdir/sub", "link-to-hidden", "visible"];
    let (native, hidden) = expectations(&names, &["watch"], 4, "ok True", "ENOENT");
    check_route("hide-inotify", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_traversal() {
    let body = r#"
for name in ("hdir/../visible", "hdir/sub", "hdir/inner/../../visible", "link-to-hdir/../visible", "hdir/inner/../sub", "vdir/../visible", "vdir/../vdir/sub"):
    attempt(f"stat {name}", lambda: sys_call("stat", name, buffer(144)))
    attempt(f"open {name}", lambda: os.close(os.open(name, os.O_RDONLY)))
"#;
    let names = [
        "hdir/../visible",
        "hdir/sub",
        "hdir/inner/../../visible",
        "link-to-hdir/../visible",
        "hdir/inner/../sub",
        "vdir/../visible",
        "vdir/../vdir/sub",
    ];
    let mut native = Vec::new();
    let mut hidden = Vec::new();
    for (index, name) in names.iter().enumerate() {
        for (call, ok) in [("stat", "ok 0"), ("open", "ok None")] {
            native.push(format!("{call} {name} {ok}"));
            hidden.push(format!(
                "{call} {name} {}",
                if index < 5 { "ENOENT" } else { ok }
            ));
        }
    }
    check_route("hide-traversal", body, &refs(&native), &refs(&hidden));
}

#[test]
fn hide_rename_link_source() {
    let body = r#"
attempt("rename hidden", lambda: sys_call("rename", "hidden", "moved"))
attempt("link hidden-link", lambda: sys_call("link", "hidden-link", "linked"))
attempt("rename hdir/sub", lambda: sys_call("rename", "hdir/sub", "moved-sub"))
attempt("renameat2 hidden-exe", lambda: sys_call("renameat2", AT_FDCWD, "hidden-exe", AT_FDCWD, "moved-exe", 1))
attempt("rename hdir", lambda: sys_call("rename", "hdir", "moved-dir"))
mv = subprocess.run(["mv", "hidden-link", "moved-by-mv"], capture_output=True)
print(f"mv {mv.returncode} {mv.stderr.decode().strip()}".strip(), flush=True)
"#;
    let native = [
        "rename hidden ok 0",
        "link hidden-link ok 0",
        "rename hdir/sub ok 0",
        "renameat2 hidden-exe ok 0",
        "rename hdir ok 0",
        "mv 0",
    ];
    let hidden = [
        "rename hidden ENOENT",
        "link hidden-link ENOENT",
        "rename hdir/sub ENOENT",
        "renameat2 hidden-exe ENOENT",
        "rename hdir ENOENT",
        "mv 1 mv: cannot stat 'hidden-link': No such file or directory",
    ];
    check_route("hide-source", body, &native, &hidden);
}

#[test]
fn hide_rename_link_destination() {
    let body = r#"
attempt("rename onto hidden", lambda: sys_call("rename", "visible", "hidden"))
attempt("rename to hidden-new", lambda: sys_call("rename", "vdir/sub", "hidden-new"))
attempt("link to hidden-new2", lambda: sys_call("link", "link-to-visible", "hidden-new2"))
attempt("renameat2 to hidden-new3", lambda: sys_call("renameat2", AT_FDCWD, "visible-exe", AT_FDCWD, "hidden-new3", 1))
attempt("exchange with hidden", lambda: sys_call("renameat2", AT_FDCWD, "link-to-hdir", AT_FDCWD, "hidden-exe", 2))
"#;
    let native = [
        "rename onto hidden ok 0",
        "rename to hidden-new ok 0",
        "link to hidden-new2 ok 0",
        "renameat2 to hidden-new3 ok 0",
        "exchange with hidden ok 0",
    ];
    let hidden = [
        "rename onto hidden EACCES",
        "rename to hidden-new EACCES",
        "link to hidden-new2 EACCES",
        "renameat2 to hidden-new3 EACCES",
        "exchange with hidden EACCES",
    ];
    check_route("hide-destination", body, &native, &hidden);
}

#[test]
fn hide_create_on_hidden_name() {
    let body = r#"
excl = os.O_WRONLY | os.O_CREAT | os.O_EXCL
attempt("mkdir hidden", lambda: sys_call("mkdir", "hidden", 0o755))
attempt("mkdir hidden-new", lambda: sys_call("mkdir", "hidden-new", 0o755))
attempt("mkdir hdir", lambda: sys_call("mkdir", "hdir", 0o755))
attempt("excl hidden", lambda: os.close(os.open("hidden", excl, 0o644)))
attempt("excl hidden-new2", lambda: os.close(os.open("hidden-new2", excl, 0o644)))
attempt("mknod hidden-new3", lambda: sys_call("mknod", "hidden-new3", 0o10644, 0))
attempt("mknod hidden-exe", lambda: sys_call("mknod", "hidden-exe", 0o10644, 0))
attempt("symlink hidden-new4", lambda: sys_call("symlink", "visible", "hidden-new4"))
attempt("symlink hidden-link", lambda: sys_call("symlink", "visible", "hidden-link"))
attempt("mkdir visible-new", lambda: sys_call("mkdir", "visible-new", 0o755))
"#;
    let native = [
        "mkdir hidden EEXIST",
        "mkdir hidden-new ok 0",
        "mkdir hdir EEXIST",
        "excl hidden EEXIST",
        "excl hidden-new2 ok None",
        "mknod hidden-new3 ok 0",
        "mknod hidden-exe EEXIST",
        "symlink hidden-new4 ok 0",
        "symlink hidden-link EEXIST",
        "mkdir visible-new ok 0",
    ];
    let hidden = [
        "mkdir hidden EACCES",
        "mkdir hidden-new EACCES",
        "mkdir hdir EACCES",
        "excl hidden EACCES",
        "excl hidden-new2 EACCES",
        "mknod hidden-new3 EACCES",
        "mknod hidden-exe EACCES",
        "symlink hidden-new4 EACCES",
        "symlink hidden-link EACCES",
        "mkdir visible-new ok 0",
    ];
    for who in identities() {
        let native_dir = Scratch::new(who, "hide-create-native");
        build_tree(who, &native_dir);
        let output = run_native(
            who,
            &native_dir.path,
            &python_command(&native_dir.path, body),
        );
        assert_lines(&output, &native, &format!("natively as {who:?}"));

        let dir = Scratch::new(who, "hide-create");
        let policy = build_tree(who, &dir);
        let before = snapshot(&dir.path);
        let output = run_sandboxed(who, &dir.path, &policy, &python_command(&dir.path, body));
        assert_lines(&output, &hidden, &format!("under cordon as {who:?}"));
        fs::remove_dir(dir.join("visible-new")).expect("remove visible-new");
        assert_eq!(
            snapshot(&dir.path),
            before,
            "a create on a hidden name changed the tree as {who:?}"
        );
    }
}

#[test]
fn hide_symlink_into_hidden_tree() {
    let body = r#"
for name in ("link-into-hdir", "link-to-hidden", "link-to-hdir"):
    attempt(f"open {name}", lambda: os.close(os.open(name, os.O_RDONLY)))
    attempt(f"stat {name}", lambda: sys_call("stat", name, buffer(144)))
    attempt(f"lstat {name}", lambda: sys_call("lstat", name, buffer(144)))
attempt("open link-to-visible", lambda: os.close(os.open("link-to-visible", os.O_RDONLY)))
print("cat:" + subprocess.run(["cat", "link-into-hdir"], capture_output=True).stderr.decode().strip(), flush=True)
"#;
    let native = [
        "open link-into-hdir ok None",
        "stat link-into-hdir ok 0",
        "lstat link-into-hdir ok 0",
        "open link-to-hidden ok None",
        "stat link-to-hidden ok 0",
        "lstat link-to-hidden ok 0",
        "open link-to-hdir ok None",
        "stat link-to-hdir ok 0",
        "lstat link-to-hdir ok 0",
        "open link-to-visible ok None",
        "cat:",
    ];
    let hidden = [
        "open link-into-hdir ENOENT",
        "stat link-into-hdir ENOENT",
        "lstat link-into-hdir ok 0",
        "open link-to-hidden ENOENT",
        "stat link-to-hidden ENOENT",
        "lstat link-to-hidden ok 0",
        "open link-to-hdir ENOENT",
        "stat link-to-hdir ENOENT",
        "lstat link-to-hdir ok 0",
        "open link-to-visible ok None",
        "cat:cat: link-into-hdir: No such file or directory",
    ];
    check_route("hide-symlink", body, &native, &hidden);
}
