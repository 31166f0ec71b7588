//! Storage: one logical schema, two backends — embedded SQLite (default, one file in the data
//! directory) and PostgreSQL (`--database-url postgres://…`, for several stateless nodes).
//!
//! Every row of patient data carries `tenant_id`, and every method that touches patient data takes
//! the tenant and filters by it in SQL: a row of another tenant is indistinguishable from a missing
//! one (the API answers 404). Insurances and visits reference their patient by the composite key
//! `(tenant_id, patient_id)`, so the database itself refuses a link across tenants.
//!
//! The trait is object-safe (boxed futures) so the app holds an `Arc<dyn Storage>`.

pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A unique key already exists (e.g. a patient number within the tenant).
    Conflict(String),
    /// A referenced row (the patient of an insurance or visit) is not there for this tenant.
    MissingParent,
    /// The database cannot be reached.
    Unavailable(String),
    /// Anything else (logged, answered as 500 without details).
    Internal(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(s) => write!(f, "conflict: {s}"),
            StoreError::MissingParent => write!(f, "referenced row missing"),
            StoreError::Unavailable(s) => write!(f, "database unavailable: {s}"),
            StoreError::Internal(s) => write!(f, "storage error: {s}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A tenant: one institution (医療機関).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRow {
    pub id: String,
    /// 医療機関コード (10 digits: 都道府県2 + 点数表1 + 医療機関7).
    pub institution_code: String,
    pub name: String,
    /// 都道府県番号 01–47.
    pub prefecture: String,
    /// `clinic` (診療所) or `hospital` (病院).
    pub kind: String,
    /// 標榜時間 (JSON).
    pub posted_hours: String,
    /// Settings (JSON object).
    pub settings: String,
    pub created_at: String,
    pub updated_at: String,
}

/// An API token: only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub tenant_id: String,
    /// Lowercase hex SHA-256 of the secret part of the token.
    pub secret_sha256: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Patient-data collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Patients,
    Insurances,
    Visits,
}

impl Collection {
    pub fn table(self) -> &'static str {
        match self {
            Collection::Patients => "patients",
            Collection::Insurances => "insurances",
            Collection::Visits => "visits",
        }
    }
    /// Indexed columns besides tenant_id, id, data, created_at, updated_at (in `Doc` order).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Collection::Patients => &["number"],
            Collection::Insurances => &["patient_id", "kind", "valid_from", "valid_to"],
            Collection::Visits => &["patient_id", "month"],
        }
    }
}

/// A stored record of patient data: indexed columns plus the validated JSON document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    pub id: String,
    /// Insurances, visits: the patient's id.
    pub patient_id: Option<String>,
    /// Patients: 患者番号 (unique within the tenant).
    pub number: Option<String>,
    /// Insurances: `insurance` (医療保険) or `public` (公費).
    pub kind: Option<String>,
    /// Insurances: validity, `YYYY-MM-DD`; `valid_to` None = open.
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// Visits: 診療年月 `YYYY-MM`.
    pub month: Option<String>,
    /// The document (JSON text).
    pub data: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Doc {
    /// Values of `Collection::columns`, in order.
    pub fn column_values(&self, c: Collection) -> Vec<Option<String>> {
        match c {
            Collection::Patients => vec![self.number.clone()],
            Collection::Insurances => vec![self.patient_id.clone(), self.kind.clone(), self.valid_from.clone(), self.valid_to.clone()],
            Collection::Visits => vec![self.patient_id.clone(), self.month.clone()],
        }
    }
    pub fn set_column(&mut self, name: &str, v: Option<String>) {
        match name {
            "patient_id" => self.patient_id = v,
            "number" => self.number = v,
            "kind" => self.kind = v,
            "valid_from" => self.valid_from = v,
            "valid_to" => self.valid_to = v,
            "month" => self.month = v,
            _ => {}
        }
    }
}

/// Filter for listing a collection (always within one tenant). Keyset pagination on `id`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub patient_id: Option<String>,
    pub month: Option<String>,
    /// Return ids strictly greater than this.
    pub after: Option<String>,
    pub limit: u32,
}

