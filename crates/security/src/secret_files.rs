//! Reading and writing key material on disk with restrictive permissions.
//!
//! Directories holding secrets are created `0700` and secret files `0600`
//! (owner only) on Unix; files are written to a temporary name and renamed so
//! that a crash never leaves half a key behind. Public files (certificates,
//! revocation lists) are written `0644`. This module does no cryptography.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Result, SecurityError};

/// Creates `dir` (and parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| SecurityError::io("create directory", dir, e))?;
    set_mode(dir, 0o700)
}

/// Writes a secret (private key, key ring) readable only by its owner.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    write_with_mode(path, contents, 0o600)
}

/// Writes a public artefact (certificate, revocation list, register).
pub fn write_public(path: &Path, contents: &[u8]) -> Result<()> {
    write_with_mode(path, contents, 0o644)
}

/// Reads a text file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| SecurityError::io("read", path, e))
}

/// Fails if `path` exists, so that keys are never overwritten by accident.
pub fn refuse_overwrite(path: &Path, what: &'static str) -> Result<()> {
    if path.exists() {
        return Err(SecurityError::AlreadyExists {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(())
}

fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| SecurityError::io("create", &tmp, e))?;
        f.write_all(contents)
            .and_then(|_| f.sync_all())
            .map_err(|e| SecurityError::io("write", &tmp, e))?;
    }
    set_mode(&tmp, mode)?;
    fs::rename(&tmp, path).map_err(|e| SecurityError::io("rename into place", path, e))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| SecurityError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Fills a fresh array from the operating system's random number generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| SecurityError::Random(e.to_string()))?;
    Ok(buf)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secrets_are_owner_only_and_directories_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        create_private_dir(&dir).unwrap();
        let key = dir.join("k.pem");
        write_secret(&key, b"secret").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&key), 0o600);
        assert!(refuse_overwrite(&key, "a key").is_err());
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        assert_ne!(random_bytes::<32>().unwrap(), random_bytes::<32>().unwrap());
    }
}
