//! PostgreSQL backend (`--database-url postgres://user:pass@host:port/db`), for several stateless
//! `santei serve` nodes over one database (or a PostgreSQL-compatible distributed SQL cluster).
//!
//! Client: `tokio-postgres` without TLS features (plain TCP or a Unix socket; put TLS in front
//! with the database's own proxy or a private network). A fixed set of connections used
//! round-robin; each pipelines concurrent queries and caches its prepared statements; a closed
//! connection is re-opened on next use.

use super::{sql, BoxFut, Collection, Doc, ListFilter, Storage, StoreError, TenantRow, TokenRow, MIGRATIONS, SCHEMA_MIGRATIONS_DDL};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

const POOL: usize = 4;
/// Advisory lock key serialising migrations when several nodes start at once.
const MIGRATION_LOCK: i64 = 0x5341_4e54_4549; // "SANTEI"

struct Conn {
    client: Client,
    stmts: Mutex<HashMap<String, Statement>>,
}

pub struct PgStorage {
    url: String,
    slots: Vec<Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
}

fn map_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(code) = e.code() {
        if *code == SqlState::UNIQUE_VIOLATION {
            return StoreError::Conflict(e.to_string());
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION {
            return StoreError::MissingParent;
        }
        return StoreError::Internal(e.to_string());
    }
    // No server error: the connection failed or closed.
    StoreError::Unavailable(e.to_string())
}

/// Connect, with TLS when the URL asks for it (`sslrootcert=FILE`; the rules are santei-security's
/// [`santei_security::store::pgtls`], shared with the security store).
async fn connect(url: &str) -> Result<Client, StoreError> {
    let target = santei_security::store::pgtls::target(url).map_err(|e| StoreError::Unavailable(e.message_en))?;
    match target.tls {
        Some(tls) => connect_with(&target.url, tls).await,
        None => connect_with(&target.url, NoTls).await,
    }
    .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))
}

/// Connect and drive the connection on its own task.
async fn connect_with<T>(url: &str, tls: T) -> Result<Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, conn) = tokio_postgres::connect(url, tls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "postgresql connection closed");
        }
    });
    Ok(client)
}

fn tenant_row(r: &Row) -> Result<TenantRow, tokio_postgres::Error> {
    Ok(TenantRow {
        id: r.try_get(0)?,
        institution_code: r.try_get(1)?,
        name: r.try_get(2)?,
        prefecture: r.try_get(3)?,
        kind: r.try_get(4)?,
        posted_hours: r.try_get(5)?,
        settings: r.try_get(6)?,
        created_at: r.try_get(7)?,
        updated_at: r.try_get(8)?,
    })
}