/// The storage contract. All methods touching patient data take the tenant first.
pub trait Storage: Send + Sync + 'static {
    /// `sqlite` or `postgresql`.
    fn backend(&self) -> &'static str;
    /// Round-trip to the database (for `/readyz`).
    fn ping(&self) -> BoxFut<'_, ()>;
    /// Applied schema versions, ascending.
    fn schema_versions(&self) -> BoxFut<'_, Vec<i64>>;

    fn create_tenant(&self, t: TenantRow) -> BoxFut<'_, ()>;
    fn get_tenant(&self, id: String) -> BoxFut<'_, Option<TenantRow>>;
    /// The tenant with this 医療機関コード (the tenant name santei-security uses).
    fn get_tenant_by_code(&self, code: String) -> BoxFut<'_, Option<TenantRow>>;
    fn list_tenants(&self, after: Option<String>, limit: u32) -> BoxFut<'_, Vec<TenantRow>>;
    /// Replace name, prefecture, kind, posted_hours, settings, updated_at. False if absent.
    fn update_tenant(&self, t: TenantRow) -> BoxFut<'_, bool>;

    fn create_token(&self, t: TokenRow) -> BoxFut<'_, ()>;
    fn get_token(&self, id: String) -> BoxFut<'_, Option<TokenRow>>;

    /// Insert. `MissingParent` if `doc.patient_id` is not a patient of this tenant.
    fn insert(&self, tenant: String, c: Collection, doc: Doc) -> BoxFut<'_, ()>;
    fn get(&self, tenant: String, c: Collection, id: String) -> BoxFut<'_, Option<Doc>>;
    fn list(&self, tenant: String, c: Collection, f: ListFilter) -> BoxFut<'_, Vec<Doc>>;
    /// Replace indexed columns, data and updated_at (created_at kept). False if absent.
    fn update(&self, tenant: String, c: Collection, doc: Doc) -> BoxFut<'_, bool>;
    /// Delete (a patient's insurances and visits go with it). False if absent.
    fn delete(&self, tenant: String, c: Collection, id: String) -> BoxFut<'_, bool>;
}

pub type DynStorage = Arc<dyn Storage>;

/// Versioned migrations, applied in order at start and recorded in `schema_migrations`.
/// Plain SQL that SQLite and PostgreSQL both accept: TEXT ids and ISO-8601 text timestamps (UTC),
/// JSON documents as TEXT. Never edit a released migration; add a new one.
pub const MIGRATIONS: &[(i64, &str, &[&str])] = &[(
    1,
    "tenants, tokens, patients, insurances, visits",
    &[
        "CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            institution_code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            prefecture TEXT NOT NULL,
            kind TEXT NOT NULL,
            posted_hours TEXT NOT NULL,
            settings TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )",
        "CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            secret_sha256 TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )",
        "CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id)",
        "CREATE TABLE patients (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            number TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, number)
        )",
        "CREATE TABLE insurances (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            patient_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_to TEXT,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id) ON DELETE CASCADE
        )",
        "CREATE INDEX insurances_patient ON insurances (tenant_id, patient_id)",
        "CREATE TABLE visits (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            patient_id TEXT NOT NULL,
            month TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id) ON DELETE CASCADE
        )",
        "CREATE INDEX visits_patient ON visits (tenant_id, patient_id)",
        "CREATE INDEX visits_month ON visits (tenant_id, month)",
    ],
)];

pub const SCHEMA_MIGRATIONS_DDL: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// SQL shared by both backends (`$n` placeholders, used in ascending order: SQLite numbers
/// `$n` parameters by first appearance, so the same text binds the same way).
pub mod sql {
    use super::Collection;

    pub const TENANT_COLS: &str = "id, institution_code, name, prefecture, kind, posted_hours, settings, created_at, updated_at";
    pub const TOKEN_COLS: &str = "id, tenant_id, secret_sha256, label, created_at, revoked_at";

