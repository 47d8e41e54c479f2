//! The supervisor: the static filter, the notification handlers, the resolver and the tracer.

pub mod caller;
pub mod context;
pub mod exec;
pub mod filter;
pub mod fscall;
pub mod fsop;
pub mod known;
pub mod landlock;
pub mod launch;
pub mod members;
pub mod open;
pub mod report;
pub mod resolve;
pub mod signals;
pub mod tracer;
pub mod worker;

pub use launch::{run, Config, SetupError};
