//! santei-core — small building blocks shared by every santei crate.
//!
//! * [`error::InputError`]: the one error shape for bad input — file, line, field, a stable
//!   code, and a message in Japanese and English.
//! * [`date`]: 西暦 `YYYYMMDD` / `YYYYMM` and 和暦 `GYYMMDD` / `GYYMM` parsing, ISO dates.
//! * [`sjis`]: strict Shift_JIS (CP932) decoding and the SSK quoted-CSV line reader.
//! * [`money`]: exact decimals for prices (no `f64` for money).

pub mod date;
pub mod error;
pub mod money;
pub mod shared;
pub mod sjis;
pub mod text;

pub use error::InputError;
