//! The printed report: one step per check, each with one marker, its findings and, where
//! something is wrong, what to do.

use std::fmt;
use std::io::{self, Write};

/// The outcome of one step. The order is by severity, so the worst of several checks is
/// their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Marker {
    Ok,
    Warning,
    Failed,
}

impl Marker {
    fn word(self) -> &'static str {
        match self {
            Marker::Ok => "ok",
            Marker::Warning => "warning",
            Marker::Failed => "FAILED",
        }
    }
}

/// Width of the marker column; findings are indented past it and the step number.
const MARKER_WIDTH: usize = 9;
const INDENT: &str = "            ";

/// One numbered check of the report.
#[derive(Debug)]
pub(super) struct Step {
    number: u8,
    title: String,
    marker: Marker,
    lines: Vec<String>,
    advice: Vec<String>,
}

impl Step {
    pub fn new(number: u8, title: impl Into<String>) -> Step {
        Step {
            number,
            title: title.into(),
            marker: Marker::Ok,
            lines: Vec::new(),
            advice: Vec::new(),
        }
    }

    pub fn number(&self) -> u8 {
        self.number
    }

    pub fn is_failed(&self) -> bool {
        self.marker == Marker::Failed
    }

    /// Adds a finding.
    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// Adds findings, one per line.
    pub fn lines_from(&mut self, lines: impl IntoIterator<Item = String>) {
        self.lines.extend(lines);
    }

    /// Adds a warning: a finding that raises the step's marker to at least `warning`.
    pub fn warn(&mut self, text: impl Into<String>) {
        self.raise(Marker::Warning);
        self.lines.push(text.into());
    }

    /// Adds a failure: a finding that marks the step `FAILED`.
    pub fn fail(&mut self, text: impl Into<String>) {
        self.raise(Marker::Failed);
        self.lines.push(text.into());
    }

    /// Adds what to do about a warning or a failure of this step.
    pub fn advise(&mut self, text: impl Into<String>) {
        self.advice.push(text.into());
    }

    fn raise(&mut self, marker: Marker) {
        self.marker = self.marker.max(marker);
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.marker.word();
        writeln!(f, "{word:<MARKER_WIDTH$}{}. {}", self.number, self.title)?;
        for line in &self.lines {
            writeln!(f, "{INDENT}{line}")?;
        }
        for (index, advice) in self.advice.iter().enumerate() {
            let label = if index == 0 { "To fix: " } else { "        " };
            writeln!(f, "{INDENT}{label}{advice}")?;
        }
        Ok(())
    }
}

/// Writes text to stdout. A closed stdout (the reader quit early, as `| head` does) is not an
/// error: the remaining steps still run and decide the exit code.
pub(super) fn emit(text: impl fmt::Display) {
    let _ = write!(io::stdout().lock(), "{text}");
}

/// Formats a duration in whole milliseconds.
pub(super) fn millis(elapsed: std::time::Duration) -> String {
    format!("{} ms", elapsed.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_shows_marker_findings_and_advice() {
        let mut step = Step::new(2, "API token");
        step.fail("The panel rejected the token (HTTP 401).");
        step.advise("Create a token.");
        step.advise("Set api.token.");

        let text = step.to_string();

        assert_eq!(
            text,
            "FAILED   2. API token\n\
             \x20           The panel rejected the token (HTTP 401).\n\
             \x20           To fix: Create a token.\n\
             \x20                   Set api.token.\n"
        );
    }

    #[test]
    fn worst_marker_wins() {
        let mut step = Step::new(1, "x");
        step.fail("bad");
        step.warn("meh");

        assert_eq!(step.marker, Marker::Failed);
    }
}
