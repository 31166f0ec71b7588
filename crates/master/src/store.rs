//! The compiled master store: one binary snapshot file in the data directory.
//!
//! Format: `SANTEI-MASTER\n` magic, a little-endian u32 format number, then the [`Snapshot`]
//! encoded with postcard. Every table is a Vec sorted by (code, valid_from), so "code X on date D"
//! is a binary search — no index to build at open. Import writes a temporary file in the same
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

pub const FORMAT: u32 = 1;
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
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub sources: Vec<String>,
    pub procedures: Vec<Procedure>,
    pub drugs: Vec<Drug>,
    pub materials: Vec<Material>,
    pub comments: Vec<Comment>,
    pub diseases: Vec<Disease>,
    pub modifiers: Vec<Modifier>,
    pub comment_relations: Vec<CommentRelation>,
    pub tensuhyo: Tensuhyo,
}

/// An opened store.
pub struct Store {
    pub snap: Snapshot,
    search: OnceLock<Vec<(Kind, u32, String)>>,
}

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
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT.to_le_bytes());
        postcard::to_extend(self, out)
    }

    pub fn decode(bytes: &[u8], path: &Path) -> Result<Snapshot, InputError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| {
            store_err(path, "santeiのマスターストアではありません".into(), "not a santei master store".into())
        })?;
        let (fmt, body) = rest.split_at_checked(4).ok_or_else(|| store_err(path, "ストアが壊れています".into(), "store is truncated".into()))?;
        let fmt = u32::from_le_bytes([fmt[0], fmt[1], fmt[2], fmt[3]]);
        if fmt != FORMAT {
            return Err(store_err(
                path,
                format!("ストアの形式({fmt})がこの版({FORMAT})と異なります。master import をやり直してください"),
                format!("store format {fmt} differs from this version's {FORMAT}; run `santei master import` again"),
            ));
        }
        postcard::from_bytes(body).map_err(|e| store_err(path, format!("ストアが壊れています: {e}"), format!("store is corrupt: {e}")))
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
        Ok(Store::from_snapshot(Snapshot::decode(&bytes, &path)?))
    }

    pub fn from_snapshot(snap: Snapshot) -> Store {
        Store { snap, search: OnceLock::new() }
    }

    pub fn procedure(&self, code: &str, date: Date) -> Option<&Procedure> {
        at_date(&self.snap.procedures, code, date)
    }
    pub fn drug(&self, code: &str, date: Date) -> Option<&Drug> {
        at_date(&self.snap.drugs, code, date)
    }
    pub fn material(&self, code: &str, date: Date) -> Option<&Material> {
        at_date(&self.snap.materials, code, date)
    }
    pub fn comment(&self, code: &str, date: Date) -> Option<&Comment> {
        at_date(&self.snap.comments, code, date)
    }
    pub fn disease(&self, code: &str, date: Date) -> Option<&Disease> {
        at_date(&self.snap.diseases, code, date)
    }
    pub fn modifier(&self, code: &str, date: Date) -> Option<&Modifier> {
        at_date(&self.snap.modifiers, code, date)
    }
    pub fn tensuhyo(&self) -> &Tensuhyo {
        &self.snap.tensuhyo
    }
    /// The file a record came from.
    pub fn source_name(&self, s: Source) -> &str {
        self.snap.sources.get(s.file as usize).map(String::as_str).unwrap_or("?")
    }

    /// The code on `date`, in whichever master has it.
    pub fn get(&self, code: &str, date: Date) -> Option<Entry<'_>> {
        self.procedure(code, date)
            .map(Entry::Procedure)
            .or_else(|| self.drug(code, date).map(Entry::Drug))
            .or_else(|| self.material(code, date).map(Entry::Material))
            .or_else(|| self.comment(code, date).map(Entry::Comment))
            .or_else(|| self.disease(code, date).map(Entry::Disease))
            .or_else(|| self.modifier(code, date).map(Entry::Modifier))
    }

    /// Every version of a code, in every master that has it, oldest first.
    pub fn history(&self, code: &str) -> Vec<Entry<'_>> {
        let s = &self.snap;
        let mut out: Vec<Entry> = Vec::new();
        out.extend(versions(&s.procedures, code).iter().map(Entry::Procedure));
        out.extend(versions(&s.drugs, code).iter().map(Entry::Drug));
        out.extend(versions(&s.materials, code).iter().map(Entry::Material));
        out.extend(versions(&s.comments, code).iter().map(Entry::Comment));
        out.extend(versions(&s.diseases, code).iter().map(Entry::Disease));
        out.extend(versions(&s.modifiers, code).iter().map(Entry::Modifier));
        out
    }

    /// コメント関連テーブル rows for a code valid on `date`.
    pub fn comment_relations<'a>(&'a self, code: &'a str, date: Date) -> impl Iterator<Item = &'a CommentRelation> + 'a {
        let t = &self.snap.comment_relations;
        let lo = t.partition_point(|r| r.code.as_str() < code);
        t[lo..].iter().take_while(move |r| r.code == code).filter(move |r| r.valid_from <= date && date <= r.valid_to)
    }

    fn table_entry(&self, kind: Kind, i: usize) -> Option<Entry<'_>> {
        let s = &self.snap;
        Some(match kind {
            Kind::Procedure => Entry::Procedure(s.procedures.get(i)?),
            Kind::Drug => Entry::Drug(s.drugs.get(i)?),
            Kind::Material => Entry::Material(s.materials.get(i)?),
            Kind::Comment => Entry::Comment(s.comments.get(i)?),
            Kind::Disease => Entry::Disease(s.diseases.get(i)?),
            Kind::Modifier => Entry::Modifier(s.modifiers.get(i)?),
        })
    }

    fn len(&self, kind: Kind) -> usize {
        let s = &self.snap;
        match kind {
            Kind::Procedure => s.procedures.len(),
            Kind::Drug => s.drugs.len(),
            Kind::Material => s.materials.len(),
            Kind::Comment => s.comments.len(),
            Kind::Disease => s.diseases.len(),
            Kind::Modifier => s.modifiers.len(),
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
            comment_relations: self.snap.comment_relations.len(),
            tensuhyo: self.snap.tensuhyo.counts().into_iter().map(|(k, n)| (k.name_ja().to_string(), n)).collect(),
            earliest_change: from,
            latest_change: to,
            sources: self.snap.sources.len(),
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
    pub sources: usize,
}
