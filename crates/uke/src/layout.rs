//! Record layouts (記録条件仕様 医科 令和4年4月版, 第1章 3(4) 各種レコードの記録要領).
//! The tables themselves are generated into `layout_table.rs` from the machine-readable layout in
//! `../shared/spec/layouts/`; this module holds the per-field rules of 第1章 3(3)ウ(ウ) (modes).

/// モード (項目形式の文字種別), 記録条件仕様 第1章 3(3)ウ(ウ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 数字: half-width digits (decimal point allowed in quantity fields).
    Numeric,
    /// 英数: half-width characters.
    Alnum,
    /// 漢字: full-width characters.
    Kanji,
    /// 英数又は漢字: either, not mixed.
    AlnumOrKanji,
}

/// One field of a record layout.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub mode: Mode,
    pub max_bytes: usize,
    /// 固定 (written at full width) vs 可変.
    pub fixed: bool,
}

/// Layout of a record identifier, if the 医科 spec defines it.
pub fn layout(id: &str) -> Option<&'static [FieldSpec]> {
    crate::layout_table::ALL.iter().find(|(r, _)| *r == id).map(|(_, l)| *l)
}

pub(crate) fn is_half(c: char) -> bool {
    (c.is_ascii() && !c.is_ascii_control()) || ('\u{FF61}'..='\u{FF9F}').contains(&c)
}

/// A field-level violation: (code, ja, en).
pub(crate) type Violation = (&'static str, String, String);

/// Check one field value against its spec (mode, byte length, fixed width).
/// 記録条件仕様 第1章 3(3)ウ(ウ): 固定 fields are recorded at their maximum byte count, 可変 fields
/// up to their last significant character (no trailing spaces); modes as in the table there.
pub(crate) fn check_value(spec: &FieldSpec, s: &str) -> Vec<Violation> {
    let mut v = Vec::new();
    if s.is_empty() {
        return v;
    }
    let len = santei_core::sjis::byte_len(s);
    if len > spec.max_bytes {
        v.push((
            "U206",
            format!("{}バイトで最大{}バイトを超えています", len, spec.max_bytes),
            format!("{} bytes, more than the maximum {}", len, spec.max_bytes),
        ));
    } else if spec.fixed && len != spec.max_bytes {
        v.push((
            "U207",
            format!("固定長項目が{}バイトです({}バイトで記録)", len, spec.max_bytes),
            format!("fixed-length field has {} bytes (must be {})", len, spec.max_bytes),
        ));
    }
    match spec.mode {
        Mode::Numeric => {
            let dots = s.bytes().filter(|&b| b == b'.').count();
            if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') || dots > 1 || s.starts_with('.') || s.ends_with('.') {
                v.push(("U202", "数字項目に数字以外の文字があります".into(), "non-digit in a numeric (数字) field".into()));
            }
        }
        Mode::Alnum => {
            if !s.chars().all(is_half) {
                v.push(("U203", "英数項目に全角文字があります".into(), "full-width character in a half-width (英数) field".into()));
            }
        }
        Mode::Kanji => {
            if s.chars().any(|c| is_half(c) || c.is_control()) {
                v.push(("U204", "漢字項目に半角文字があります".into(), "half-width character in a full-width (漢字) field".into()));
            }
        }
        Mode::AlnumOrKanji => {
            let half = s.chars().filter(|&c| is_half(c)).count();
            if half != 0 && half != s.chars().count() {
                v.push(("U205", "半角と全角が混在しています".into(), "half-width and full-width characters mixed in one field".into()));
            }
        }
    }
    if !spec.fixed && s.ends_with(' ') {
        v.push(("U213", "可変長項目の末尾に空白があります".into(), "trailing space in a variable-length field".into()));
    }
    v
}
