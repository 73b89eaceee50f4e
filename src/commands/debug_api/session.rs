//! The state of one diagnosis: the client, the config, every request made so far (for
//! `--raw`), the steps that failed and a wrong command-line argument.

use super::report::{emit, Step};
use crate::config::Config;
use crate::easypanel::probe::Probe;
use crate::easypanel::Client;

pub(super) struct Session<'a> {
    pub client: Client,
    pub config: &'a Config,
    probes: Vec<Probe>,
    failed_steps: Vec<u8>,
    argument_problem: Option<String>,
}

impl<'a> Session<'a> {
    pub fn new(client: Client, config: &'a Config) -> Session<'a> {
        Session {
            client,
            config,
            probes: Vec::new(),
            failed_steps: Vec::new(),
            argument_problem: None,
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

    /// Records that an argument names nothing the panel has. The diagnosis goes on, but it
    /// exits 2 because of the argument.
    pub fn reject_argument(&mut self, problem: String) {
        self.argument_problem = Some(problem);
    }

    /// Returns why an argument was rejected, if one was.
    pub fn argument_problem(&self) -> Option<&str> {
        self.argument_problem.as_deref()
    }
}
