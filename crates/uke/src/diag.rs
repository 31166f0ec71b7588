//! Diagnostics: stable code, severity, location (line, record, field) and bilingual text.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding. `code` is stable (see crates/uke/README.md for the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    #[serde(skip)]
    pub severity: Severity,
    /// 1-based line number in the file, when the finding belongs to a line.
    pub line: Option<u64>,
    /// Record identifier (`RE`, `SI` …), or empty for file-level findings.
    pub record: String,
    /// Field as `項番:名称` (e.g. `6:合計点数`), when the finding belongs to one field.
    pub field: Option<String>,
    pub code: &'static str,
    /// `日本語 / English`.
    pub message: String,
    pub message_ja: String,
    pub message_en: String,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        let (ja, en) = (ja.into(), en.into());
        Diagnostic {
            severity,
            line: None,
            record: String::new(),
            field: None,
            code,
            message: format!("{ja} / {en}"),
            message_ja: ja,
            message_en: en,
        }
    }
    pub fn error(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, ja, en)
    }
    pub fn warning(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, ja, en)
    }
    pub fn at(mut self, line: u64, record: &str) -> Self {
        self.line = Some(line);
        self.record = record.to_string();
        self
    }
    pub fn field(mut self, no: usize, name: &str) -> Self {
        self.field = Some(format!("{no}:{name}"));
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// The same finding as the workspace-wide bilingual error type.
    pub fn to_input_error(&self, file: &str) -> santei_core::InputError {
        let mut e = santei_core::InputError::new(self.code, file, self.message_ja.clone(), self.message_en.clone());
        e.line = self.line;
        e.field = self.field.clone();
        e
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev} {}", self.code)?;
        if let Some(l) = self.line {
            write!(f, " line {l}")?;
        }
        if !self.record.is_empty() {
            write!(f, " {}", self.record)?;
        }
        if let Some(c) = &self.field {
            write!(f, " [{c}]")?;
        }
        write!(f, ": {} — {}", self.message_ja, self.message_en)
    }
}
