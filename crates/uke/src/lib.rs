//! santei-uke — UKE (レセプト電算処理システム, 医科) files: reader, checker, viewer, writer.
//!
//! Source: オンライン又は光ディスク等による請求に係る記録条件仕様（医科用）令和4年4月版
//! (2023-03-13), `../shared/spec/pdf/kiroku_joken_shiyo_ika_R4_20230313.pdf`; summary in
//! DOMAIN.md §5. See `crates/uke/README.md` for the model, the checks and their codes.
//!
//! * [`read::read_bytes`] / [`read::UkeReader`] (streaming) → [`model::ClaimFile`] / [`model::Receipt`].
//! * [`check::check_path`] / [`check::check_reader`] → [`check::FileReport`].
//! * [`show::render_receipt`]; [`write::write_file`]; [`catalog::CodeCatalog`] for master checks.
//! * [`bench::run`] measures read+check throughput on a synthetic file.

pub mod bench;
pub mod catalog;
pub mod check;
pub mod diag;
pub mod digits;
pub mod layout;
mod layout_table;
pub mod lex;
pub mod model;
#[cfg(test)]
mod proptests;
pub mod read;
pub mod show;
#[cfg(feature = "master")]
pub mod store_catalog;
pub mod write;

pub use catalog::{CatalogEntry, CodeCatalog, CodeKind, MapCatalog};
pub use check::{check_bytes, check_path, check_reader, CheckOptions, FileReport};
pub use diag::{Diagnostic, Severity};
pub use model::{ClaimFile, Item, Num, Receipt, Unit};
pub use read::{read, read_bytes, Event, UkeReader};
#[cfg(feature = "master")]
pub use store_catalog::StoreCatalog;
pub use write::{write_atomic, write_file};
