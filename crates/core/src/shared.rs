//! Locating `../shared` (official data, read in place) for tests and benchmarks.

use std::path::PathBuf;

/// The `shared/` directory beside the repository, if present. Under `CI=true` a missing
/// directory is a hard failure (panic), so tests that need the official data never pass by
/// silently skipping; elsewhere the caller gets `None` and should print a notice and return.
pub fn dir() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    if p.join("data").is_dir() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("../shared is missing ({}) and CI=true: tests that read the official data cannot run", p.display());
    }
    eprintln!("notice: ../shared not found; skipping a test that needs the official data");
    None
}
