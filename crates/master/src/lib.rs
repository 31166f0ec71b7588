//! santei-master — 共通算定マスタ.
//!
//! * [`input`]: finding files (directories, `.zip` as shipped) and telling which master each is.
//! * [`import`]: Shift_JIS quoted CSV → validated rows → history → compiled [`store::Snapshot`].
//! * [`layout`]: column layouts of each master kind (項番 → field), from マスターファイル仕様説明書 R6.
//! * [`history`]: effective-date versioning and 変更区分 merging.
//! * [`compile`] / [`model`]: typed records the calculators use.
//! * [`tensuhyo`]: 電子点数表 tables (補助, 包括, 背反 ×4, 入院基本料, 算定回数).
//! * [`store`]: the compiled, versioned store in a data directory; code-at-date lookups.
//! * [`json`]: the JSON rendering of entries (CLI `--json` and the service).
//! * [`sample`]: the small sample master bundled in the repo (demo and tests).

pub mod bench;
pub mod compile;
pub mod fold;
pub mod history;
pub mod import;
pub mod input;
pub mod json;
pub mod layout;
pub mod model;
pub mod sample;
pub mod store;
pub mod tensuhyo;

pub use model::{Entry, Kind};
pub use store::Store;
