//! Bilingual, located input errors.

use std::fmt;

/// An error caused by bad input. Always names where (file, line, field) and says what is
/// wrong in Japanese and English. `code` is stable and machine-readable (e.g. `M001`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub code: &'static str,
    pub file: String,
    /// 1-based line (or record) number, when known.
    pub line: Option<u64>,
    /// Field name or 1-based column (項番), when known.
    pub field: Option<String>,
    pub message_ja: String,
    pub message_en: String,
}

impl InputError {
    pub fn new(code: &'static str, file: impl Into<String>, ja: impl Into<String>, en: impl Into<String>) -> Self {
        InputError {
            code,
            file: file.into(),
            line: None,
            field: None,
            message_ja: ja.into(),
            message_en: en.into(),
        }
    }
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(c) = &self.field {
            write!(f, " [{c}]")?;
        }
        write!(f, ": {} — {} ({})", self.message_ja, self.message_en, self.code)
    }
}

impl std::error::Error for InputError {}
