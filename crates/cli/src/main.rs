//! `cordon`: run a program under the sandbox, or check a profile.
//!
//! Exit status: the command's own status (128 + signal when it was killed); 125 when cordon
//! itself fails (bad option, invalid profile, kernel feature missing); 126 when the command
//! cannot be executed; 127 when it is not found.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use cordon_policy::{Action, Category, PolicyBuilder, Variables};
use cordon_supervisor::Config;

/// Exit status for cordon's own failures.
const EXIT_CORDON: u8 = 125;

#[derive(Parser)]
#[command(name = "cordon", version, about = "Run an untrusted program in a race-free sandbox")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run COMMAND under the policy; exits with COMMAND's status.
    Run(Box<RunArgs>),
    /// Validate profiles and report errors as FILE:LINE:COLUMN.
    Check {
        /// Profile files to validate.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// A TOML profile file, or builtin:NAME (repeatable). Without any, builtin:default applies.
    #[arg(long, value_name = "FILE")]
    profile: Vec<String>,
    /// Allow reading paths matching PATTERN (glob on canonical absolute paths).
    #[arg(long, value_name = "PATTERN")]
    allow_read: Vec<String>,
    /// Deny reading paths matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_read: Vec<String>,
    /// Allow reading paths matching PATTERN and log each access.
    #[arg(long, value_name = "PATTERN")]
    audit_read: Vec<String>,
    /// Allow writing to existing files matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_write: Vec<String>,
    /// Deny writing to files matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_write: Vec<String>,
    /// Allow writing to files matching PATTERN and log each access.
    #[arg(long, value_name = "PATTERN")]
    audit_write: Vec<String>,
    /// Allow creating files matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_create: Vec<String>,
    /// Deny creating files matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_create: Vec<String>,
    /// Allow creating files matching PATTERN and log each creation.
    #[arg(long, value_name = "PATTERN")]
    audit_create: Vec<String>,
    /// Allow executing files matching PATTERN (the default allows every file).
    #[arg(long, value_name = "PATTERN")]
    allow_exec: Vec<String>,
    /// Deny executing files, or running scripts whose interpreter, match PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_exec: Vec<String>,
    /// Allow executing files matching PATTERN and log each execution.
    #[arg(long, value_name = "PATTERN")]
    audit_exec: Vec<String>,
    /// Allow changing into directories matching PATTERN (the default allows every directory).
    #[arg(long, value_name = "PATTERN")]
    allow_chdir: Vec<String>,
    /// Deny changing into directories matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_chdir: Vec<String>,
    /// Allow changing into directories matching PATTERN and log each change.
    #[arg(long, value_name = "PATTERN")]
    audit_chdir: Vec<String>,
    /// Allow stat, access, readlink and directory listings of paths matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_stat: Vec<String>,
    /// Deny stat, access, readlink and directory listings of paths matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_stat: Vec<String>,
    /// Allow the stat family on paths matching PATTERN and log each access.
    #[arg(long, value_name = "PATTERN")]
    audit_stat: Vec<String>,
    /// Allow unlinking files and removing directories matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_delete: Vec<String>,
    /// Deny unlinking files and removing directories matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_delete: Vec<String>,
    /// Allow deleting paths matching PATTERN and log each deletion.
    #[arg(long, value_name = "PATTERN")]
    audit_delete: Vec<String>,
    /// Allow renaming and hard-linking from and to paths matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_rename: Vec<String>,
    /// Deny renaming and hard-linking from or to paths matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_rename: Vec<String>,
    /// Allow renaming and hard-linking paths matching PATTERN and log each one.
    #[arg(long, value_name = "PATTERN")]
    audit_rename: Vec<String>,
    /// Allow chmod, chown, utime, truncate and extended attributes on paths matching PATTERN.
    #[arg(long, value_name = "PATTERN")]
    allow_attr: Vec<String>,
    /// Deny changing attributes (mode, owner, times, size, xattrs) of paths matching PATTERN (EACCES).
    #[arg(long, value_name = "PATTERN")]
    deny_attr: Vec<String>,
    /// Allow changing attributes of paths matching PATTERN and log each change.
    #[arg(long, value_name = "PATTERN")]
    audit_attr: Vec<String>,
    /// Allow every change below PATTERN: write, create, delete, rename and attr in one rule.
    #[arg(long, value_name = "PATTERN")]
    allow_modify: Vec<String>,
    /// Make paths matching PATTERN, and everything below them, look nonexistent (ENOENT).
    #[arg(long, value_name = "PATTERN")]
    hide: Vec<String>,
    /// Set a category's default action, e.g. read=deny.
    #[arg(long = "default", value_name = "CATEGORY=ACTION")]
    defaults: Vec<String>,
    /// Write a JSON-lines audit log of every deny, audit and hide decision to FILE.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Do not print denial lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Start COMMAND in a new session even when stdin is a terminal.
    #[arg(long)]
    new_session: bool,
    /// Keep inherited file descriptor N open in the sandbox (repeatable).
    #[arg(long, value_name = "N")]
    keep_fd: Vec<i32>,
    /// Start COMMAND with an empty environment.
    #[arg(long)]
    clean_env: bool,
    /// Run even when the kernel cannot enforce Landlock (file-system bound and scoping),
    /// relying on the supervisor's checks alone.
    #[arg(long)]
    best_effort: bool,
    /// Kill the sandbox after SECONDS (fractions allowed); cordon then exits with 124.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Processes the sandbox may have at once (zombies count, threads do not); fork beyond
    /// the limit fails with EAGAIN.
    #[arg(long, value_name = "N")]
    max_processes: Option<usize>,
    /// Data-segment limit (RLIMIT_DATA) of every sandboxed process, e.g. 512M or 2G.
    #[arg(long, value_name = "SIZE")]
    memory: Option<String>,
    /// Run where ptrace is forbidden (some containers): exec is bounded by Landlock's execute
    /// trees only, exec denies inside them, chdir rules and executable mappings are not
    /// checked, and a pid namespace ends the sandbox when cordon dies.
    #[arg(long)]
    without_ptrace: bool,
    /// Print what is enforced at start-up (the Landlock ABI and trees).
    #[arg(long, short)]
    verbose: bool,
    /// The command to run and its arguments.
    #[arg(required = true, last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The rule options, in the order their arguments are matched against command-line indices.
const RULE_OPTIONS: &[(&str, &str, Action, &[Category])] = &[
    ("allow_read", "--allow-read", Action::Allow, &[Category::Read]),
    ("deny_read", "--deny-read", Action::Deny, &[Category::Read]),
    ("audit_read", "--audit-read", Action::Audit, &[Category::Read]),
    ("allow_write", "--allow-write", Action::Allow, &[Category::Write]),
    ("deny_write", "--deny-write", Action::Deny, &[Category::Write]),
    ("audit_write", "--audit-write", Action::Audit, &[Category::Write]),
    ("allow_create", "--allow-create", Action::Allow, &[Category::Create]),
    ("deny_create", "--deny-create", Action::Deny, &[Category::Create]),
    ("audit_create", "--audit-create", Action::Audit, &[Category::Create]),
    ("allow_exec", "--allow-exec", Action::Allow, &[Category::Exec]),
    ("deny_exec", "--deny-exec", Action::Deny, &[Category::Exec]),
    ("audit_exec", "--audit-exec", Action::Audit, &[Category::Exec]),
    ("allow_chdir", "--allow-chdir", Action::Allow, &[Category::Chdir]),
    ("deny_chdir", "--deny-chdir", Action::Deny, &[Category::Chdir]),
    ("audit_chdir", "--audit-chdir", Action::Audit, &[Category::Chdir]),
    ("allow_stat", "--allow-stat", Action::Allow, &[Category::Stat]),
    ("deny_stat", "--deny-stat", Action::Deny, &[Category::Stat]),
    ("audit_stat", "--audit-stat", Action::Audit, &[Category::Stat]),
    ("allow_delete", "--allow-delete", Action::Allow, &[Category::Delete]),
    ("deny_delete", "--deny-delete", Action::Deny, &[Category::Delete]),
    ("audit_delete", "--audit-delete", Action::Audit, &[Category::Delete]),
    ("allow_rename", "--allow-rename", Action::Allow, &[Category::Rename]),
    ("deny_rename", "--deny-rename", Action::Deny, &[Category::Rename]),
    ("audit_rename", "--audit-rename", Action::Audit, &[Category::Rename]),
    ("allow_attr", "--allow-attr", Action::Allow, &[Category::Attr]),
    ("deny_attr", "--deny-attr", Action::Deny, &[Category::Attr]),
    ("audit_attr", "--audit-attr", Action::Audit, &[Category::Attr]),
    ("allow_modify", "--allow-modify", Action::Allow, &[Category::Write, Category::Create, Category::Delete, Category::Rename, Category::Attr]),
];

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { ExitCode::from(EXIT_CORDON) } else { ExitCode::SUCCESS };
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(EXIT_CORDON);
        }
    };
    let verbose = matches!(&cli.command, Command::Run(args) if args.verbose);
    init_logging(verbose);
    match cli.command {
        Command::Check { files } => check(&files),
        Command::Run(args) => {
            let run_matches = matches.subcommand_matches("run").expect("clap matched the run subcommand");
            run(args, run_matches)
        }
    }
}