fn token_row(r: &Row) -> Result<TokenRow, tokio_postgres::Error> {
    Ok(TokenRow {
        id: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        secret_sha256: r.try_get(2)?,
        label: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}

fn doc_row(c: Collection, r: &Row) -> Result<Doc, tokio_postgres::Error> {
    let mut d = Doc { id: r.try_get(0)?, ..Doc::default() };
    let cols = c.columns();
    for (i, name) in cols.iter().enumerate() {
        d.set_column(name, r.try_get(i + 1)?);
    }
    let n = cols.len();
    d.data = r.try_get(n + 1)?;
    d.created_at = r.try_get(n + 2)?;
    d.updated_at = r.try_get(n + 3)?;
    Ok(d)
}

impl PgStorage {
    /// Connect, apply migrations (under an advisory lock), and open the pool lazily.
    pub async fn connect(url: &str) -> Result<PgStorage, StoreError> {
        let mut c = connect(url).await?;
        let tx = c.transaction().await.map_err(map_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(map_err)?;
        tx.batch_execute(SCHEMA_MIGRATIONS_DDL).await.map_err(map_err)?;
        let applied: Vec<i64> =
            tx.query("SELECT version FROM schema_migrations", &[]).await.map_err(map_err)?.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>().map_err(map_err)?;
        for (v, name, stmts) in MIGRATIONS {
            if applied.contains(v) {
                continue;
            }
            for s in *stmts {
                tx.batch_execute(s).await.map_err(map_err)?;
            }
            tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", &[v, name, &super::now()])
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        let first = Arc::new(Conn { client: c, stmts: Mutex::new(HashMap::new()) });
        let mut slots: Vec<Mutex<Option<Arc<Conn>>>> = (0..POOL).map(|_| Mutex::new(None)).collect();
        slots[0] = Mutex::new(Some(first));
        Ok(PgStorage { url: url.to_string(), slots, next: AtomicUsize::new(0) })
    }

    async fn conn(&self) -> Result<Arc<Conn>, StoreError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let existing = self.slots[i].lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(c) = existing {
            if !c.client.is_closed() {
                return Ok(c);
            }
        }
        let c = Arc::new(Conn { client: connect(&self.url).await?, stmts: Mutex::new(HashMap::new()) });
        *self.slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        Ok(c)
    }

    async fn stmt(&self, sql: &str) -> Result<(Arc<Conn>, Statement), StoreError> {
        let c = self.conn().await?;
        let cached = c.stmts.lock().unwrap_or_else(|e| e.into_inner()).get(sql).cloned();
        let st = match cached {
            Some(s) => s,
            None => {
                let s = c.client.prepare(sql).await.map_err(map_err)?;
                c.stmts.lock().unwrap_or_else(|e| e.into_inner()).insert(sql.to_string(), s.clone());
                s
            }
        };
        Ok((c, st))
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        let (c, st) = self.stmt(sql).await?;
        c.client.query(&st, params).await.map_err(map_err)
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let (c, st) = self.stmt(sql).await?;
        c.client.execute(&st, params).await.map_err(map_err)
    }
}

fn refs(v: &[Option<String>]) -> Vec<&(dyn ToSql + Sync)> {
    v.iter().map(|x| x as &(dyn ToSql + Sync)).collect()
}

impl Storage for PgStorage {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn ping(&self) -> BoxFut<'_, ()> {
        Box::pin(async move { self.query("SELECT 1", &[]).await.map(|_| ()) })
    }

    fn schema_versions(&self) -> BoxFut<'_, Vec<i64>> {
        Box::pin(async move {
            let rows = self.query("SELECT version FROM schema_migrations ORDER BY version", &[]).await?;
            rows.iter().map(|r| r.try_get(0).map_err(map_err)).collect()
        })
    }

    fn create_tenant(&self, t: TenantRow) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.execute(
                &sql::insert_tenant(),
                &[&t.id, &t.institution_code, &t.name, &t.prefecture, &t.kind, &t.posted_hours, &t.settings, &t.created_at, &t.updated_at],
            )
            .await
            .map(|_| ())
        })
    }

    fn get_tenant(&self, id: String) -> BoxFut<'_, Option<TenantRow>> {
        Box::pin(async move {
            let rows = self.query(&sql::get_tenant(), &[&id]).await?;
            rows.first().map(tenant_row).transpose().map_err(map_err)
        })
    }

    fn get_tenant_by_code(&self, code: String) -> BoxFut<'_, Option<TenantRow>> {
        Box::pin(async move {
            let rows = self.query(&sql::get_tenant_by_code(), &[&code]).await?;
            rows.first().map(tenant_row).transpose().map_err(map_err)
        })
    }

    fn list_tenants(&self, after: Option<String>, limit: u32) -> BoxFut<'_, Vec<TenantRow>> {
        Box::pin(async move {
            let rows = self.query(&sql::list_tenants(), &[&after.unwrap_or_default(), &i64::from(limit)]).await?;
            rows.iter().map(tenant_row).collect::<Result<_, _>>().map_err(map_err)
        })
    }

    fn update_tenant(&self, t: TenantRow) -> BoxFut<'_, bool> {
        Box::pin(async move {
            self.execute(sql::UPDATE_TENANT, &[&t.name, &t.prefecture, &t.kind, &t.posted_hours, &t.settings, &t.updated_at, &t.id]).await.map(|n| n > 0)
        })
    }

    fn create_token(&self, t: TokenRow) -> BoxFut<'_, ()> {
        Box::pin(async move {
            self.execute(&sql::insert_token(), &[&t.id, &t.tenant_id, &t.secret_sha256, &t.label, &t.created_at, &t.revoked_at]).await.map(|_| ())
        })
    }

    fn get_token(&self, id: String) -> BoxFut<'_, Option<TokenRow>> {
        Box::pin(async move {
            let rows = self.query(&sql::get_token(), &[&id]).await?;
            rows.first().map(token_row).transpose().map_err(map_err)
        })
    }

    fn insert(&self, tenant: String, coll: Collection, d: Doc) -> BoxFut<'_, ()> {
        Box::pin(async move {
            // The composite foreign key (tenant_id, patient_id) refuses a patient of another
            // tenant (→ MissingParent) in the same statement.
            let mut v: Vec<Option<String>> = vec![Some(tenant), Some(d.id.clone())];
            v.extend(d.column_values(coll));
            v.extend([Some(d.data), Some(d.created_at), Some(d.updated_at)]);
            self.execute(&sql::insert(coll), &refs(&v)).await.map(|_| ())
        })
    }

    fn get(&self, tenant: String, coll: Collection, id: String) -> BoxFut<'_, Option<Doc>> {
        Box::pin(async move {
            let rows = self.query(&sql::get(coll), &[&tenant, &id]).await?;
            rows.first().map(|r| doc_row(coll, r)).transpose().map_err(map_err)
        })
    }

    fn list(&self, tenant: String, coll: Collection, f: ListFilter) -> BoxFut<'_, Vec<Doc>> {
        Box::pin(async move {
            let (p, m) = (f.patient_id.is_some(), f.month.is_some());
            let after = f.after.unwrap_or_default();
            let limit = i64::from(f.limit);
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant, &after];
            if let Some(x) = &f.patient_id {
                params.push(x);
            }
            if let Some(x) = &f.month {
                params.push(x);
            }
            params.push(&limit);
            let rows = self.query(&sql::list(coll, p, m), &params).await?;
            rows.iter().map(|r| doc_row(coll, r)).collect::<Result<_, _>>().map_err(map_err)
        })
    }

    fn update(&self, tenant: String, coll: Collection, d: Doc) -> BoxFut<'_, bool> {
        Box::pin(async move {
            let mut v = d.column_values(coll);
            v.extend([Some(d.data), Some(d.updated_at), Some(tenant), Some(d.id)]);
            self.execute(&sql::update(coll), &refs(&v)).await.map(|n| n > 0)
        })
    }

    fn delete(&self, tenant: String, coll: Collection, id: String) -> BoxFut<'_, bool> {
        Box::pin(async move { self.execute(&sql::delete(coll), &[&tenant, &id]).await.map(|n| n > 0) })
    }
}
