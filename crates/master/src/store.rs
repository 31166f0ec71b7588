//! The compiled master store: one binary snapshot file in the data directory.
//!
//! Format: `SANTEI-MASTER\n` magic, a little-endian u32 format number, a CRC-32 of the rest,
//! a section count and the byte length of each section, then the sections — sources, each master
//! table, コメント関連, 電子点数表 — each encoded with postcard. Opening reads the file and checks
//! the CRC; a table is decoded the first time it is used (so `master show` of a procedure decodes
//! only the procedure table). Every table is a Vec sorted by (code, valid_from), so "code X on
//! date D" is a binary search — no index to build. Import writes a temporary file in the same
//! directory, fsyncs it and renames it over the old one: a failed import leaves the previous
//! store untouched, and readers never see a half-written file.

use crate::model::*;
use crate::tensuhyo::Tensuhyo;
use santei_core::date::Date;
use santei_core::InputError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const FORMAT: u32 = 4;
const MAGIC: &[u8] = b"SANTEI-MASTER\n";
pub const FILE_NAME: &str = "master.snapshot";

/// One imported file, as recorded in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    pub kind: String,
    pub rows: u64,
    /// A 変更分 (diff) file rather than a complete master.
    pub diff: bool,
    /// The date in the file name (e.g. `s_ALL20240531.csv` → 2024-05-31): what the file describes
    /// the master as of.
    pub as_of: Option<Date>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub sources: Vec<SourceInfo>,
    pub procedures: Vec<Procedure>,
    pub drugs: Vec<Drug>,
    pub materials: Vec<Material>,
    pub comments: Vec<Comment>,
    pub diseases: Vec<Disease>,
    pub modifiers: Vec<Modifier>,
    pub comment_relations: Vec<CommentRelation>,
    pub tensuhyo: Tensuhyo,
}

/// An opened store. Tables are decoded lazily from `bytes` on first use.
pub struct Store {
    path: PathBuf,
    bytes: Vec<u8>,
    sections: Vec<std::ops::Range<usize>>,
    sources: OnceLock<Vec<SourceInfo>>,
    procedures: OnceLock<Indexed<Procedure>>,
    drugs: OnceLock<Indexed<Drug>>,
    materials: OnceLock<Indexed<Material>>,
    comments: OnceLock<Indexed<Comment>>,
    diseases: OnceLock<Indexed<Disease>>,
    modifiers: OnceLock<Indexed<Modifier>>,
    comment_relations: OnceLock<Vec<CommentRelation>>,
    tensuhyo: OnceLock<Tensuhyo>,
    search: OnceLock<Vec<(Kind, u32, String)>>,
}

/// A table and a compact key column (the code as a number) for cache-friendly binary search.
struct Indexed<T> {
    rows: Vec<T>,
    keys: Vec<u64>,
}

fn code_key(code: &str) -> u64 {
    if code.is_empty() || code.len() > 18 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return u64::MAX;
    }
    code.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
}

impl<T: Record> Indexed<T> {
    fn new(rows: Vec<T>) -> Self {
        let keys = rows.iter().map(|r| code_key(&r.common().code)).collect();
        Indexed { rows, keys }
    }
    fn at_date(&self, code: &str, date: Date) -> Option<&T> {
        let k = code_key(code);
        if k == u64::MAX {
            return at_date(&self.rows, code, date);
        }
        let lo = self.keys.partition_point(|&x| x < k);
        self.rows[lo..]
            .iter()
            .zip(&self.keys[lo..])
            .take_while(|(_, &x)| x == k)
            .map(|(r, _)| r)
            .find(|r| {
                let c = r.common();
                c.code == code && c.valid_from <= date && date <= c.valid_to
            })
    }
}

/// Section order in the file.
const SECTIONS: usize = 9;

fn store_err(path: &Path, ja: String, en: String) -> InputError {
    InputError::new("E_STORE", path.display().to_string(), ja, en)
}

/// Resolve the data directory: `--data-dir`, else `$SANTEI_DATA`, else `$XDG_DATA_HOME/santei`,
/// else `~/.local/share/santei`, else `./santei-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SANTEI_DATA").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(d).join("santei");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".local/share/santei");
    }
    PathBuf::from("santei-data")
}

