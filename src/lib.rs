//! easypanel-autoscaler: keeps Easypanel app services at the replica count their CPU load
//! needs, one cron run at a time.
//!
//! A run flows one way: [`run`] loads the [`config`], takes the [`state`] lock, reads the
//! panel through the [`easypanel`] client, lets the pure [`engine`] decide per service,
//! applies the decisions and records them.

pub mod cli;
pub mod commands;
pub mod config;
pub mod easypanel;
pub mod engine;
pub mod logging;
pub mod run;
pub mod state;
