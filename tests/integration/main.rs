//! Integration tests: the real `autoscaler` binary against the stand-in panel.

mod exit_codes;
mod harness;
mod logging;
mod scaling;
