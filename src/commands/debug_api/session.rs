//! The state of one diagnosis: the client, the config, every request made so far (for
//! `--raw`) and the steps that failed.

use super::report::{emit, Step};
use crate::config::Config;
use crate::easypanel::probe::Probe;
use crate::easypanel::Client;

pub(super) struct Session<'a> {
    pub client: Client,
    pub config: &'a Config,
    probes: Vec<Probe>,
    failed_steps: Vec<u8>,
}

impl<'a> Session<'a> {
    pub fn new(client: Client, config: &'a Config) -> Session<'a> {
        Session {
            client,
            config,
            probes: Vec::new(),
            failed_steps: Vec::new(),
        }
    }

    /// Keeps a finished request for the `--raw` section.
    pub fn keep(&mut self, probe: Probe) {
        self.probes.push(probe);
    }

    /// Prints a finished step at once, so a slow panel shows progress, and records whether
    /// it failed.
    pub fn report(&mut self, step: Step) {
        emit(format_args!("{step}\n"));
        if step.is_failed() {
            self.failed_steps.push(step.number());
        }
    }

    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    /// Returns the numbers of the steps marked `FAILED`, in order.
    pub fn failed_steps(&self) -> &[u8] {
        &self.failed_steps
    }
}
