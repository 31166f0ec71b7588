//! Encrypted, content-hashed, write-once backups of a data directory.
//!
//! A generation is one file `santei-backup-YYYYMMDDTHHMMSSZ-<sha256>.sbk`, where `<sha256>` is
//! the SHA-256 of the whole file. Layout:
//!
//! ```text
//! header (49 bytes) = "SANTEIBK" ‖ format (1 byte = 1) ‖ key id (16) ‖ XChaCha20 nonce (24)
//! body              = XChaCha20-Poly1305(key, nonce, aad = header, gzip(payload))
//! payload           = "santei-payload-v1\n" ‖ u32 BE manifest length ‖ manifest JSON
//!                     ‖ for each file: u32 BE name length ‖ name ‖ u64 BE length ‖ bytes
//! ```
//!
//! The key id is the first 16 bytes of SHA-256("santei-backup-key-id\n" ‖ key): it tells "wrong
//! key" apart from "corrupted" without revealing the key. The database is captured with
//! `VACUUM INTO` (a consistent snapshot of a live database, never a raw copy); the master store
//! (`master.snapshot`, replaced only by atomic rename) is read in one go. Files are created with
//! `create_new` under a name that is new by construction and never overwritten; only
//! [`prune`] deletes, and never below [`MIN_GENERATIONS`].

use crate::audit::ANCHOR_FILE;
use crate::error::{ErrorKind, Result, SecError};
use crate::store::sqlite::DB_FILE;
use crate::util::{hex, random_bytes, sha256, unhex};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

/// File name of the master store in the data directory (same as `santei_master::store::FILE_NAME`).
pub const MASTER_FILE: &str = "master.snapshot";
/// Generations that [`prune`] always keeps.
pub const MIN_GENERATIONS: usize = 7;
/// Environment variable naming the key file.
pub const KEY_ENV: &str = "SANTEI_BACKUP_KEY_FILE";

const MAGIC: &[u8; 8] = b"SANTEIBK";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 16 + 24;
const PAYLOAD_MAGIC: &[u8] = b"santei-payload-v1\n";
const KEY_HEADER: &str = "santei-backup-key-v1";
/// Upper bound on one file in a backup when reading (guards against absurd lengths).
const MAX_ENTRY: u64 = 64 << 30;

fn err(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> SecError {
    SecError::new(ErrorKind::Integrity, code, ja, en)
}
fn bad_input(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> SecError {
    SecError::new(ErrorKind::Invalid, code, ja, en)
}

/// A 256-bit backup key. `Debug` is redacted; wiped on drop.
pub struct BackupKey([u8; 32]);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupKey(id {})", hex(&self.id()))
    }
}
impl Drop for BackupKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl BackupKey {
    pub fn generate() -> Result<Self> {
        Ok(BackupKey(random_bytes()?))
    }
    pub fn from_bytes(b: [u8; 32]) -> Self {
        BackupKey(b)
    }
    /// Public identifier of the key (not secret).
    pub fn id(&self) -> [u8; 16] {
        let mut b = b"santei-backup-key-id\n".to_vec();
        b.extend_from_slice(&self.0);
        let h = sha256(&b);
        b.zeroize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[..16]);
        id
    }
    fn to_file_text(&self) -> String {
        format!("{KEY_HEADER}\n{}\n", hex(&self.0))
    }
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next()? != KEY_HEADER {
            return None;
        }
        let mut v = unhex(lines.next()?)?;
        let k: [u8; 32] = v.as_slice().try_into().ok()?;
        v.zeroize();
        Some(BackupKey(k))
    }

    /// Read a key file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                bad_input(
                    "S601",
                    format!("バックアップ鍵ファイル {} がありません", path.display()),
                    format!("backup key file {} does not exist", path.display()),
                )
            } else {
                SecError::io(path, &e)
            }
        })?;
        let k = BackupKey::parse(&text);
        text.zeroize();
        k.ok_or_else(|| {
            bad_input(
                "S602",
                format!("{} はバックアップ鍵ファイルではありません", path.display()),
                format!("{} is not a backup key file", path.display()),
            )
        })
    }

    /// Write a new key file (mode 0600, never overwriting an existing file).
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| SecError::io(d, &e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
            }
        }
        let k = BackupKey::generate()?;
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(path).map_err(|e| SecError::io(path, &e))?;
        let mut text = k.to_file_text();
        let r = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
        text.zeroize();
        r.map_err(|e| SecError::io(path, &e))?;
        Ok(k)
    }
}

