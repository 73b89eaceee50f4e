//! Size-based rotation of the log file.
//!
//! This small writer exists because the maintained crates rotate by other rules.
//! `file-rotate` 0.8 splits a write across two files at its byte limit, or with
//! `BytesSurpassed` lets the file grow past it. `rolling-file` 0.2 rotates only after the file
//! has reached the limit and always keeps one backup. `logroller` 0.1 rotates as soon as a
//! write would reach the limit, rotates an empty file for an oversized line and renames
//! backups on a background thread.
//!
//! # Rules
//!
//! - A record (one rendered event) is written with one call and never split across files.
//! - When a record would take the file past `max_size` bytes, the file is rotated first: it
//!   becomes `<path>.1`, `<path>.1` becomes `<path>.2`, and so on; the backup numbered
//!   `backup_count` is deleted to make room. A file that exactly reaches `max_size` is kept.
//! - `backup_count == 0` keeps no backup: the file is truncated instead, losing its old lines
//!   but never the record being written.
//! - A record longer than `max_size` is written whole, into a fresh file unless the file is
//!   already empty.
//! - The size is read from the file before each write, so rotation carries on across runs.
//!
//! # Caveats
//!
//! - Backups numbered above `backup_count`, left from a larger setting, are not touched.
//! - Runs that overlap append whole lines to the same file, but a run that has not noticed the
//!   other's rotation keeps writing into the renamed file, so a backup may pass `max_size`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A log file that rotates by size; see the module docs for the rules.
#[derive(Debug)]
pub struct SizeRotatingWriter {
    path: PathBuf,
    max_size: u64,
    backup_count: u32,
    file: File,
}

impl SizeRotatingWriter {
    /// Opens `path` for appending, creating it when missing.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be opened or created: its folder is missing or read-only, or
    /// the path is a directory.
    pub fn open(path: &Path, max_size: u64, backup_count: u32) -> io::Result<Self> {
        let file = open_append(path)?;

        Ok(SizeRotatingWriter {
            path: path.to_path_buf(),
            max_size,
            backup_count,
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record, rotating first when the record would take the file past
    /// `max_size`.
    ///
    /// # Errors
    ///
    /// Fails when the record cannot be written. When only the rotation fails, the record is
    /// still appended to the current file and the rotation error is returned afterwards.
    pub fn write_record(&mut self, record: &[u8]) -> io::Result<()> {
        let size = self.file.metadata()?.len();
        let record_size = record.len() as u64;

        let rotation = if size > 0 && size.saturating_add(record_size) > self.max_size {
            self.rotate()
        } else {
            Ok(())
        };

        self.file.write_all(record)?;
        rotation
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Moves the current file to `<path>.1` after shifting older backups up by one, or
    /// truncates it when no backups are kept, then opens the fresh file.
    ///
    /// On failure `self.file` stays the handle it was, so the next record is not lost.
    fn rotate(&mut self) -> io::Result<()> {
        if self.backup_count == 0 {
            let file = open_append(&self.path)?;
            file.set_len(0)?;
            self.file = file;
            return Ok(());
        }

        let last = self.last_backup_in_sequence();
        if last == self.backup_count {
            remove_if_present(&self.backup_path(last))?;
        }
        for number in (1..=last.min(self.backup_count - 1)).rev() {
            rename_if_present(&self.backup_path(number), &self.backup_path(number + 1))?;
        }
        rename_if_present(&self.path, &self.backup_path(1))?;

        self.file = open_append(&self.path)?;
        Ok(())
    }

    /// Returns the highest `n` up to `backup_count` such that backups `1..=n` all exist.
    fn last_backup_in_sequence(&self) -> u32 {
        let mut last = 0;
        while last < self.backup_count && self.backup_path(last + 1).exists() {
            last += 1;
        }
        last
    }

    fn backup_path(&self, number: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{number}"));
        PathBuf::from(name)
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Renames `from` to `to`. A missing `from` is not an error: an overlapping run may have
/// moved it already.
fn rename_if_present(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            error.kind(),
            format!(
                "failed to rename {} to {}: {error}",
                from.display(),
                to.display()
            ),
        )),
        _ => Ok(()),
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            error.kind(),
            format!("failed to remove {}: {error}", path.display()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tempfile::TempDir;

    use super::*;

    /// Returns a ten-byte record: nine characters and a newline.
    fn line(number: u32) -> String {
        format!("line {number:04}\n")
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    /// Returns the names of the files in `dir`, sorted.
    fn names(dir: &TempDir) -> BTreeSet<String> {
        fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn write_lines(writer: &mut SizeRotatingWriter, numbers: std::ops::RangeInclusive<u32>) {
        for number in numbers {
            writer.write_record(line(number).as_bytes()).unwrap();
        }
    }

    #[test]
    fn file_reaching_max_size_exactly_is_kept() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let mut writer = SizeRotatingWriter::open(&path, 20, 3).unwrap();

        write_lines(&mut writer, 1..=2);
        assert_eq!(names(&dir), set(&["autoscaler.log"]));
        assert_eq!(read(&path), line(1) + &line(2));

        write_lines(&mut writer, 3..=3);
        assert_eq!(names(&dir), set(&["autoscaler.log", "autoscaler.log.1"]));
        assert_eq!(
            read(&dir.path().join("autoscaler.log.1")),
            line(1) + &line(2)
        );
        assert_eq!(read(&path), line(3));
    }

    #[test]
    fn one_byte_past_max_size_rotates() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let mut writer = SizeRotatingWriter::open(&path, 19, 3).unwrap();

        write_lines(&mut writer, 1..=2);

        assert_eq!(read(&dir.path().join("autoscaler.log.1")), line(1));
        assert_eq!(read(&path), line(2));
    }

    #[test]
    fn rotation_continues_across_runs() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");

        let mut first_run = SizeRotatingWriter::open(&path, 25, 2).unwrap();
        write_lines(&mut first_run, 1..=2);
        drop(first_run);
        let mut second_run = SizeRotatingWriter::open(&path, 25, 2).unwrap();
        assert_eq!(names(&dir), set(&["autoscaler.log"]));
        write_lines(&mut second_run, 3..=3);

        assert_eq!(
            read(&dir.path().join("autoscaler.log.1")),
            line(1) + &line(2)
        );
        assert_eq!(read(&path), line(3));
    }

    #[test]
    fn zero_backups_truncates_but_keeps_new_line() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let mut writer = SizeRotatingWriter::open(&path, 20, 0).unwrap();

        write_lines(&mut writer, 1..=5);

        assert_eq!(names(&dir), set(&["autoscaler.log"]));
        assert_eq!(read(&path), line(5));
    }

    #[test]
    fn one_backup_keeps_previous_file_only() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let mut writer = SizeRotatingWriter::open(&path, 20, 1).unwrap();

        write_lines(&mut writer, 1..=5);

        assert_eq!(names(&dir), set(&["autoscaler.log", "autoscaler.log.1"]));
        assert_eq!(
            read(&dir.path().join("autoscaler.log.1")),
            line(3) + &line(4)
        );
        assert_eq!(read(&path), line(5));
    }

    #[test]
    fn three_backups_number_newest_first() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let mut writer = SizeRotatingWriter::open(&path, 10, 3).unwrap();

        write_lines(&mut writer, 1..=6);

        assert_eq!(
            names(&dir),
            set(&[
                "autoscaler.log",
                "autoscaler.log.1",
                "autoscaler.log.2",
                "autoscaler.log.3"
            ])
        );
        assert_eq!(read(&path), line(6));
        assert_eq!(read(&dir.path().join("autoscaler.log.1")), line(5));
        assert_eq!(read(&dir.path().join("autoscaler.log.2")), line(4));
        assert_eq!(read(&dir.path().join("autoscaler.log.3")), line(3));
    }

    #[test]
    fn oversized_line_goes_whole_into_fresh_file() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let long_line = format!("{}\n", "x".repeat(49));
        let mut writer = SizeRotatingWriter::open(&path, 20, 3).unwrap();

        write_lines(&mut writer, 1..=1);
        writer.write_record(long_line.as_bytes()).unwrap();
        assert_eq!(read(&dir.path().join("autoscaler.log.1")), line(1));
        assert_eq!(read(&path), long_line);

        write_lines(&mut writer, 2..=2);
        assert_eq!(read(&dir.path().join("autoscaler.log.2")), line(1));
        assert_eq!(read(&dir.path().join("autoscaler.log.1")), long_line);
        assert_eq!(read(&path), line(2));
    }

