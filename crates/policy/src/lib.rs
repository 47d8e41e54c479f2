//! cordon's policy: profiles, rules and the decision for each access.
//!
//! A [`PolicyBuilder`] collects rules from TOML profiles (see `docs/policy.md`) and from the
//! command line, and builds an immutable [`Policy`]. The supervisor calls [`Policy::decide`]
//! on every checked access with a canonical absolute path as raw bytes, and gets a
//! [`Decision`]. The globs of each category are compiled into one set, so one match pass
//! decides an access.
//!
//! The crate makes no system calls besides reading profile files, resolving the literal
//! prefixes of patterns with `std::fs::canonicalize`, and reading the environment and the
//! current directory in [`Variables::from_process`].

#![forbid(unsafe_code)]

mod builder;
mod error;
mod names;
mod origin;
mod pattern;
mod policy;
mod profile;
mod vars;

#[cfg(test)]
mod tests;

pub use builder::{check_profile, PolicyBuilder};
pub use error::{Location, PolicyError};
pub use names::{Action, Category, ParseNameError};
pub use origin::RuleOrigin;
pub use policy::{Decision, Policy};
pub use vars::Variables;
