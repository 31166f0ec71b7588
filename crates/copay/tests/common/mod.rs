//! Shared helpers for tests that read ../shared in place.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared` relative to the workspace root.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The path if it exists. When it is missing: panic under CI=true, else print a notice and return None.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let p = shared().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("required shared file missing: {} (CI=true)", p.display());
    }
    eprintln!("NOTICE: {} not found; skipping (set CI=true to make this fatal)", p.display());
    None
}
