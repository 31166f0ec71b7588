//! Locating `../shared` (official data, read in place) for tests and benchmarks.

use std::path::{Path, PathBuf};

fn has_data(p: &Path) -> bool {
    p.join("data").is_dir()
}

/// The `shared/` directory beside the repository, if present: `$SANTEI_SHARED` if set, else the
/// first `shared/` beside an ancestor of the current directory (tests run in their crate's
/// directory, so this is the checkout actually being tested — the build cache may be shared
/// between checkouts, so a path baked in at compile time could point at another one), else the
/// one beside the checkout this crate was compiled from.
///
/// Under `CI=true` a missing directory is a hard failure (panic), so tests that need the official
/// data never pass by silently skipping; elsewhere the caller gets `None` and should print a
/// notice and return.
pub fn dir() -> Option<PathBuf> {
    let found = std::env::var_os("SANTEI_SHARED")
        .map(PathBuf::from)
        .filter(|p| has_data(p))
        .or_else(|| {
            let cwd = std::env::current_dir().ok()?;
            cwd.ancestors().map(|a| a.join("shared")).find(|p| has_data(p))
        })
        .or_else(|| Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"))).filter(|p| has_data(p)));
    if found.is_some() {
        return found;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("../shared is missing (looked beside the current directory's ancestors) and CI=true: tests that read the official data cannot run");
    }
    eprintln!("notice: ../shared not found; skipping a test that needs the official data");
    None
}