/// Sends cordon's own diagnostics to stderr: warnings by default, start-up facts with
/// `--verbose`, anything `CORDON_LOG` selects (e.g. `CORDON_LOG=debug`).
fn init_logging(verbose: bool) {
    let default_level = if verbose { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("CORDON_LOG").unwrap_or_else(|_| default_level.into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        match cordon_policy::check_profile(file, Variables::from_process()) {
            Ok(()) => {
                println!("{}: ok", file.display());
            }
            Err(error) => {
                eprintln!("{error}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run(args: Box<RunArgs>, matches: &ArgMatches) -> ExitCode {
    let config = match build_config(args, matches) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("cordon: {message}");
            return ExitCode::from(EXIT_CORDON);
        }
    };
    match cordon_supervisor::run(config) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("cordon: {error}");
            ExitCode::from(error.exit_code().clamp(0, 255) as u8)
        }
    }
}

fn build_config(args: Box<RunArgs>, matches: &ArgMatches) -> Result<Config, String> {
    let mut builder = PolicyBuilder::new(Variables::from_process());
    if args.profile.is_empty() {
        builder.load_builtin("default").map_err(|e| e.to_string())?;
    }
    for profile in &args.profile {
        builder.load_profile_arg(profile).map_err(|e| e.to_string())?;
    }
    for default in &args.defaults {
        let (category, action) = parse_default(default)?;
        builder.set_default(category, action);
    }
    for (action, category, pattern, option) in rules_in_order(matches) {
        builder.add_rule(action, category, &pattern, option).map_err(|e| e.to_string())?;
    }
    for pattern in &args.hide {
        builder.add_hide(pattern, "--hide").map_err(|e| e.to_string())?;
    }
    let policy = builder.build().map_err(|e| e.to_string())?;
    for &fd in &args.keep_fd {
        if fd < 3 || !fd_is_open(fd) {
            return Err(format!("--keep-fd {fd}: not an open file descriptor above 2"));
        }
    }
    let log = match &args.log {
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|error| format!("--log {}: cannot open for appending: {error}", path.display()))?,
        ),
        None => None,
    };
    let timeout = match args.timeout {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => Some(std::time::Duration::from_secs_f64(seconds)),
        Some(seconds) => return Err(format!("--timeout {seconds}: expected a positive number of seconds")),
        None => None,
    };
    if args.max_processes == Some(0) {
        return Err("--max-processes 0: the limit counts the command itself, so it must be at least 1".into());
    }
    let memory = args.memory.as_deref().map(parse_size).transpose()?;
    let mut keep_fds = args.keep_fd.clone();
    keep_fds.sort_unstable();
    keep_fds.dedup();
    Ok(Config {
        policy,
        command: args.command,
        log,
        quiet: args.quiet,
        new_session: args.new_session,
        keep_fds,
        clean_env: args.clean_env,
        best_effort: args.best_effort,
        timeout,
        max_processes: args.max_processes,
        memory,
        without_ptrace: args.without_ptrace,
    })
}

