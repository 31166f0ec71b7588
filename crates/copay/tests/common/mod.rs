//! Shared helpers for tests that read ../shared in place.
#![allow(dead_code)]

use std::path::PathBuf;

/// The path if it exists. When it is missing: panic under CI=true, else print a notice and return None.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    // santei_core::shared::dir() panics under CI (CI=true or 1) when ../shared is missing.
    let p = santei_core::shared::dir()?.join(rel);
    if p.exists() {
        return Some(p);
    }
    panic!("required shared file missing: {}", p.display());
}
