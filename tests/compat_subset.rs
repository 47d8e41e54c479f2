//! A quick part of the CPython comparison (`compat/cpython.py`): six syscall-heavy modules of
//! CPython's own test suite run natively and under cordon with audit rules in every
//! category, and every case that passes natively must pass under cordon. The full run
//! (`compat/run.sh`) takes minutes and is documented in docs/compat.md.

mod common;

use std::process::Command;

const HARNESS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/cpython.py");
const MODULES: &str = "test_stat,test_glob,test_fileio,test_tempfile,test_shutil,test_os";

#[test]
fn cpython_modules_pass_under_cordon() {
    let output = Command::new("python3")
        .args([HARNESS, "--cordon", &common::cordon_bin().display().to_string(), "--modules", MODULES, "--require", "100"])
        .output()
        .expect("start python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    eprintln!("{stdout}");
    assert!(last.starts_with("compat: "), "no summary line\n{}", common::describe(&output));
    let (passed, total) = last["compat: ".len()..].split_once(' ').and_then(|(counts, _)| counts.split_once('/')).expect("N/M in the summary");
    assert_eq!(passed, total, "{last}\n{}", common::describe(&output));
    assert!(total.parse::<u32>().unwrap_or(0) > 500, "too few cases ran: {last}");
    assert_eq!(output.status.code(), Some(0), "{}", common::describe(&output));
}
