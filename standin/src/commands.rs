//! The `demo` and `bench` subcommands, which run the real autoscaler binary against a
//! stand-in panel started in this process.

pub mod bench;
pub mod child;
pub mod demo;
mod workspace;