    #[test]
    fn oversized_line_into_empty_file_does_not_rotate() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let long_line = format!("{}\n", "x".repeat(49));
        let mut writer = SizeRotatingWriter::open(&path, 20, 3).unwrap();

        writer.write_record(long_line.as_bytes()).unwrap();

        assert_eq!(names(&dir), set(&["autoscaler.log"]));
        assert_eq!(read(&path), long_line);
    }

    #[test]
    fn no_line_lost_or_split_across_many_rotations() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        let max_size = 64;
        let lines: Vec<String> = (0..200)
            .map(|number| format!("{number} {}\n", "y".repeat(number % 23)))
            .collect();

        for run in lines.chunks(50) {
            let mut writer = SizeRotatingWriter::open(&path, max_size, 100).unwrap();
            for text in run {
                writer.write_record(text.as_bytes()).unwrap();
            }
        }

        let backups = names(&dir).len() - 1;
        let mut joined = String::new();
        for number in (1..=backups).rev() {
            let content = read(&dir.path().join(format!("autoscaler.log.{number}")));
            assert!(
                content.len() as u64 <= max_size,
                "backup {number} too large"
            );
            assert!(content.ends_with('\n'), "backup {number} ends mid-line");
            joined.push_str(&content);
        }
        joined.push_str(&read(&path));
        assert_eq!(joined, lines.concat());
    }

    #[test]
    fn backups_above_count_are_left_alone() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("autoscaler.log");
        fs::write(dir.path().join("autoscaler.log.5"), "old\n").unwrap();
        let mut writer = SizeRotatingWriter::open(&path, 10, 2).unwrap();

        write_lines(&mut writer, 1..=4);

        assert_eq!(read(&dir.path().join("autoscaler.log.5")), "old\n");
        assert_eq!(read(&dir.path().join("autoscaler.log.2")), line(2));
        assert_eq!(read(&dir.path().join("autoscaler.log.1")), line(3));
    }

    #[test]
    fn open_fails_on_directory_or_missing_folder() {
        let dir = TempDir::new().unwrap();

        let on_directory = SizeRotatingWriter::open(dir.path(), 10, 1);
        let in_missing_folder =
            SizeRotatingWriter::open(&dir.path().join("missing/autoscaler.log"), 10, 1);

        assert!(on_directory.is_err());
        assert_eq!(
            in_missing_folder.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