/// Where the key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `--key FILE`
    Option(PathBuf),
    /// `SANTEI_BACKUP_KEY_FILE`
    Env(PathBuf),
    /// `$XDG_CONFIG_HOME/santei/backup.key` (or `~/.config/santei/backup.key`)
    Default(PathBuf),
}

impl KeySource {
    pub fn path(&self) -> &Path {
        match self {
            KeySource::Option(p) | KeySource::Env(p) | KeySource::Default(p) => p,
        }
    }
}

/// The default key location under the user's config directory.
pub fn default_key_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(d).join("santei/backup.key"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".config/santei/backup.key"))
}

/// Resolve the key file: `--key`, else `SANTEI_BACKUP_KEY_FILE`, else the default path.
pub fn resolve_key_source(opt: Option<&Path>) -> Result<KeySource> {
    if let Some(p) = opt {
        return Ok(KeySource::Option(p.to_path_buf()));
    }
    if let Some(p) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) {
        return Ok(KeySource::Env(PathBuf::from(p)));
    }
    default_key_path().map(KeySource::Default).ok_or_else(|| {
        bad_input(
            "S603",
            "バックアップ鍵の場所が決められません。--key か SANTEI_BACKUP_KEY_FILE を指定してください",
            "cannot determine where the backup key is; pass --key or set SANTEI_BACKUP_KEY_FILE",
        )
    })
}

/// Load the key; if it is the default location and does not exist and `create` is set,
/// generate it. Returns the key and whether it was created. Refuses a key inside `data_dir`.
pub fn load_or_create_key(
    src: &KeySource,
    create: bool,
    data_dir: Option<&Path>,
) -> Result<(BackupKey, bool)> {
    let p = src.path();
    if let Some(d) = data_dir {
        let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf());
        let kd = p.parent().map(abs).unwrap_or_default();
        if kd.starts_with(abs(d)) {
            return Err(bad_input(
                "S604",
                "バックアップ鍵をデータディレクトリの中に置くことはできません(データと一緒に盗まれます)",
                "the backup key must not be inside the data directory (it would be stolen with the data)",
            ));
        }
    }
    if create && matches!(src, KeySource::Default(_)) && !p.exists() {
        return Ok((BackupKey::create(p)?, true));
    }
    Ok((BackupKey::load(p)?, false))
}

/// One file in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// What a backup contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: i64,
    pub santei_version: String,
    pub files: Vec<ManifestFile>,
}

/// A generation found in a backup directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generation {
    pub file_name: String,
    pub path: PathBuf,
    /// `YYYYMMDDTHHMMSSZ` from the name.
    pub stamp: String,
    /// SHA-256 from the name.
    pub sha256: String,
    pub size: u64,
}

const PREFIX: &str = "santei-backup-";
const SUFFIX: &str = ".sbk";

fn parse_name(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (stamp, h) = rest.split_once('-')?;
    (stamp.len() == 16 && h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (stamp.to_string(), h.to_string()))
}

/// Generations in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<Generation>> {
    let rd = std::fs::read_dir(dir).map_err(|e| SecError::io(dir, &e))?;
    let mut v = Vec::new();
    for e in rd {
        let e = e.map_err(|e| SecError::io(dir, &e))?;
        let name = e.file_name().to_string_lossy().to_string();
        if let Some((stamp, sha)) = parse_name(&name) {
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            v.push(Generation {
                file_name: name,
                path: e.path(),
                stamp,
                sha256: sha,
                size,
            });
        }
    }
    v.sort_by(|a, b| (&a.stamp, &a.file_name).cmp(&(&b.stamp, &b.file_name)));
    Ok(v)
}

fn read_file(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| SecError::io(p, &e))
}

