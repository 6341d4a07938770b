//! Where the larger real data sets live.
//!
//! The repository ships the small data its demo and core tests need under
//! `data/`. Larger inputs (full PGLib-OPF cases, market price histories,
//! household load) are read from `VOLTEX_DATA_DIR`, which defaults to
//! `../shared/data` beside the project root when that folder exists.

use std::path::{Path, PathBuf};

/// Environment variable naming the directory of shared real data.
pub const DATA_DIR_ENV: &str = "VOLTEX_DATA_DIR";

/// The shared data directory, if one is configured or present.
///
/// Order: `$VOLTEX_DATA_DIR`; then `../shared/data` relative to the workspace
/// root (found from this crate's manifest at build time, so tests and
/// benchmarks find it wherever they are run from); then `../shared/data`
/// relative to the current directory.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        workspace_root.join("../shared/data"),
        PathBuf::from("../shared/data"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// A file inside the shared data directory, if that directory and file exist.
pub fn shared_data_file(relative: impl AsRef<Path>) -> Option<PathBuf> {
    shared_data_dir()
        .map(|d| d.join(relative.as_ref()))
        .filter(|p| p.exists())
}

/// The data shipped inside the repository (`<workspace>/data`).
pub fn bundled_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

/// The text of a data file; a `.gz` file is decompressed.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)?;
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)?;
    }
    Ok(text)
}
