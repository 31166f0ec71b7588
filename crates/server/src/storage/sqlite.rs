//! Embedded SQLite backend: one file (`santei.db`) in the data directory, created on first start.
//!
//! * WAL journal with `synchronous=FULL`: a write is acknowledged only after its commit is in
//!   the WAL on disk, so it survives `kill -9` and power loss.
//! * One writer connection (SQLite serialises writers anyway) and a small pool of reader
//!   connections (WAL lets readers run beside the writer).
//! * Every call runs on tokio's blocking pool (`spawn_blocking`): the async runtime never waits on
//!   SQLite.

use super::{sql, BoxFut, Collection, Doc, ListFilter, Storage, StoreError, TenantRow, TokenRow, MIGRATIONS, SCHEMA_MIGRATIONS_DDL};
use rusqlite::{params_from_iter, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const FILE_NAME: &str = "santei.db";
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStorage {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        match f.extended_code {
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            2067 | 1555 => return StoreError::Conflict(msg.clone().unwrap_or_else(|| "unique".into())),
            // SQLITE_CONSTRAINT_FOREIGNKEY
            787 => return StoreError::MissingParent,
            _ => {}
        }
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked | rusqlite::ErrorCode::CannotOpen) {
            return StoreError::Unavailable(e.to_string());
        }
    }
    StoreError::Internal(e.to_string())
}

fn configure(c: &Connection) -> Result<(), StoreError> {
    c.busy_timeout(std::time::Duration::from_secs(10)).map_err(map_err)?;
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(map_err)?;
    Ok(())
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    configure(&c)?;
    Ok(c)
}

