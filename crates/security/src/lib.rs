//! santei-security: authentication, authorisation, audit and backups for santei, following the
//! MHLW 医療情報システムの安全管理に関するガイドライン 第6.0版. See README.md and the repository's SECURITY.md.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod error;
pub mod model;
pub mod password;
pub mod rbac;
pub mod retention;
pub mod store;
pub mod totp;
pub mod util;
pub mod weak;

pub use auth::{Config, Enrolled, LoginStep, SecondFactor, Security, TotpEnrolment};
pub use error::{ErrorKind, Result, SecError};
pub use model::{AuditEntry, AuditEvent, Outcome};
pub use rbac::{allowed, Action, Principal, Role, Subject};
pub use store::{MemoryStore, SecurityStore, SqliteStore};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
pub use util::{Clock, Secret, SystemClock, TestClock};
