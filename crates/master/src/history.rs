//! Effective-date history per code, built from complete masters and 変更分 files.
//!
//! 変更区分 (項番1), マスターファイル仕様説明書 R6 各マスター 項番1:
//! * `0` 前マスターと同じ, `3` 新規 — a complete row: it is the version valid from its
//!   変更年月日 (or 収載年月日, or "always" when neither is set). A complete row with the same
//!   start as a version already loaded replaces it (the later file wins).
//! * `5` 変更 — in a complete master the row is complete and handled as above. In a 変更分 file
//!   it carries only the key and the changed fields (empty = unchanged): the fields are merged
//!   onto the version in force on its 変更年月日; a later 変更年月日 starts a new version, an empty
//!   or equal one corrects that version in place.
//! * `9` 廃止 — merged in place onto the version in force; sets its 廃止年月日 (the last valid day).
//! * `2` 復活 — merged like `5`; a 廃止年月日 not given becomes open (`99999999`).
//! * `1` 抹消 — the version starting on the row's 変更年月日 (else the latest) is erased, as if it
//!   had never been published.
//!
//! A sparse row (変更分) for a code with no history is an error: the diff does not apply.

use crate::layout::Layout;
use crate::model::Source;
use csv::StringRecord;
use santei_core::date::{parse_ymd, Date, OPEN_END};
use santei_core::InputError;
use std::collections::HashMap;

/// "Valid since always" — for rows with neither 変更年月日 nor 収載年月日.
pub const SINCE_EVER: Date = match Date::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("constant date"),
};

/// One raw version of a code: the complete row (after merging) and where it came from.
#[derive(Debug, Clone)]
pub struct RawVersion {
    pub from: Date,
    pub row: StringRecord,
    pub change: u8,
    pub source: Source,
}

/// The raw history of every code of one master kind.
#[derive(Default)]
pub struct History {
    pub codes: HashMap<String, Vec<RawVersion>>,
}

pub struct RowCtx<'a> {
    pub file: &'a str,
    pub line: u64,
    pub source: Source,
}

impl RowCtx<'_> {
    fn err(&self, code: &'static str, field: impl Into<String>, ja: String, en: String) -> InputError {
        InputError::new(code, self.file, ja, en).at_line(self.line).field(field)
    }
}

fn date_field(row: &StringRecord, col: usize, ctx: &RowCtx) -> Result<Option<Date>, InputError> {
    let s = row.get(col).unwrap_or("").trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_ymd(s).map(Some).ok_or_else(|| {
        ctx.err(
            "E_DATE",
            format!("項番{}", col + 1),
            format!("日付「{s}」が不正です(YYYYMMDD)"),
            format!("invalid date '{s}' (expected YYYYMMDD)"),
        )
    })
}

/// The code of a row from the layout's code columns (zero-padded parts for comments).
pub fn code_of(layout: &Layout, row: &StringRecord, ctx: &RowCtx) -> Result<String, InputError> {
    let mut code = String::with_capacity(9);
    for &(col, width) in layout.code {
        let part = row.get(col).unwrap_or("").trim();
        if part.is_empty() || part.len() > width || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ctx.err(
                "E_CODE",
                format!("項番{}", col + 1),
                format!("コード「{part}」が不正です({width}桁以内の数字)"),
                format!("invalid code '{part}' (digits, at most {width})"),
            ));
        }
        for _ in part.len()..width {
            code.push('0');
        }
        code.push_str(part);
    }
    Ok(code)
}

/// Non-empty fields of `row` over `base`. The result has the longer of the two widths, so a
/// 42-column 医薬品 diff (from y_20240906) can fill 項番41/42 of a 40-column version.
fn overlay(base: &StringRecord, row: &StringRecord) -> StringRecord {
    (0..base.len().max(row.len()))
        .map(|i| match row.get(i) {
            Some(new) if !new.is_empty() => new,
            _ => base.get(i).unwrap_or(""),
        })
        .collect()
}

fn set(row: &StringRecord, col: usize, value: &str) -> StringRecord {
    row.iter().enumerate().map(|(i, v)| if i == col { value } else { v }).collect()
}

impl History {
    /// Apply one validated row (column count and 変更区分 already checked).
    pub fn apply(&mut self, layout: &Layout, change: u8, row: StringRecord, ctx: &RowCtx) -> Result<(), InputError> {
        let code = code_of(layout, &row, ctx)?;
        let changed = date_field(&row, layout.changed, ctx)?;
        let listed = match layout.listed {
            Some(c) => date_field(&row, c, ctx)?,
            None => None,
        };
        date_field(&row, layout.abolished, ctx)?;
        let complete = layout.always.iter().all(|&c| row.get(c).is_some_and(|v| !v.is_empty()));
        let versions = self.codes.entry(code.clone()).or_default();

        if change == 1 {
            // 抹消: erase the version starting on the given date, else the latest.
            if versions.is_empty() {
                if complete {
                    self.codes.remove(&code);
                    return Ok(());
                }
                self.codes.remove(&code);
                return Err(missing(ctx, &code));
            }
            let idx = changed.and_then(|d| versions.iter().position(|v| v.from == d)).unwrap_or(versions.len() - 1);
            versions.remove(idx);
            if versions.is_empty() {
                self.codes.remove(&code);
            }
            return Ok(());
        }

        if complete {
            let from = changed.or(listed).unwrap_or(SINCE_EVER);
            let v = RawVersion { from, row, change, source: ctx.source };
            match versions.binary_search_by(|x| x.from.cmp(&from)) {
                Ok(i) => versions[i] = v,
                Err(i) => versions.insert(i, v),
            }
            return Ok(());
        }

        // A sparse 変更分 row: merge onto the version in force.
        if versions.is_empty() {
            self.codes.remove(&code);
            return Err(missing(ctx, &code));
        }
        let at = changed.unwrap_or(OPEN_END);
        let idx = versions.iter().rposition(|v| v.from <= at).unwrap_or(versions.len() - 1);
        let base = &versions[idx];
        let mut merged = overlay(&base.row, &row);
        if change == 2 && row.get(layout.abolished).is_none_or(|v| v.is_empty()) {
            merged = set(&merged, layout.abolished, "99999999");
        }
        match changed {
            Some(d) if d > base.from && change != 9 => {
                let v = RawVersion { from: d, row: merged, change, source: ctx.source };
                versions.insert(idx + 1, v);
            }
            _ => {
                let from = base.from;
                versions[idx] = RawVersion { from, row: merged, change, source: ctx.source };
            }
        }
        Ok(())
    }
}

fn missing(ctx: &RowCtx, code: &str) -> InputError {
    ctx.err(
        "E_DIFF_UNKNOWN_CODE",
        "項番1 変更区分",
        format!("変更分の対象コード{code}が読み込み済みのマスターにありません(先に全件マスターを指定してください)"),
        format!("diff row for code {code}, which no loaded master contains (import the complete master first)"),
    )
}

/// The last valid day of each version: its own 廃止年月日, cut at the day before the next
/// version starts.
pub fn valid_to(layout: &Layout, versions: &[RawVersion], i: usize) -> Date {
    let own = versions[i].row.get(layout.abolished).and_then(|s| parse_ymd(s.trim())).unwrap_or(OPEN_END);
    match versions.get(i + 1).and_then(|n| n.from.pred_opt()) {
        Some(before_next) => own.min(before_next),
        None => own,
    }
}