fn migrate(c: &mut Connection) -> Result<(), StoreError> {
    c.execute_batch(SCHEMA_MIGRATIONS_DDL).map_err(map_err)?;
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
    let applied: Vec<i64> = {
        let mut st = tx.prepare("SELECT version FROM schema_migrations").map_err(map_err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(map_err)?;
        rows.collect::<Result<_, _>>().map_err(map_err)?
    };
    for (v, name, stmts) in MIGRATIONS {
        if applied.contains(v) {
            continue;
        }
        for s in *stmts {
            tx.execute_batch(s).map_err(map_err)?;
        }
        tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", rusqlite::params![v, name, super::now()])
            .map_err(map_err)?;
    }
    tx.commit().map_err(map_err)
}

fn tenant_row(r: &rusqlite::Row) -> rusqlite::Result<TenantRow> {
    Ok(TenantRow {
        id: r.get(0)?,
        institution_code: r.get(1)?,
        name: r.get(2)?,
        prefecture: r.get(3)?,
        kind: r.get(4)?,
        posted_hours: r.get(5)?,
        settings: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn token_row(r: &rusqlite::Row) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow { id: r.get(0)?, tenant_id: r.get(1)?, secret_sha256: r.get(2)?, label: r.get(3)?, created_at: r.get(4)?, revoked_at: r.get(5)? })
}

fn doc_row(c: Collection, r: &rusqlite::Row) -> rusqlite::Result<Doc> {
    let mut d = Doc { id: r.get(0)?, ..Doc::default() };
    let cols = c.columns();
    for (i, name) in cols.iter().enumerate() {
        d.set_column(name, r.get(i + 1)?);
    }
    let n = cols.len();
    d.data = r.get(n + 1)?;
    d.created_at = r.get(n + 2)?;
    d.updated_at = r.get(n + 3)?;
    Ok(d)
}

impl SqliteStorage {
    /// Open (creating if needed) the database file and apply migrations.
    pub async fn open(path: &Path) -> Result<SqliteStorage, StoreError> {
        let p = path.to_path_buf();
        let writer = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut c = open_conn(&p)?;
            migrate(&mut c)?;
            Ok(c)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        Ok(SqliteStorage { path: path.to_path_buf(), writer: Arc::new(Mutex::new(writer)), readers: Arc::new(Mutex::new(Vec::new())) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn write<T: Send + 'static>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let w = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = w.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }

    async fn read<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let pool = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let conn = match conn {
                Some(c) => c,
                None => open_conn(&path)?,
            };
            let out = f(&conn);
            let mut p = pool.lock().unwrap_or_else(|e| e.into_inner());
            if p.len() < MAX_IDLE_READERS {
                p.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> BoxFut<'_, ()> {
        Box::pin(self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err)))
    }

    fn schema_versions(&self) -> BoxFut<'_, Vec<i64>> {
        Box::pin(self.read(|c| {
            let mut st = c.prepare_cached("SELECT version FROM schema_migrations ORDER BY version").map_err(map_err)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(map_err)?;
            rows.collect::<Result<_, _>>().map_err(map_err)
        }))
    }

    fn create_tenant(&self, t: TenantRow) -> BoxFut<'_, ()> {
        Box::pin(self.write(move |c| {
            c.prepare_cached(&sql::insert_tenant())
                .and_then(|mut st| {
                    st.execute(rusqlite::params![t.id, t.institution_code, t.name, t.prefecture, t.kind, t.posted_hours, t.settings, t.created_at, t.updated_at])
                })
                .map(|_| ())
                .map_err(map_err)
        }))
    }

    fn get_tenant(&self, id: String) -> BoxFut<'_, Option<TenantRow>> {
        Box::pin(self.read(move |c| {
            c.prepare_cached(&sql::get_tenant()).and_then(|mut st| st.query_row([id], tenant_row).optional()).map_err(map_err)
        }))
    }

    fn get_tenant_by_code(&self, code: String) -> BoxFut<'_, Option<TenantRow>> {
        Box::pin(self.read(move |c| {
            c.prepare_cached(&sql::get_tenant_by_code()).and_then(|mut st| st.query_row([code], tenant_row).optional()).map_err(map_err)
        }))
    }

    fn list_tenants(&self, after: Option<String>, limit: u32) -> BoxFut<'_, Vec<TenantRow>> {
        Box::pin(self.read(move |c| {
            let mut st = c.prepare_cached(&sql::list_tenants()).map_err(map_err)?;
            let rows = st.query_map(rusqlite::params![after.unwrap_or_default(), i64::from(limit)], tenant_row).map_err(map_err)?;
            rows.collect::<Result<_, _>>().map_err(map_err)
        }))
    }

    fn update_tenant(&self, t: TenantRow) -> BoxFut<'_, bool> {
        Box::pin(self.write(move |c| {
            c.prepare_cached(sql::UPDATE_TENANT)
                .and_then(|mut st| st.execute(rusqlite::params![t.name, t.prefecture, t.kind, t.posted_hours, t.settings, t.updated_at, t.id]))
                .map(|n| n > 0)
                .map_err(map_err)
        }))
    }

    fn create_token(&self, t: TokenRow) -> BoxFut<'_, ()> {
        Box::pin(self.write(move |c| {
            c.prepare_cached(&sql::insert_token())
                .and_then(|mut st| st.execute(rusqlite::params![t.id, t.tenant_id, t.secret_sha256, t.label, t.created_at, t.revoked_at]))
                .map(|_| ())
                .map_err(map_err)
        }))
    }

    fn get_token(&self, id: String) -> BoxFut<'_, Option<TokenRow>> {
        Box::pin(self.read(move |c| c.prepare_cached(&sql::get_token()).and_then(|mut st| st.query_row([id], token_row).optional()).map_err(map_err)))
    }

    fn insert(&self, tenant: String, coll: Collection, d: Doc) -> BoxFut<'_, ()> {
        Box::pin(self.write(move |c| {
            let tx = c.transaction().map_err(map_err)?;
            if let Some(p) = &d.patient_id {
                let found = tx
                    .prepare_cached(sql::PATIENT_EXISTS)
                    .and_then(|mut st| st.query_row([&tenant, p], |_| Ok(())).optional())
                    .map_err(map_err)?;
                if found.is_none() {
                    return Err(StoreError::MissingParent);
                }
            }
            let mut params: Vec<Option<String>> = vec![Some(tenant), Some(d.id.clone())];
            params.extend(d.column_values(coll));
            params.extend([Some(d.data), Some(d.created_at), Some(d.updated_at)]);
            tx.prepare_cached(&sql::insert(coll)).and_then(|mut st| st.execute(params_from_iter(params))).map_err(map_err)?;
            tx.commit().map_err(map_err)
        }))
    }

    fn get(&self, tenant: String, coll: Collection, id: String) -> BoxFut<'_, Option<Doc>> {
        Box::pin(self.read(move |c| {
            c.prepare_cached(&sql::get(coll)).and_then(|mut st| st.query_row([tenant, id], |r| doc_row(coll, r)).optional()).map_err(map_err)
        }))
    }

    fn list(&self, tenant: String, coll: Collection, f: ListFilter) -> BoxFut<'_, Vec<Doc>> {
        Box::pin(self.read(move |c| {
            let mut params: Vec<rusqlite::types::Value> = vec![tenant.into(), f.after.unwrap_or_default().into()];
            let (p, m) = (f.patient_id.is_some(), f.month.is_some());
            if let Some(p) = f.patient_id {
                params.push(p.into());
            }
            if let Some(m) = f.month {
                params.push(m.into());
            }
            params.push(i64::from(f.limit).into());
            let mut st = c.prepare_cached(&sql::list(coll, p, m)).map_err(map_err)?;
            let rows = st.query_map(params_from_iter(params), |r| doc_row(coll, r)).map_err(map_err)?;
            rows.collect::<Result<_, _>>().map_err(map_err)
        }))
    }

    fn update(&self, tenant: String, coll: Collection, d: Doc) -> BoxFut<'_, bool> {
        Box::pin(self.write(move |c| {
            let mut params = d.column_values(coll);
            params.extend([Some(d.data), Some(d.updated_at), Some(tenant), Some(d.id)]);
            c.prepare_cached(&sql::update(coll)).and_then(|mut st| st.execute(params_from_iter(params))).map(|n| n > 0).map_err(map_err)
        }))
    }

    fn delete(&self, tenant: String, coll: Collection, id: String) -> BoxFut<'_, bool> {
        Box::pin(self.write(move |c| {
            c.prepare_cached(&sql::delete(coll)).and_then(|mut st| st.execute([tenant, id])).map(|n| n > 0).map_err(map_err)
        }))
    }
}
