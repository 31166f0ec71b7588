//! Bilingual errors of the security layer.
//!
//! Every error carries a stable machine-readable `code`, a Japanese and an English message, and a
//! [`ErrorKind`] the service maps to an HTTP status. Authentication failures are deliberately
//! uniform: one code (`S001`) whatever failed (unknown user, wrong password, wrong or replayed
//! TOTP code, locked account, expired login ticket).

use std::fmt;

/// What kind of failure, for mapping to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401: credentials missing, wrong, expired or locked (uniform).
    Unauthenticated,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 404: unknown resource (also used for other tenants' resources).
    NotFound,
    /// 400/422: bad input (weak password, malformed option …).
    Invalid,
    /// 409: already exists / state conflict.
    Conflict,
    /// Tampering or corruption detected (audit chain, backup).
    Integrity,
    /// I/O, database or other internal failure.
    Internal,
}

#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message_ja: String,
    pub message_en: String,
}

pub type Result<T, E = SecError> = std::result::Result<T, E>;

impl SecError {
    pub fn new(
        kind: ErrorKind,
        code: &'static str,
        ja: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        SecError {
            kind,
            code,
            message_ja: ja.into(),
            message_en: en.into(),
        }
    }
    /// The one uniform authentication failure.
    pub fn auth_failed() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "S001",
            "認証に失敗しました(利用者名・パスワード・確認コードのいずれか、またはアカウントの状態を確認してください)",
            "authentication failed (check user name, password and code, or the account's state)",
        )
    }
    /// Missing, unknown, revoked or expired bearer token (uniform).
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "S002",
            "認証情報がないか、無効または期限切れです",
            "missing, invalid or expired credentials",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "S003",
            "この操作を行う権限がありません",
            "you are not allowed to do this",
        )
    }
    pub fn not_found(what_ja: &str, what_en: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "S004",
            format!("{what_ja}が見つかりません"),
            format!("{what_en} not found"),
        )
    }
    pub fn invalid(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, ja, en)
    }
    pub fn conflict(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, ja, en)
    }
    pub fn integrity(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity, code, ja, en)
    }
    pub fn internal(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "S900", ja, en)
    }
    pub fn db(e: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::Internal,
            "S901",
            format!("データベースエラー: {e}"),
            format!("database error: {e}"),
        )
    }
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::new(
            ErrorKind::Internal,
            "S902",
            format!("{}: 入出力エラー: {e}", path.display()),
            format!("{}: I/O error: {e}", path.display()),
        )
    }
}

impl fmt::Display for SecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} — {} ({})",
            self.message_ja, self.message_en, self.code
        )
    }
}

impl fmt::Debug for SecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecError({:?}, {self})", self.kind)
    }
}

impl std::error::Error for SecError {}

impl From<rusqlite::Error> for SecError {
    fn from(e: rusqlite::Error) -> Self {
        SecError::db(e)
    }
}