/// Consistent snapshot of the SQLite database with `VACUUM INTO` (into a temporary file inside
/// the data directory, which is removed afterwards).
fn snapshot_db(db: &Path, data_dir: &Path) -> Result<Vec<u8>> {
    let r: [u8; 8] = random_bytes()?;
    let tmp = data_dir.join(format!(".backup-snapshot-{}.db", hex(&r)));
    let res = (|| {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let t = tmp.to_string_lossy().to_string();
        conn.execute("VACUUM INTO ?1", [t])?;
        Ok::<_, SecError>(())
    })()
    .and_then(|_| read_file(&tmp));
    let _ = std::fs::remove_file(&tmp);
    res
}

/// Build the payload container.
fn pack(files: &[(String, Vec<u8>)], created_at: i64) -> Result<Vec<u8>> {
    let manifest = Manifest {
        format: 1,
        created_at,
        santei_version: env!("CARGO_PKG_VERSION").to_string(),
        files: files
            .iter()
            .map(|(n, b)| ManifestFile {
                name: n.clone(),
                size: b.len() as u64,
                sha256: hex(&sha256(b)),
            })
            .collect(),
    };
    let mj = serde_json::to_vec(&manifest)
        .map_err(|e| SecError::internal(format!("{e}"), format!("{e}")))?;
    let mut out =
        Vec::with_capacity(files.iter().map(|f| f.1.len()).sum::<usize>() + mj.len() + 64);
    out.extend_from_slice(PAYLOAD_MAGIC);
    out.extend_from_slice(&(mj.len() as u32).to_be_bytes());
    out.extend_from_slice(&mj);
    for (n, b) in files {
        out.extend_from_slice(&(n.len() as u32).to_be_bytes());
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(&(b.len() as u64).to_be_bytes());
        out.extend_from_slice(b);
    }
    Ok(out)
}

fn corrupted(what: &str) -> SecError {
    err(
        "S611",
        format!("バックアップが壊れています({what})"),
        format!("backup is corrupted ({what})"),
    )
}

/// Parse and check the payload container: every file's size and SHA-256 against the manifest.
fn unpack(p: &[u8]) -> Result<(Manifest, Files)> {
    let rest = p
        .strip_prefix(PAYLOAD_MAGIC)
        .ok_or_else(|| corrupted("payload header"))?;
    let take = |b: &mut &[u8], n: usize| -> Result<Vec<u8>> {
        if b.len() < n {
            return Err(corrupted("truncated payload"));
        }
        let (a, r) = b.split_at(n);
        *b = r;
        Ok(a.to_vec())
    };
    let mut b = rest;
    let ml = u32::from_be_bytes(
        take(&mut b, 4)?
            .try_into()
            .map_err(|_| corrupted("length"))?,
    ) as usize;
    let manifest: Manifest =
        serde_json::from_slice(&take(&mut b, ml)?).map_err(|_| corrupted("manifest"))?;
    let mut files = Vec::new();
    while !b.is_empty() {
        let nl = u32::from_be_bytes(
            take(&mut b, 4)?
                .try_into()
                .map_err(|_| corrupted("length"))?,
        ) as usize;
        let name = String::from_utf8(take(&mut b, nl)?).map_err(|_| corrupted("file name"))?;
        let len = u64::from_be_bytes(
            take(&mut b, 8)?
                .try_into()
                .map_err(|_| corrupted("length"))?,
        );
        if len > MAX_ENTRY {
            return Err(corrupted("file length"));
        }
        let data = take(&mut b, len as usize)?;
        files.push((name, data));
    }
    if files.len() != manifest.files.len() {
        return Err(corrupted("file count"));
    }
    for ((n, d), m) in files.iter().zip(&manifest.files) {
        if *n != m.name || d.len() as u64 != m.size || hex(&sha256(d)) != m.sha256 {
            return Err(corrupted(&format!("file {n}")));
        }
        if !allowed_name(n) {
            return Err(corrupted(&format!("unexpected file {n}")));
        }
    }
    Ok((manifest, files))
}

/// The files of a backup: (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Only these names are ever written on restore (no paths: nothing escapes the data dir).
fn allowed_name(n: &str) -> bool {
    [DB_FILE, MASTER_FILE, ANCHOR_FILE].contains(&n)
}

