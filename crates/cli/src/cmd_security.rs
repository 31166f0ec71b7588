//! Shared helpers of the security commands (`admin`, `audit`, `backup`).

use santei_security::audit::ANCHOR_FILE;
use santei_security::{
    Config, PostgresStore, SecError, Security, SecurityStore, SqliteStore, SystemClock,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub type R = Result<ExitCode, Box<dyn std::error::Error>>;

/// The data directory: `--data-dir`, else `$SANTEI_DATA`, else the platform default.
pub fn data_dir(d: Option<PathBuf>) -> PathBuf {
    crate::cmd_master::data_dir(d)
}

/// Open the security layer: in the PostgreSQL database of `database_url` (`postgres://…`, as
/// `santei serve --database-url` uses it), else on the data directory's `santei.db` (created if
/// missing); the audit anchor file is in the data directory either way.
pub fn open(dir: &Path, database_url: Option<&str>) -> Result<Security, SecError> {
    let store: Arc<dyn SecurityStore> = match database_url {
        Some(u) if santei_server::is_postgres_url(u) => Arc::new(PostgresStore::open(u)?),
        _ => Arc::new(SqliteStore::open_data_dir(dir)?),
    };
    let cfg = Config {
        anchor_file: Some(dir.join(ANCHOR_FILE)),
        ..Config::default()
    };
    Ok(Security::new(store, Arc::new(SystemClock), cfg))
}

/// Open only if the database already exists (commands that must not create one). A PostgreSQL
/// database is taken as existing (its security tables are created by the first open).
pub fn open_existing(dir: &Path, database_url: Option<&str>) -> Result<Security, SecError> {
    if database_url.is_some_and(santei_server::is_postgres_url) {
        return open(dir, database_url);
    }
    let db = dir.join(santei_security::store::sqlite::DB_FILE);
    if !db.is_file() {
        return Err(SecError::invalid(
            "S701",
            format!(
                "{} がありません(データディレクトリを確認してください)",
                db.display()
            ),
            format!("{} does not exist (check the data directory)", db.display()),
        ));
    }
    open(dir, None)
}

/// Print an error in both languages and return exit code 1 (a detected problem, as opposed to a
/// usage or I/O error, which main reports with 2).
pub fn fail(e: &SecError) -> ExitCode {
    eprintln!("santei: {e}");
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backup_names_the_real_master_store_file() {
        assert_eq!(
            santei_security::backup::MASTER_FILE,
            santei_master::store::FILE_NAME
        );
    }
}
