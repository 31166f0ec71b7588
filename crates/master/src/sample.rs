//! The sample master bundled with santei: real rows (real codes, real points and prices) taken
//! from the official SSK masters, in the official format (Shift_JIS, quoted, CRLF). Used by
//! `santei demo` and by tests that must run without `../shared`. See `sample/README.md`.

use crate::import;
use crate::input::InputFile;
use crate::store::{Snapshot, Store};
use santei_core::InputError;
use std::path::PathBuf;

/// Directory holding the sample master files (in the source tree).
pub fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sample"))
}

/// Files of the sample master, embedded in the binary so the demo runs anywhere.
pub const FILES: &[(&str, &[u8])] = &[
    ("s_SAMPLE20240201.csv", include_bytes!("../sample/s_SAMPLE20240201.csv")),
    ("s_SAMPLE20240531.csv", include_bytes!("../sample/s_SAMPLE20240531.csv")),
    ("y_SAMPLE20240531.csv", include_bytes!("../sample/y_SAMPLE20240531.csv")),
    ("t_SAMPLE20240315.csv", include_bytes!("../sample/t_SAMPLE20240315.csv")),
    ("c_SAMPLE20240531.csv", include_bytes!("../sample/c_SAMPLE20240531.csv")),
    ("b_SAMPLE20240601.txt", include_bytes!("../sample/b_SAMPLE20240601.txt")),
    ("z_SAMPLE20250601.txt", include_bytes!("../sample/z_SAMPLE20250601.txt")),
];

/// Build the sample snapshot from the embedded files, through the normal import path.
pub fn snapshot() -> Result<Snapshot, InputError> {
    let files = FILES.iter().map(|(name, bytes)| InputFile { name: format!("sample/{name}"), bytes: bytes.to_vec() }).collect();
    import::build_files(files, None).map(|(s, _)| s)
}

/// The sample store, opened.
pub fn store() -> Result<Store, InputError> {
    snapshot().map(Store::from_snapshot)
}
