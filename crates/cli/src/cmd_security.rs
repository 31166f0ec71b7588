//! Shared helpers of the security commands (`admin`, `audit`, `backup`).

use santei_security::audit::ANCHOR_FILE;
use santei_security::{Config, SecError, Security, SqliteStore, SystemClock};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub type R = Result<ExitCode, Box<dyn std::error::Error>>;

/// The data directory: `--data-dir`, else `$SANTEI_DATA`, else the platform default.
pub fn data_dir(d: Option<PathBuf>) -> PathBuf {
    crate::cmd_master::data_dir(d)
}

/// Open the security layer on the data directory's `santei.db` (created if missing), with the
/// audit anchor file beside it.
pub fn open(dir: &Path) -> Result<Security, SecError> {
    let store = SqliteStore::open_data_dir(dir)?;
    let cfg = Config {
        anchor_file: Some(dir.join(ANCHOR_FILE)),
        ..Config::default()
    };
    Ok(Security::new(Arc::new(store), Arc::new(SystemClock), cfg))
}

/// Open only if the database already exists (commands that must not create one).
pub fn open_existing(dir: &Path) -> Result<Security, SecError> {
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
    open(dir)
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