/// Collects the rule options as (action, category, pattern, option name), in command-line order, so
/// that "the last matching rule wins" refers to the order the user typed them in.
fn rules_in_order(matches: &ArgMatches) -> Vec<(Action, Category, String, &'static str)> {
    let mut rules = Vec::new();
    for &(id, option, action, categories) in RULE_OPTIONS {
        let (Some(indices), Some(values)) = (matches.indices_of(id), matches.get_many::<String>(id)) else { continue };
        for (index, value) in indices.zip(values) {
            for &category in categories {
                rules.push((index, action, category, value.clone(), option));
            }
        }
    }
    rules.sort_by_key(|rule| rule.0);
    rules.into_iter().map(|(_, action, category, pattern, option)| (action, category, pattern, option)).collect()
}

fn parse_default(text: &str) -> Result<(Category, Action), String> {
    let (category, action) = text
        .split_once('=')
        .ok_or_else(|| format!("--default {text:?}: expected CATEGORY=ACTION, e.g. read=deny"))?;
    let category: Category = category.parse().map_err(|_| {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        format!("--default {text:?}: unknown category {category:?}; expected one of {}", names.join(", "))
    })?;
    let action: Action = action.parse().map_err(|_| format!("--default {text:?}: unknown action {action:?}; expected allow, deny, audit or kill"))?;
    Ok((category, action))
}

/// The smallest `--memory`: below it the dynamic loader cannot even map a program, which dies
/// with SIGSEGV and no message (measured with a 100-byte limit).
const MIN_MEMORY: u64 = 4 << 20;

/// Parses a byte count with an optional K, M or G suffix (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || format!("--memory {text:?}: expected a size such as 512M or 2G");
    let (digits, unit) = match text.char_indices().last() {
        Some((index, suffix)) if suffix.is_ascii_alphabetic() => (&text[..index], suffix.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(invalid()),
    };
    let value: u64 = digits.parse().map_err(|_| invalid())?;
    let bytes = value.checked_mul(1 << shift).ok_or_else(invalid)?;
    if bytes < MIN_MEMORY {
        return Err(format!("--memory {text:?}: too small for a process to start; use at least 4M"));
    }
    Ok(bytes)
}

fn fd_is_open(fd: i32) -> bool {
    std::fs::metadata(format!("/proc/self/fd/{fd}")).is_ok()
}
