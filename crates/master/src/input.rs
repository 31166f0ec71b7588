//! Finding and opening master files: plain files, directories (recursively) and the official
//! `.zip` archives as shipped. Each file is classified by content (項番2 マスター種別) or, for
//! the コメント関連テーブル and 電子点数表, by its official file name.

use crate::model::Kind;
use crate::tensuhyo::TableKind;
use santei_core::date::{parse_ymd, Date};
use santei_core::InputError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest member we will inflate from a zip (the biggest SSK master is ~8 MB).
const MAX_MEMBER_BYTES: u64 = 512 * 1024 * 1024;

/// One file's bytes and its display name (`dir/x.zip!/member.csv` for zip members).
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Master(Kind),
    CommentRelation,
    Tensuhyo(TableKind),
}

fn io_err(path: &str, e: std::io::Error) -> InputError {
    InputError::new("E_IO", path, format!("ファイルを読めません: {e}"), format!("cannot read file: {e}"))
}

fn is_zip(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

fn is_table_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".csv") || lower.ends_with(".txt")
}

/// Expand the command-line paths into files. Directories are walked in name order and files
/// that are not CSV/TXT/ZIP are skipped (returned in `skipped`); an explicitly named file is
/// always read.
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<InputFile>, Vec<String>), InputError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let meta = std::fs::metadata(p).map_err(|e| io_err(&shown, e))?;
        if meta.is_dir() {
            walk(p, &mut files, &mut skipped)?;
        } else {
            read_path(p, &mut files)?;
        }
    }
    Ok((files, skipped))
}

fn walk(dir: &Path, files: &mut Vec<InputFile>, skipped: &mut Vec<String>) -> Result<(), InputError> {
    let shown = dir.display().to_string();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(&shown, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, files, skipped)?;
        } else if is_zip(&p) || is_table_name(&p.to_string_lossy()) {
            read_path(&p, files)?;
        } else {
            skipped.push(p.display().to_string());
        }
    }
    Ok(())
}

fn read_path(p: &Path, files: &mut Vec<InputFile>) -> Result<(), InputError> {
    let shown = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|e| io_err(&shown, e))?;
    if is_zip(p) {
        read_zip(&shown, bytes, files)
    } else {
        files.push(InputFile { name: shown, bytes });
        Ok(())
    }
}

/// The official distribution is a zip holding the CSV (and sometimes a readme). Members must be
/// `.csv`/`.txt` files or directories; anything else is an error, so a wrong archive is not
/// half-imported.
fn read_zip(shown: &str, bytes: Vec<u8>, files: &mut Vec<InputFile>) -> Result<(), InputError> {
    let bad = |ja: String, en: String| InputError::new("E_ZIP", shown, ja, en);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("zipファイルとして読めません: {e}"), format!("not a readable zip archive: {e}")))?;
    for i in 0..zip.len() {
        let mut m = zip
            .by_index(i)
            .map_err(|e| bad(format!("zipの{}番目のメンバーを読めません: {e}", i + 1), format!("cannot read zip member #{}: {e}", i + 1)))?;
        if m.is_dir() {
            continue;
        }
        let name = m.name().to_string();
        if !is_table_name(&name) {
            return Err(bad(
                format!("zipに想定外のメンバー「{name}」があります(CSV/TXTのみ受け付けます)"),
                format!("unexpected zip member '{name}' (only CSV/TXT master files are accepted)"),
            )
            .field(name));
        }
        if m.size() > MAX_MEMBER_BYTES {
            return Err(bad(format!("メンバー「{name}」が大きすぎます"), format!("zip member '{name}' is too large")).field(name));
        }
        let mut buf = Vec::with_capacity(m.size() as usize);
        (&mut m)
            .take(MAX_MEMBER_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("メンバー「{name}」を展開できません: {e}"), format!("cannot inflate zip member '{name}': {e}")))?;
        files.push(InputFile { name: format!("{shown}!/{name}"), bytes: buf });
    }
    Ok(())
}

/// The last 8-digit `YYYYMMDD` run in a file name, e.g. `s_ALL20240531.csv` → 2024-05-31.
pub fn date_in_name(name: &str) -> Option<Date> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let b = base.as_bytes();
    let mut best = None;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 8 {
                best = parse_ymd(&base[start..i]).or(best);
            }
        } else {
            i += 1;
        }
    }
    best
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Classify a decoded file by name (tables) or by its first row (masters).
pub fn classify(name: &str, first_row: Option<&csv::StringRecord>) -> Result<FileKind, InputError> {
    let base = base_name(name);
    if let Some(t) = TableKind::from_file_name(base) {
        return Ok(FileKind::Tensuhyo(t));
    }
    if base.to_ascii_lowercase().starts_with("ck") {
        return Ok(FileKind::CommentRelation);
    }
    let letter = first_row.and_then(|r| r.get(1)).unwrap_or("");
    match Kind::from_letter(letter) {
        Some(k) => Ok(FileKind::Master(k)),
        None => Err(InputError::new(
            "E_KIND",
            name,
            format!("マスターの種類を判別できません(項番2 マスター種別「{letter}」)"),
            format!("cannot tell which master this is (項番2 master type '{letter}')"),
        )
        .at_line(1)
        .field("項番2 マスター種別")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates_from_names() {
        assert_eq!(date_in_name("../x/s_ALL20240531.csv"), parse_ymd("20240531"));
        assert_eq!(date_in_name("diffs/y_20240906.csv"), parse_ymd("20240906"));
        assert_eq!(date_in_name("ck_ALL_20250901.csv"), parse_ymd("20250901"));
        assert_eq!(date_in_name("s.csv"), None);
    }
}