/// Binary search in a table sorted by (code, valid_from) for the version valid on `date`.
pub fn at_date<'a, T: Record>(table: &'a [T], code: &str, date: Date) -> Option<&'a T> {
    // First index whose (code, from) > (code, date): the candidate is just before it.
    let idx = table.partition_point(|r| {
        let c = r.common();
        (c.code.as_str(), c.valid_from) <= (code, date)
    });
    let r = table.get(idx.checked_sub(1)?)?;
    let c = r.common();
    (c.code == code && c.valid_from <= date && date <= c.valid_to).then_some(r)
}

/// All versions of a code, oldest first.
pub fn versions<'a, T: Record>(table: &'a [T], code: &str) -> &'a [T] {
    let lo = table.partition_point(|r| r.common().code.as_str() < code);
    let hi = lo + table[lo..].partition_point(|r| r.common().code.as_str() == code);
    &table[lo..hi]
}

impl Snapshot {
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        let parts: Vec<Vec<u8>> = vec![
            postcard::to_stdvec(&self.sources)?,
            encode_table(&self.procedures)?,
            encode_table(&self.drugs)?,
            encode_table(&self.materials)?,
            encode_table(&self.comments)?,
            encode_table(&self.diseases)?,
            encode_table(&self.modifiers)?,
            postcard::to_stdvec(&self.comment_relations)?,
            postcard::to_stdvec(&self.tensuhyo)?,
        ];
        let mut body = Vec::new();
        body.extend_from_slice(&(parts.len() as u32).to_le_bytes());
        for p in &parts {
            body.extend_from_slice(&(p.len() as u64).to_le_bytes());
        }
        for p in &parts {
            body.extend_from_slice(p);
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Write atomically into `dir` (created if missing).
    pub fn save(&self, dir: &Path) -> Result<PathBuf, InputError> {
        let io = |e: std::io::Error| store_err(dir, format!("ストアを書き込めません: {e}"), format!("cannot write the store: {e}"));
        std::fs::create_dir_all(dir).map_err(io)?;
        let bytes = self.encode().map_err(|e| store_err(dir, format!("符号化に失敗: {e}"), format!("encoding failed: {e}")))?;
        let target = dir.join(FILE_NAME);
        let tmp = dir.join(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(target)
    }
}

/// A master table section: record count, the end offset of each record, then the records, each
/// encoded on its own — so one record can be found (binary search) and decoded without decoding
/// the table.
fn encode_table<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, postcard::Error> {
    let mut recs = Vec::new();
    let mut ends = Vec::with_capacity(rows.len());
    for r in rows {
        recs = postcard::to_extend(r, recs)?;
        ends.push(recs.len() as u32);
    }
    let mut out = Vec::with_capacity(4 + 4 * ends.len() + recs.len());
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    for e in ends {
        out.extend_from_slice(&e.to_le_bytes());
    }
    out.extend_from_slice(&recs);
    Ok(out)
}

/// A view of an encoded table section.
struct TableBytes<'a> {
    n: usize,
    index: &'a [u8],
    recs: &'a [u8],
}

impl<'a> TableBytes<'a> {
    fn new(b: &'a [u8]) -> Option<Self> {
        let n = u32_at(b, 0)? as usize;
        let index = b.get(4..4 + 4 * n)?;
        let recs = b.get(4 + 4 * n..)?;
        Some(TableBytes { n, index, recs })
    }
    fn record<T: serde::de::DeserializeOwned>(&self, i: usize) -> Option<Result<T, postcard::Error>> {
        let start = if i == 0 { 0 } else { u32_at(self.index, 4 * (i - 1))? as usize };
        let end = u32_at(self.index, 4 * i)? as usize;
        Some(postcard::from_bytes(self.recs.get(start..end)?))
    }
    fn all<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, postcard::Error> {
        let mut out = Vec::with_capacity(self.n);
        for i in 0..self.n {
            match self.record(i) {
                Some(r) => out.push(r?),
                None => return Err(postcard::Error::DeserializeUnexpectedEnd),
            }
        }
        Ok(out)
    }
    /// The version of `code` valid on `date`, decoding only O(log n) records.
    fn find<T: serde::de::DeserializeOwned + Record>(&self, code: &str, date: Date) -> Option<T> {
        let (mut lo, mut hi) = (0usize, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let r: T = self.record(mid)?.ok()?;
            let c = r.common();
            if (c.code.as_str(), c.valid_from) <= (code, date) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let r: T = self.record(lo.checked_sub(1)?)?.ok()?;
        let c = r.common();
        (c.code == code && c.valid_from <= date && date <= c.valid_to).then_some(r)
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Check magic, format and CRC; return the section ranges.
fn parse_header(bytes: &[u8], path: &Path) -> Result<Vec<std::ops::Range<usize>>, InputError> {
    let corrupt = || store_err(path, "ストアが壊れています。master import をやり直してください".into(), "store is corrupt; run `santei master import` again".into());
    if !bytes.starts_with(MAGIC) {
        return Err(store_err(path, "santeiのマスターストアではありません".into(), "not a santei master store".into()));
    }
    let fmt = u32_at(bytes, MAGIC.len()).ok_or_else(corrupt)?;
    if fmt != FORMAT {
        return Err(store_err(
            path,
            format!("ストアの形式({fmt})がこの版({FORMAT})と異なります。master import をやり直してください"),
            format!("store format {fmt} differs from this version's {FORMAT}; run `santei master import` again"),
        ));
    }
    let crc = u32_at(bytes, MAGIC.len() + 4).ok_or_else(corrupt)?;
    let body = bytes.get(MAGIC.len() + 8..).ok_or_else(corrupt)?;
    if crc32fast::hash(body) != crc {
        return Err(corrupt());
    }
    let n = u32_at(body, 0).ok_or_else(corrupt)? as usize;
    if n != SECTIONS {
        return Err(corrupt());
    }
    let mut at = MAGIC.len() + 8 + 4 + 8 * n;
    let mut ranges = Vec::with_capacity(n);
    for i in 0..n {
        let len = usize::try_from(u64_at(body, 4 + 8 * i).ok_or_else(corrupt)?).map_err(|_| corrupt())?;
        let end = at.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(corrupt)?;
        ranges.push(at..end);
        at = end;
    }
    Ok(ranges)
}

impl Snapshot {
    /// Decode a whole snapshot (all sections) — used by tests and tools; `Store` decodes lazily.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Snapshot, InputError> {
        let st = Store::from_bytes(bytes.to_vec(), path)?;
        st.check_all()?;
        Ok(Snapshot {
            format: FORMAT,
            sources: st.sources().to_vec(),
            procedures: st.procedures().to_vec(),
            drugs: st.drugs().to_vec(),
            materials: st.materials().to_vec(),
            comments: st.comments().to_vec(),
            diseases: st.diseases().to_vec(),
            modifiers: st.modifiers().to_vec(),
            comment_relations: st.comment_relations_all().to_vec(),
            tensuhyo: st.tensuhyo().clone(),
        })
    }
}

fn lazy<T: serde::de::DeserializeOwned + Default>(bytes: &[u8], range: Option<&std::ops::Range<usize>>, path: &Path) -> T {
    match range.and_then(|r| bytes.get(r.clone())).map(postcard::from_bytes::<T>) {
        Some(Ok(v)) => v,
        None => T::default(),
        Some(Err(e)) => {
            // The CRC matched at open, so this is a format bug, not bad data: say so and serve
            // an empty table rather than crash a running service.
            eprintln!("santei: store section in {} failed to decode ({e}); treating it as empty", path.display());
            T::default()
        }
    }
}

fn lazy_table<T: serde::de::DeserializeOwned>(bytes: &[u8], range: Option<&std::ops::Range<usize>>, path: &Path) -> Vec<T> {
    let Some(b) = range.and_then(|r| bytes.get(r.clone())) else { return Vec::new() };
    match TableBytes::new(b).ok_or(postcard::Error::DeserializeUnexpectedEnd).and_then(|t| t.all()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("santei: store table in {} failed to decode ({e}); treating it as empty", path.display());
            Vec::new()
        }
    }
}

macro_rules! table {
    ($name:ident, $t:ty, $i:expr) => {
        pub fn $name(&self) -> &[$t] {
            &self.$name.get_or_init(|| Indexed::new(lazy_table(&self.bytes, self.sections.get($i), &self.path))).rows
        }
    };
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, InputError> {
        let path = dir.join(FILE_NAME);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                store_err(
                    &path,
                    "マスターストアがありません。先に `santei master import` を実行してください".into(),
                    "no master store here; run `santei master import` first".into(),
                )
            } else {
                store_err(&path, format!("ストアを読めません: {e}"), format!("cannot read the store: {e}"))
            }
        })?;
        Store::from_bytes(bytes, &path)
    }

    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Store, InputError> {
        let sections = parse_header(&bytes, path)?;
        Ok(Store {
            path: path.to_path_buf(),
            bytes,
            sections,
            sources: OnceLock::new(),
            procedures: OnceLock::new(),
            drugs: OnceLock::new(),
            materials: OnceLock::new(),
            comments: OnceLock::new(),
            diseases: OnceLock::new(),
            modifiers: OnceLock::new(),
            comment_relations: OnceLock::new(),
            tensuhyo: OnceLock::new(),
            search: OnceLock::new(),
        })
    }

    pub fn from_snapshot(snap: Snapshot) -> Store {
        let cell = |v: Vec<SourceInfo>| {
            let c = OnceLock::new();
            let _ = c.set(v);
            c
        };
        let t = OnceLock::new();
        let _ = t.set(snap.tensuhyo);
        Store {
            path: PathBuf::from("(memory)"),
            bytes: Vec::new(),
            sections: Vec::new(),
            sources: cell(snap.sources),
            procedures: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.procedures)); c },
            drugs: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.drugs)); c },
            materials: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.materials)); c },
            comments: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.comments)); c },
            diseases: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.diseases)); c },
            modifiers: { let c = OnceLock::new(); let _ = c.set(Indexed::new(snap.modifiers)); c },
            comment_relations: { let c = OnceLock::new(); let _ = c.set(snap.comment_relations); c },
            tensuhyo: t,
            search: OnceLock::new(),
        }
    }

    /// Decode every section now and report the first that fails (used by `Snapshot::decode`
    /// and by tools that want to verify a store completely).
    pub fn check_all(&self) -> Result<(), InputError> {
        fn chk<T: serde::de::DeserializeOwned>(st: &Store, i: usize) -> Result<(), InputError> {
            match st.sections.get(i).and_then(|r| st.bytes.get(r.clone())) {
                None => Ok(()),
                Some(b) => postcard::from_bytes::<T>(b).map(|_| ()).map_err(|e| {
                    store_err(&st.path, format!("ストアが壊れています: {e}"), format!("store is corrupt: {e}"))
                }),
            }
        }
        fn chk_table<T: serde::de::DeserializeOwned>(st: &Store, i: usize) -> Result<(), InputError> {
            match st.sections.get(i).and_then(|r| st.bytes.get(r.clone())) {
                None => Ok(()),
                Some(b) => TableBytes::new(b)
                    .ok_or(postcard::Error::DeserializeUnexpectedEnd)
                    .and_then(|t| t.all::<T>())
                    .map(|_| ())
                    .map_err(|e| store_err(&st.path, format!("ストアが壊れています: {e}"), format!("store is corrupt: {e}"))),
            }
        }
        chk::<Vec<SourceInfo>>(self, 0)?;
        chk_table::<Procedure>(self, 1)?;
        chk_table::<Drug>(self, 2)?;
        chk_table::<Material>(self, 3)?;
        chk_table::<Comment>(self, 4)?;
        chk_table::<Disease>(self, 5)?;
        chk_table::<Modifier>(self, 6)?;
        chk::<Vec<CommentRelation>>(self, 7)?;
        chk::<Tensuhyo>(self, 8)?;
        Ok(())
    }

    pub fn sources(&self) -> &[SourceInfo] {
        self.sources.get_or_init(|| lazy(&self.bytes, self.sections.first(), &self.path))
    }
    table!(procedures, Procedure, 1);
    table!(drugs, Drug, 2);
    table!(materials, Material, 3);
    table!(comments, Comment, 4);
    table!(diseases, Disease, 5);
    table!(modifiers, Modifier, 6);

    pub fn comment_relations_all(&self) -> &Vec<CommentRelation> {
        self.comment_relations.get_or_init(|| lazy(&self.bytes, self.sections.get(7), &self.path))
    }

    pub fn procedure(&self, code: &str, date: Date) -> Option<&Procedure> {
        self.procedures();
        self.procedures.get()?.at_date(code, date)
    }
    pub fn drug(&self, code: &str, date: Date) -> Option<&Drug> {
        self.drugs();
        self.drugs.get()?.at_date(code, date)
    }
    pub fn material(&self, code: &str, date: Date) -> Option<&Material> {
        self.materials();
        self.materials.get()?.at_date(code, date)
    }
    pub fn comment(&self, code: &str, date: Date) -> Option<&Comment> {
        self.comments();
        self.comments.get()?.at_date(code, date)
    }
    pub fn disease(&self, code: &str, date: Date) -> Option<&Disease> {
        self.diseases();
        self.diseases.get()?.at_date(code, date)
    }
    pub fn modifier(&self, code: &str, date: Date) -> Option<&Modifier> {
        self.modifiers();
        self.modifiers.get()?.at_date(code, date)
    }
    pub fn tensuhyo(&self) -> &Tensuhyo {
        self.tensuhyo.get_or_init(|| lazy(&self.bytes, self.sections.get(8), &self.path))
    }
    /// The file a record came from.
    pub fn source_name(&self, s: Source) -> &str {
        self.sources().get(s.file as usize).map(|f| f.name.as_str()).unwrap_or("?")
    }

    /// The code on `date`, in whichever master has it.
    pub fn get(&self, code: &str, date: Date) -> Option<Entry<'_>> {
        // The code's shape says which master it belongs to (マスターファイル仕様説明書: 診療行為
        // 1xxxxxxxx, 医薬品 6…, 特定器材 7…, コメント 8…, 傷病名 7 digits, 修飾語 4 digits), so only
        // that table is decoded; other tables are tried only when it is not found there.
        let guess = match (code.len(), code.as_bytes().first()) {
            (9, Some(b'1')) => self.procedure(code, date).map(Entry::Procedure),
            (9, Some(b'6')) => self.drug(code, date).map(Entry::Drug),
            (9, Some(b'7')) => self.material(code, date).map(Entry::Material),
            (9, Some(b'8')) => self.comment(code, date).map(Entry::Comment),
            (7, _) => self.disease(code, date).map(Entry::Disease),
            (4, _) => self.modifier(code, date).map(Entry::Modifier),
            _ => None,
        };
        if guess.is_some() {
            return guess;
        }
        self.procedure(code, date)
            .map(Entry::Procedure)
            .or_else(|| self.drug(code, date).map(Entry::Drug))
            .or_else(|| self.material(code, date).map(Entry::Material))
            .or_else(|| self.comment(code, date).map(Entry::Comment))
            .or_else(|| self.disease(code, date).map(Entry::Disease))
            .or_else(|| self.modifier(code, date).map(Entry::Modifier))
    }

    /// Like [`Store::get`], but for one-off lookups (the CLI's `master show`): when the table is
    /// not decoded yet, binary-search the encoded records and decode only those probed.
    pub fn get_owned(&self, code: &str, date: Date) -> Option<OwnedEntry> {
        fn one<T: serde::de::DeserializeOwned + Record>(st: &Store, i: usize, code: &str, date: Date) -> Option<T> {
            let b = st.sections.get(i).and_then(|r| st.bytes.get(r.clone()))?;
            TableBytes::new(b)?.find(code, date)
        }
        if self.bytes.is_empty() {
            return self.get(code, date).map(OwnedEntry::from);
        }
        let try_kind = |k: Kind| -> Option<OwnedEntry> {
            Some(match k {
                Kind::Procedure => OwnedEntry::Procedure(one(self, 1, code, date)?),
                Kind::Drug => OwnedEntry::Drug(one(self, 2, code, date)?),
                Kind::Material => OwnedEntry::Material(one(self, 3, code, date)?),
                Kind::Comment => OwnedEntry::Comment(one(self, 4, code, date)?),
                Kind::Disease => OwnedEntry::Disease(one(self, 5, code, date)?),
                Kind::Modifier => OwnedEntry::Modifier(one(self, 6, code, date)?),
            })
        };
        let guess = match (code.len(), code.as_bytes().first()) {
            (9, Some(b'1')) => Some(Kind::Procedure),
            (9, Some(b'6')) => Some(Kind::Drug),
            (9, Some(b'7')) => Some(Kind::Material),
            (9, Some(b'8')) => Some(Kind::Comment),
            (7, _) => Some(Kind::Disease),
            (4, _) => Some(Kind::Modifier),
            _ => None,
        };
        guess.and_then(try_kind).or_else(|| Kind::ALL.into_iter().filter(|k| Some(*k) != guess).find_map(try_kind))
    }

    /// Every version of a code, in every master that has it, oldest first.
    pub fn history(&self, code: &str) -> Vec<Entry<'_>> {
        let mut out: Vec<Entry> = Vec::new();
        out.extend(versions(self.procedures(), code).iter().map(Entry::Procedure));
        out.extend(versions(self.drugs(), code).iter().map(Entry::Drug));
        out.extend(versions(self.materials(), code).iter().map(Entry::Material));
        out.extend(versions(self.comments(), code).iter().map(Entry::Comment));
        out.extend(versions(self.diseases(), code).iter().map(Entry::Disease));
        out.extend(versions(self.modifiers(), code).iter().map(Entry::Modifier));
        out
    }

    /// コメント関連テーブル rows for a code valid on `date`.
    pub fn comment_relations<'a>(&'a self, code: &'a str, date: Date) -> impl Iterator<Item = &'a CommentRelation> + 'a {
        let t = self.comment_relations_all();
        let lo = t.partition_point(|r| r.code.as_str() < code);
        t[lo..].iter().take_while(move |r| r.code == code).filter(move |r| r.valid_from <= date && date <= r.valid_to)
    }

    fn table_entry(&self, kind: Kind, i: usize) -> Option<Entry<'_>> {
        Some(match kind {
            Kind::Procedure => Entry::Procedure(self.procedures().get(i)?),
            Kind::Drug => Entry::Drug(self.drugs().get(i)?),
            Kind::Material => Entry::Material(self.materials().get(i)?),
            Kind::Comment => Entry::Comment(self.comments().get(i)?),
            Kind::Disease => Entry::Disease(self.diseases().get(i)?),
            Kind::Modifier => Entry::Modifier(self.modifiers().get(i)?),
        })
    }

    fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Procedure => self.procedures().len(),
            Kind::Drug => self.drugs().len(),
            Kind::Material => self.materials().len(),
            Kind::Comment => self.comments().len(),
            Kind::Disease => self.diseases().len(),
            Kind::Modifier => self.modifiers().len(),
        }
    }

    /// Name search (漢字 or カナ; full/half width, hiragana/katakana and case folded), optionally
    /// limited to one kind and to versions valid on `date`. Results in code order.
    pub fn search(&self, text: &str, kind: Option<Kind>, date: Option<Date>, limit: usize) -> Vec<Entry<'_>> {
        let keys = self.search.get_or_init(|| {
            let mut v = Vec::new();
            for k in Kind::ALL {
                for i in 0..self.len(k) {
                    if let Some(e) = self.table_entry(k, i) {
                        let c = e.common();
                        v.push((k, i as u32, crate::fold::fold(&format!("{}\u{1}{}", c.name, c.kana))));
                    }
                }
            }
            v
        });
        let needle = crate::fold::fold(text);
        let mut out = Vec::new();
        if needle.is_empty() {
            return out;
        }
        for (k, i, key) in keys {
            if kind.is_some_and(|want| want != *k) || !key.contains(&needle) {
                continue;
            }
            let Some(e) = self.table_entry(*k, *i as usize) else { continue };
            let c = e.common();
            if let Some(d) = date {
                if !(c.valid_from <= d && d <= c.valid_to) {
                    continue;
                }
            } else if out.last().is_some_and(|p: &Entry| p.common().code == c.code && p.kind() == e.kind()) {
                // Without a date, show each code once (its latest version).
                out.pop();
            }
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
        out
    }

    /// Counts per kind and the overall date range covered.
    pub fn stats(&self) -> Stats {
        let mut per_kind = Vec::new();
        let (mut from, mut to) = (None::<Date>, None::<Date>);
        for k in Kind::ALL {
            let n = self.len(k);
            let mut codes = 0usize;
            let mut last: Option<&str> = None;
            for i in 0..n {
                if let Some(e) = self.table_entry(k, i) {
                    let c = e.common();
                    if last != Some(c.code.as_str()) {
                        codes += 1;
                        last = Some(c.code.as_str());
                    }
                    if c.valid_from > crate::history::SINCE_EVER {
                        from = Some(from.map_or(c.valid_from, |f| f.min(c.valid_from)));
                    }
                    to = Some(to.map_or(c.valid_from, |t| t.max(c.valid_from)));
                }
            }
            per_kind.push(KindStats { kind: k, codes, versions: n });
        }
        Stats {
            kinds: per_kind,
            comment_relations: self.comment_relations_all().len(),
            tensuhyo: self.tensuhyo().counts().into_iter().map(|(k, n)| (k.name_ja().to_string(), n)).collect(),
            earliest_change: from,
            latest_change: to,
            complete_from: self
                .sources()
                .iter()
                .filter(|f| f.kind == Kind::Procedure.as_str() && !f.diff)
                .filter_map(|f| f.as_of)
                .min(),
            sources: self.sources().len(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct KindStats {
    pub kind: Kind,
    pub codes: usize,
    pub versions: usize,
}

#[derive(Debug, Serialize)]
pub struct Stats {
    pub kinds: Vec<KindStats>,
    pub comment_relations: usize,
    pub tensuhyo: Vec<(String, usize)>,
    /// Earliest and latest 変更年月日 among all versions: the store answers for dates from the
    /// earliest on (versions carry their own end dates).
    pub earliest_change: Option<Date>,
    pub latest_change: Option<Date>,
    /// From this date on every 診療行為 valid is in the store: the as-of date of the earliest
    /// complete 診療行為 master loaded. Before it, only codes whose version started earlier are known.
    pub complete_from: Option<Date>,
    pub sources: usize,
}

/// An owned master record (see [`Store::get_owned`]).
#[derive(Debug, Clone)]
pub enum OwnedEntry {
    Procedure(Procedure),
    Drug(Drug),
    Material(Material),
    Comment(Comment),
    Disease(Disease),
    Modifier(Modifier),
}

impl OwnedEntry {
    pub fn as_entry(&self) -> Entry<'_> {
        match self {
            OwnedEntry::Procedure(r) => Entry::Procedure(r),
            OwnedEntry::Drug(r) => Entry::Drug(r),
            OwnedEntry::Material(r) => Entry::Material(r),
            OwnedEntry::Comment(r) => Entry::Comment(r),
            OwnedEntry::Disease(r) => Entry::Disease(r),
            OwnedEntry::Modifier(r) => Entry::Modifier(r),
        }
    }
}

impl From<Entry<'_>> for OwnedEntry {
    fn from(e: Entry<'_>) -> Self {
        match e {
            Entry::Procedure(r) => OwnedEntry::Procedure(r.clone()),
            Entry::Drug(r) => OwnedEntry::Drug(r.clone()),
            Entry::Material(r) => OwnedEntry::Material(r.clone()),
            Entry::Comment(r) => OwnedEntry::Comment(r.clone()),
            Entry::Disease(r) => OwnedEntry::Disease(r.clone()),
            Entry::Modifier(r) => OwnedEntry::Modifier(r.clone()),
        }
    }
}
