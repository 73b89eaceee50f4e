//! Integration tests: the real `autoscaler` binary against the stand-in panel.

mod crash;
mod debug_api;
mod exit_codes;
mod faults;
mod harness;
mod logging;
mod requests;
mod scaling;
mod security;
mod status;