    pub fn insert_tenant() -> String {
        format!("INSERT INTO tenants ({TENANT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
    }
    pub fn get_tenant() -> String {
        format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1")
    }
    pub fn get_tenant_by_code() -> String {
        format!("SELECT {TENANT_COLS} FROM tenants WHERE institution_code = $1")
    }
    pub fn list_tenants() -> String {
        format!("SELECT {TENANT_COLS} FROM tenants WHERE id > $1 ORDER BY id LIMIT $2")
    }
    pub const UPDATE_TENANT: &str =
        "UPDATE tenants SET name = $1, prefecture = $2, kind = $3, posted_hours = $4, settings = $5, updated_at = $6 WHERE id = $7";
    pub fn insert_token() -> String {
        format!("INSERT INTO api_tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6)")
    }
    pub fn get_token() -> String {
        format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1")
    }

    fn cols(c: Collection) -> String {
        let mut s = String::from("id");
        for col in c.columns() {
            s.push_str(", ");
            s.push_str(col);
        }
        s.push_str(", data, created_at, updated_at");
        s
    }
    /// Parameters: tenant_id, id, columns…, data, created_at, updated_at.
    pub fn insert(c: Collection) -> String {
        let n = c.columns().len() + 5;
        let ph: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
        format!("INSERT INTO {} (tenant_id, {}) VALUES ({})", c.table(), cols(c), ph.join(", "))
    }
    /// Parameters: tenant_id, id.
    pub fn get(c: Collection) -> String {
        format!("SELECT {} FROM {} WHERE tenant_id = $1 AND id = $2", cols(c), c.table())
    }
    /// Parameters: tenant_id, after, [patient_id], [month], limit.
    pub fn list(c: Collection, patient: bool, month: bool) -> String {
        let mut w = String::from("tenant_id = $1 AND id > $2");
        let mut n = 3;
        if patient {
            w.push_str(&format!(" AND patient_id = ${n}"));
            n += 1;
        }
        if month {
            w.push_str(&format!(" AND month = ${n}"));
            n += 1;
        }
        format!("SELECT {} FROM {} WHERE {w} ORDER BY id LIMIT ${n}", cols(c), c.table())
    }
    /// Parameters: columns…, data, updated_at, tenant_id, id.
    pub fn update(c: Collection) -> String {
        let mut sets = Vec::new();
        let mut n = 1;
        for col in c.columns() {
            sets.push(format!("{col} = ${n}"));
            n += 1;
        }
        sets.push(format!("data = ${n}"));
        sets.push(format!("updated_at = ${}", n + 1));
        format!("UPDATE {} SET {} WHERE tenant_id = ${} AND id = ${}", c.table(), sets.join(", "), n + 2, n + 3)
    }
    /// Parameters: tenant_id, id.
    pub fn delete(c: Collection) -> String {
        format!("DELETE FROM {} WHERE tenant_id = $1 AND id = $2", c.table())
    }
    /// Parameters: tenant_id, id. For the explicit parent check before inserting a child.
    pub const PATIENT_EXISTS: &str = "SELECT 1 FROM patients WHERE tenant_id = $1 AND id = $2";
}

/// A new random id: 16 bytes, lowercase hex (32 chars). Random rather than sequential so ids
/// reveal nothing and nodes need no coordination.
pub fn new_id() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| StoreError::Internal(format!("random: {e}")))?;
    Ok(hex(&b))
}

pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

/// Now, UTC, RFC 3339 with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Open the storage a URL names: `postgres://…` / `postgresql://…` → PostgreSQL; otherwise the
/// SQLite file `santei.db` in `data_dir`, created on first start. Migrations are applied.
pub async fn open(database_url: Option<&str>, data_dir: &std::path::Path) -> Result<DynStorage, StoreError> {
    match database_url {
        Some(u) if crate::is_postgres_url(u) => {
            Ok(Arc::new(postgres::PgStorage::connect(u).await?))
        }
        Some(u) if u.starts_with("sqlite:") => {
            let p = std::path::PathBuf::from(u.trim_start_matches("sqlite://").trim_start_matches("sqlite:"));
            Ok(Arc::new(sqlite::SqliteStorage::open(&p).await?))
        }
        Some(_) => Err(StoreError::Unavailable(
            "unsupported --database-url (use postgres://… or sqlite:PATH)".into(),
        )),
        None => {
            std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display())))?;
            Ok(Arc::new(sqlite::SqliteStorage::open(&data_dir.join(sqlite::FILE_NAME)).await?))
        }
    }
}
