//! The warning for a config file that contains the API token and other users can read.

use std::path::Path;

use super::Config;

/// Returns a warning when the config file at `path` contains an API token (in use or overridden
/// by the environment) and its group or other users may read it. The warning ends with the
/// `chmod 600` command that fixes it.
///
/// Returns `None` when the file contains no token, when it cannot be inspected, and on systems
/// without Unix permissions.
pub fn token_permission_warning(path: &Path, config: &Config) -> Option<String> {
    if !config.api.token_source.has_file_token() {
        return None;
    }

    let mode = file_mode(path)? & 0o777;
    let readers = if mode & 0o004 != 0 {
        "every user"
    } else if mode & 0o040 != 0 {
        "its group"
    } else {
        return None;
    };

    Some(format!(
        "config file {} contains the API token and is readable by {readers} (mode {mode:03o}); \
         restrict it with `chmod 600 {}`",
        path.display(),
        shell_quoted(path)
    ))
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;

    let metadata = std::fs::metadata(path).ok()?;
    Some(metadata.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

/// Returns the path as a POSIX shell word: unchanged when it contains only safe characters,
/// otherwise in single quotes.
fn shell_quoted(path: &Path) -> String {
    let text = path.to_string_lossy();
    let is_safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);

    if !text.is_empty() && text.chars().all(is_safe) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::config::{parse, EnvOverrides};

    const FILE_TOKEN: &str = r#"{"api": {"token": "secret"}}"#;

    /// Writes `text` to `services.json` in a fresh folder with the given mode.
    fn config_file(text: &str, mode: u32) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("services.json");
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn world_readable_token_file_warns_with_fix() {
        let (_dir, path) = config_file(FILE_TOKEN, 0o644);
        let config = parse(FILE_TOKEN, &EnvOverrides::default()).unwrap();

        let warning = token_permission_warning(&path, &config).unwrap();

        assert!(
            warning.contains(&format!("chmod 600 {}", path.display())),
            "{warning}"
        );
        assert!(warning.contains("every user"), "{warning}");
        assert!(warning.contains("644"), "{warning}");
        assert!(!warning.contains("secret"), "{warning}");
    }

    #[test]
    fn group_readable_token_file_warns() {
        let (_dir, path) = config_file(FILE_TOKEN, 0o640);
        let config = parse(FILE_TOKEN, &EnvOverrides::default()).unwrap();

        let warning = token_permission_warning(&path, &config).unwrap();

        assert!(warning.contains("its group"), "{warning}");
    }

    #[test]
    fn private_token_file_does_not_warn() {
        let (_dir, path) = config_file(FILE_TOKEN, 0o600);
        let config = parse(FILE_TOKEN, &EnvOverrides::default()).unwrap();

        assert_eq!(token_permission_warning(&path, &config), None);
    }

    #[test]
    fn token_only_in_env_does_not_warn() {
        let text = r#"{"api": {"base_url": "http://panel:3000"}}"#;
        let (_dir, path) = config_file(text, 0o644);
        let env = EnvOverrides {
            api_token: Some("secret".to_owned()),
            ..EnvOverrides::default()
        };
        let config = parse(text, &env).unwrap();

        assert_eq!(token_permission_warning(&path, &config), None);
    }

    #[test]
    fn overridden_file_token_still_warns() {
        let (_dir, path) = config_file(FILE_TOKEN, 0o644);
        let env = EnvOverrides {
            api_token: Some("other".to_owned()),
            ..EnvOverrides::default()
        };
        let config = parse(FILE_TOKEN, &env).unwrap();

        assert!(token_permission_warning(&path, &config).is_some());
    }

    #[test]
    fn path_with_space_is_quoted() {
        assert_eq!(
            shell_quoted(Path::new("/opt/my app/services.json")),
            "'/opt/my app/services.json'"
        );
        assert_eq!(
            shell_quoted(Path::new("/opt/it's.json")),
            r"'/opt/it'\''s.json'"
        );
        assert_eq!(
            shell_quoted(Path::new("/opt/app/services.json")),
            "/opt/app/services.json"
        );
    }
}
