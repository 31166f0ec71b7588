//! santei-master — 共通算定マスタ.
//!
//! * [`csvrow`]: the SSK CSV reader (Shift_JIS, quoted, CRLF; `.zip` as shipped).
//! * [`layout`]: column layouts of each master kind (項番 → field), from マスターファイル仕様説明書 R6.
//! * [`model`]: typed records the calculators use (診療行為, 医薬品, 特定器材, コメント, 傷病名, 修飾語).
//! * [`history`]: effective-date versioning and 変更区分 merging.
//! * [`tensuhyo`]: 電子点数表 tables (補助, 包括, 背反 ×4, 入院基本料, 算定回数).
//! * [`store`]: the compiled, versioned store in a data directory.

pub mod tensuhyo;