/// Encrypt and frame a payload.
fn seal(key: &BackupKey, payload: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(payload).map_err(|e| {
        SecError::internal(
            format!("圧縮エラー: {e}"),
            format!("compression error: {e}"),
        )
    })?;
    let compressed = gz.finish().map_err(|e| {
        SecError::internal(
            format!("圧縮エラー: {e}"),
            format!("compression error: {e}"),
        )
    })?;
    let nonce: [u8; 24] = random_bytes()?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.push(FORMAT);
    header.extend_from_slice(&key.id());
    header.extend_from_slice(&nonce);
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &compressed,
                aad: &header,
            },
        )
        .map_err(|_| SecError::internal("暗号化に失敗しました", "encryption failed"))?;
    let mut out = header;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Check the name hash, header, key and tag; decrypt and decompress; check the payload.
pub fn open_generation(key: &BackupKey, g: &Generation) -> Result<(Manifest, Files)> {
    let bytes = read_file(&g.path)?;
    open_bytes(key, &bytes, Some(&g.sha256))
}

fn open_bytes(key: &BackupKey, bytes: &[u8], name_hash: Option<&str>) -> Result<(Manifest, Files)> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(err(
            "S612",
            "santei のバックアップファイルではありません",
            "not a santei backup file",
        ));
    }
    if let Some(h) = name_hash {
        if hex(&sha256(bytes)) != h.to_ascii_lowercase() {
            return Err(err(
                "S613",
                "バックアップが壊れています(内容のハッシュがファイル名と一致しません)",
                "backup is corrupted (content hash does not match the file name)",
            ));
        }
    }
    if bytes[8] != FORMAT {
        return Err(err(
            "S614",
            format!("未対応のバックアップ形式です(版 {})", bytes[8]),
            format!("unsupported backup format (version {})", bytes[8]),
        ));
    }
    if bytes[9..25] != key.id() {
        return Err(err(
            "S615",
            "鍵が違います: このバックアップは別のバックアップ鍵で作られています",
            "wrong key: this backup was made with a different backup key",
        ));
    }
    let header = &bytes[..HEADER_LEN];
    let nonce = XNonce::from_slice(&bytes[25..HEADER_LEN]);
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let compressed = cipher
        .decrypt(
            nonce,
            Payload {
                msg: &bytes[HEADER_LEN..],
                aad: header,
            },
        )
        .map_err(|_| corrupted("authentication tag does not verify"))?;
    let mut payload = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .take(MAX_ENTRY)
        .read_to_end(&mut payload)
        .map_err(|_| corrupted("compression"))?;
    unpack(&payload)
}

/// Result of `create`.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub generation: Generation,
    pub files: Vec<ManifestFile>,
}

/// Back up `data_dir` (the database via `VACUUM INTO`, the master store, the audit anchor) into
/// a new generation in `to`.
pub fn create(data_dir: &Path, to: &Path, key: &BackupKey, now: i64) -> Result<Created> {
    if !data_dir.is_dir() {
        return Err(bad_input(
            "S621",
            format!("データディレクトリ {} がありません", data_dir.display()),
            format!("data directory {} does not exist", data_dir.display()),
        ));
    }
    let mut files = Vec::new();
    // Anchor first: it then never names an entry newer than the database snapshot.
    let anchor = data_dir.join(ANCHOR_FILE);
    if anchor.is_file() {
        files.push((ANCHOR_FILE.to_string(), read_file(&anchor)?));
    }
    let db = data_dir.join(DB_FILE);
    if db.is_file() {
        files.push((DB_FILE.to_string(), snapshot_db(&db, data_dir)?));
    }
    let master = data_dir.join(MASTER_FILE);
    if master.is_file() {
        files.push((MASTER_FILE.to_string(), read_file(&master)?));
    }
    if !files.iter().any(|(n, _)| n == DB_FILE || n == MASTER_FILE) {
        return Err(bad_input(
            "S622",
            format!(
                "{} にバックアップするデータ({DB_FILE}, {MASTER_FILE})がありません",
                data_dir.display()
            ),
            format!(
                "nothing to back up in {} (no {DB_FILE} or {MASTER_FILE})",
                data_dir.display()
            ),
        ));
    }
    let payload = pack(&files, now)?;
    let sealed = seal(key, &payload)?;
    let sha = hex(&sha256(&sealed));
    let stamp = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| "00000000T000000Z".into());
    std::fs::create_dir_all(to).map_err(|e| SecError::io(to, &e))?;
    let name = format!("{PREFIX}{stamp}-{sha}{SUFFIX}");
    let path = to.join(&name);
    // Write once: create_new fails rather than replace anything.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| SecError::io(&path, &e))?;
    f.write_all(&sealed)
        .and_then(|_| f.sync_all())
        .map_err(|e| SecError::io(&path, &e))?;
    drop(f);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400));
        if let Ok(d) = std::fs::File::open(to) {
            let _ = d.sync_all();
        }
    }
    let manifest_files = files
        .iter()
        .map(|(n, b)| ManifestFile {
            name: n.clone(),
            size: b.len() as u64,
            sha256: hex(&sha256(b)),
        })
        .collect();
    Ok(Created {
        generation: Generation {
            file_name: name,
            path,
            stamp,
            sha256: sha,
            size: sealed.len() as u64,
        },
        files: manifest_files,
    })
}

