//! Destinations of rendered lines: the console stream and the log file.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::rotation::SizeRotatingWriter;

/// One destination. Each line goes out in one call under a lock, so lines from concurrent
/// events never interleave and a line is never split across rotated files.
pub(crate) struct Sink {
    target: Mutex<Target>,
    is_colored: bool,
    has_failed: AtomicBool,
}

enum Target {
    /// The console (stderr) or a caller's writer. Its write errors are dropped, because the
    /// console is where they would be reported.
    Stream(Box<dyn Write + Send>),
    File(SizeRotatingWriter),
}

impl Sink {
    pub fn stream(writer: Box<dyn Write + Send>, is_colored: bool) -> Self {
        Sink::new(Target::Stream(writer), is_colored)
    }

    /// Creates a sink on the log file. Files are never colored.
    pub fn file(writer: SizeRotatingWriter) -> Self {
        Sink::new(Target::File(writer), false)
    }

    fn new(target: Target, is_colored: bool) -> Self {
        Sink {
            target: Mutex::new(target),
            is_colored,
            has_failed: AtomicBool::new(false),
        }
    }

    pub fn is_colored(&self) -> bool {
        self.is_colored
    }

    /// Writes one rendered line.
    ///
    /// Returns a notice for stderr when a write to the log file fails for the first time, and
    /// `None` otherwise, so a full disk is reported once rather than once per line. Later lines
    /// are still attempted, in case space is freed.
    pub fn write(&self, line: &[u8]) -> Option<String> {
        let mut target = self.target.lock().unwrap_or_else(PoisonError::into_inner);

        match &mut *target {
            Target::Stream(writer) => {
                let _ = writer.write_all(line).and_then(|()| writer.flush());
                None
            }
            Target::File(writer) => {
                let error = writer.write_record(line).err()?;
                if self.has_failed.swap(true, Ordering::Relaxed) {
                    return None;
                }
                Some(format!(
                    "failed to write log file {}: {error}; further write errors on this file \
                     are not reported",
                    writer.path().display()
                ))
            }
        }
    }

    pub fn flush(&self) {
        let mut target = self.target.lock().unwrap_or_else(PoisonError::into_inner);

        let _ = match &mut *target {
            Target::Stream(writer) => writer.flush(),
            Target::File(writer) => writer.flush(),
        };
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn full_disk_is_reported_once() {
        // Every write to /dev/full fails with ENOSPC, as on a full disk.
        let writer = SizeRotatingWriter::open(Path::new("/dev/full"), 1024, 1).unwrap();
        let sink = Sink::file(writer);

        let first = sink.write(b"first\n");
        let second = sink.write(b"second\n");

        let notice = first.expect("first failure is reported");
        assert!(notice.starts_with("failed to write log file /dev/full: "));
        assert!(notice.contains("No space left on device"), "{notice}");
        assert_eq!(second, None);
    }
}