/// Verification result of one generation.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub generation: Generation,
    pub manifest: Option<Manifest>,
    pub error: Option<SecError>,
}

/// Verify every generation in `from` (decrypt + hashes) without restoring anything.
pub fn verify_all(from: &Path, key: &BackupKey) -> Result<Vec<Verified>> {
    let gens = list(from)?;
    Ok(gens
        .into_iter()
        .map(|g| match open_generation(key, &g) {
            Ok((m, _)) => Verified {
                generation: g,
                manifest: Some(m),
                error: None,
            },
            Err(e) => Verified {
                generation: g,
                manifest: None,
                error: Some(e),
            },
        })
        .collect())
}

/// Restore a generation (default: the newest) into `data_dir`, which must be empty or absent.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    key: &BackupKey,
    generation: Option<&str>,
) -> Result<(Generation, Manifest)> {
    if data_dir.exists() {
        let mut rd = std::fs::read_dir(data_dir).map_err(|e| SecError::io(data_dir, &e))?;
        if rd.next().is_some() {
            return Err(bad_input(
                "S631",
                format!(
                    "復元先 {} は空ではありません。空のディレクトリを指定してください",
                    data_dir.display()
                ),
                format!(
                    "restore target {} is not empty; give an empty directory",
                    data_dir.display()
                ),
            ));
        }
    }
    let gens = list(from)?;
    let g = match generation {
        Some(n) => gens
            .into_iter()
            .find(|g| g.file_name == n || (n.len() >= 8 && g.sha256.starts_with(n))),
        None => gens.into_iter().last(),
    }
    .ok_or_else(|| {
        bad_input(
            "S632",
            format!("{} に該当するバックアップがありません", from.display()),
            format!("no matching backup in {}", from.display()),
        )
    })?;
    let (m, files) = open_generation(key, &g)?;
    std::fs::create_dir_all(data_dir).map_err(|e| SecError::io(data_dir, &e))?;
    for (n, d) in &files {
        let p = data_dir.join(n);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| SecError::io(&p, &e))?;
        f.write_all(d)
            .and_then(|_| f.sync_all())
            .map_err(|e| SecError::io(&p, &e))?;
    }
    if let Ok(d) = std::fs::File::open(data_dir) {
        let _ = d.sync_all();
    }
    Ok((g, m))
}

/// Delete the oldest generations so that `keep` remain. `keep` below [`MIN_GENERATIONS`] is
/// refused. Returns the deleted generations.
pub fn prune(from: &Path, keep: usize) -> Result<Vec<Generation>> {
    if keep < MIN_GENERATIONS {
        return Err(bad_input(
            "S641",
            format!("少なくとも {MIN_GENERATIONS} 世代は残してください(--keep {keep} は不可)"),
            format!("at least {MIN_GENERATIONS} generations must be kept (--keep {keep} refused)"),
        ));
    }
    let gens = list(from)?;
    let n = gens.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for g in gens.into_iter().take(n) {
        std::fs::remove_file(&g.path).map_err(|e| SecError::io(&g.path, &e))?;
        removed.push(g);
    }
    Ok(removed)
}
