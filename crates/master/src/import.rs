//! Import: files → validated rows → per-code history → typed, compiled [`Snapshot`].

use crate::compile::{self, compile};
use crate::history::{code_of, History, RowCtx};
use crate::input::{self, classify, FileKind, InputFile};
use crate::layout::{self, CK_COLUMNS};
use crate::model::*;
use crate::store::{Snapshot, SourceInfo, FORMAT};
use crate::tensuhyo::Tensuhyo;
use csv::StringRecord;
use santei_core::date::{parse_ymd, OPEN_END};
use santei_core::InputError;
use std::collections::HashMap;
use std::path::PathBuf;

/// Progress callback: (files done, files total, current file name).
pub type Progress<'a> = &'a dyn Fn(usize, usize, &str);

/// Parse a file's bytes into CSV rows, checking encoding and quoting. Errors name the line.
/// Each row with its 1-based line number. (Line numbers are computed from byte offsets: the csv
/// crate's own line counter does not count CRLF line ends the way editors do.)
pub fn rows(name: &str, bytes: &[u8]) -> Result<Vec<(u64, StringRecord)>, InputError> {
    let text = santei_core::sjis::decode(bytes, name)?;
    let newlines: Vec<usize> = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect();
    // A record "starts" at the \n of a CRLF pair, so a newline at the start byte counts.
    let line_at = |byte: u64| newlines.partition_point(|&nl| (nl as u64) <= byte) as u64 + 1;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut r = StringRecord::new();
    loop {
        let start = rdr.position().byte();
        match rdr.read_record(&mut r) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or_else(|| line_at(start));
                return Err(InputError::new("E_CSV", name, format!("CSVとして読めません: {e}"), format!("malformed CSV: {e}")).at_line(line));
            }
        }
        // A blank line (e.g. a trailing newline pair) is ignored.
        if r.len() == 1 && r.get(0).is_some_and(str::is_empty) {
            continue;
        }
        let at = r.position().map(|p| p.byte()).unwrap_or(start);
        out.push((line_at(at), r.clone()));
    }
    Ok(out)
}

fn change_of(r: &StringRecord, name: &str, line: u64) -> Result<u8, InputError> {
    match r.get(0).unwrap_or("") {
        "0" => Ok(0),
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        "5" => Ok(5),
        "9" => Ok(9),
        other => Err(InputError::new(
            "E_CHANGE_KIND",
            name,
            format!("変更区分「{other}」は未定義です(0,1,2,3,5,9)"),
            format!("unknown 変更区分 '{other}' (expected 0, 1, 2, 3, 5 or 9)"),
        )
        .at_line(line)
        .field("項番1 変更区分")),
    }
}

struct Parsed {
    file: InputFile,
    kind: FileKind,
    rows: Vec<(u64, StringRecord)>,
    sparse: bool,
}

/// What an import loaded.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub files: Vec<SourceInfo>,
    pub skipped: Vec<String>,
}

/// Build a snapshot from the given paths (files, directories, zips). Nothing is written.
pub fn build(paths: &[PathBuf], progress: Option<Progress>) -> Result<(Snapshot, Report), InputError> {
    let (files, skipped) = input::collect(paths)?;
    if files.is_empty() {
        return Err(InputError::new(
            "E_NO_FILES",
            paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
            "取り込むマスターファイルがありません",
            "no master files to import",
        ));
    }
    let (snap, mut report) = build_files(files, progress)?;
    report.skipped = skipped;
    Ok((snap, report))
}

/// Build a snapshot from files already in memory.
pub fn build_files(files: Vec<InputFile>, progress: Option<Progress>) -> Result<(Snapshot, Report), InputError> {
    let total = files.len();
    let mut parsed = Vec::with_capacity(total);
    for (i, file) in files.into_iter().enumerate() {
        if let Some(p) = progress {
            p(i, total * 2, &file.name);
        }
        let rs = match input::classify(&file.name, None) {
            Ok(FileKind::Tensuhyo(_)) => Vec::new(), // parsed by the tensuhyo reader
            _ => rows(&file.name, &file.bytes)?,
        };
        let kind = classify(&file.name, rs.first().map(|(_, r)| r))?;
        let sparse = match kind {
            FileKind::Master(k) => {
                let l = layout::of(k);
                rs.iter().any(|(_, r)| !l.always.iter().all(|&c| r.get(c).is_some_and(|v| !v.is_empty())))
            }
            _ => false,
        };
        parsed.push(Parsed { file, kind, rows: rs, sparse });
    }
    // Order: by the date in the file name, complete masters before 変更分 of the same date.
    parsed.sort_by(|a, b| {
        let key = |p: &Parsed| (input::date_in_name(&p.file.name), p.sparse);
        key(a).cmp(&key(b))
    });

    let names: Vec<String> = parsed.iter().map(|p| p.file.name.clone()).collect();
    let mut hist: HashMap<Kind, History> = HashMap::new();
    let mut ck: HashMap<(String, String, String, String, u8, santei_core::date::Date), CommentRelation> = HashMap::new();
    let mut tensuhyo = Tensuhyo::default();
    let mut infos = Vec::with_capacity(parsed.len());
    for (fi, p) in parsed.iter().enumerate() {
        if let Some(pr) = progress {
            pr(total + fi, total * 2, &p.file.name);
        }
        let name = p.file.name.as_str();
        let fidx = u16::try_from(fi).map_err(|_| InputError::new("E_TOO_MANY", name, "ファイルが多すぎます", "too many files"))?;
        let rows = match p.kind {
            FileKind::Master(k) => {
                let l = layout::of(k);
                let h = hist.entry(k).or_default();
                for (line, r) in &p.rows {
                    let line = *line;
                    if !l.columns.contains(&r.len()) {
                        return Err(columns_err(name, line, r.len(), l.columns));
                    }
                    let change = change_of(r, name, line)?;
                    if Kind::from_letter(r.get(1).unwrap_or("")) != Some(k) {
                        return Err(InputError::new(
                            "E_KIND",
                            name,
                            format!("マスター種別「{}」がファイルの種類({})と一致しません", r.get(1).unwrap_or(""), k.name_ja()),
                            format!("master type '{}' does not match this {} file", r.get(1).unwrap_or(""), k.as_str()),
                        )
                        .at_line(line)
                        .field("項番2 マスター種別"));
                    }
                    let ctx = RowCtx { file: name, line, source: Source { file: fidx, line: line as u32 } };
                    h.apply(l, change, r.clone(), &ctx)?;
                }
                p.rows.len()
            }
            FileKind::CommentRelation => {
                for (line, r) in &p.rows {
                    let line = *line;
                    if r.len() != CK_COLUMNS {
                        return Err(columns_err(name, line, r.len(), &[CK_COLUMNS]));
                    }
                    let change = change_of(r, name, line)?;
                    let rel = comment_relation(r, change, name, line, fidx)?;
                    let key = (rel.code.clone(), rel.comment_code.clone(), rel.item_no.clone(), rel.branch.clone(), rel.notice, rel.valid_from);
                    if change == 1 {
                        ck.remove(&key);
                    } else {
                        ck.insert(key, rel);
                    }
                }
                p.rows.len()
            }
            FileKind::Tensuhyo(t) => tensuhyo.load(t, &p.file.bytes, name)?,
        };
        infos.push(SourceInfo {
            name: name.to_string(),
            kind: match p.kind {
                FileKind::Master(k) => k.as_str().to_string(),
                FileKind::CommentRelation => "comment_relation".into(),
                FileKind::Tensuhyo(t) => format!("tensuhyo:{}", t.name_ja()),
            },
            rows: rows as u64,
            diff: p.sparse,
            as_of: input::date_in_name(name),
        });
    }
    tensuhyo.index();
    let mut ck: Vec<CommentRelation> = ck.into_values().collect();
    ck.sort_by(|a, b| (&a.code, a.valid_from, &a.comment_code, &a.item_no, &a.branch).cmp(&(&b.code, b.valid_from, &b.comment_code, &b.item_no, &b.branch)));

    let empty = History::default();
    let h = |k: Kind| hist.get(&k).unwrap_or(&empty);
    let snap = Snapshot {
        format: FORMAT,
        sources: infos.clone(),
        procedures: compile(Kind::Procedure, h(Kind::Procedure), &names, compile::procedure)?,
        drugs: compile(Kind::Drug, h(Kind::Drug), &names, compile::drug)?,
        materials: compile(Kind::Material, h(Kind::Material), &names, compile::material)?,
        comments: compile(Kind::Comment, h(Kind::Comment), &names, compile::comment)?,
        diseases: compile(Kind::Disease, h(Kind::Disease), &names, compile::disease)?,
        modifiers: compile(Kind::Modifier, h(Kind::Modifier), &names, compile::modifier)?,
        comment_relations: ck,
        tensuhyo,
    };
    if let Some(p) = progress {
        p(total * 2, total * 2, "");
    }
    Ok((snap, Report { files: infos, skipped: Vec::new() }))
}

fn columns_err(name: &str, line: u64, got: usize, want: &[usize]) -> InputError {
    let want_s = want.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("/");
    InputError::new(
        "E_COLUMNS",
        name,
        format!("列数が{got}です({want_s}列のはずです)。行が途中で切れているか、別のマスターです"),
        format!("row has {got} columns, expected {want_s} (truncated row or a different master)"),
    )
    .at_line(line)
    .field(format!("{got} columns"))
}

/// コメント関連テーブル row (仕様 ck_1_20240823 項番1–18).
fn comment_relation(r: &StringRecord, change: u8, name: &str, line: u64, fidx: u16) -> Result<CommentRelation, InputError> {
    let g = |i: usize| r.get(i).unwrap_or("").to_string();
    let date = |i: usize, default| -> Result<_, InputError> {
        let s = r.get(i).unwrap_or("").trim();
        if s.is_empty() {
            return Ok(default);
        }
        parse_ymd(s).ok_or_else(|| {
            InputError::new("E_DATE", name, format!("日付「{s}」が不正です(YYYYMMDD)"), format!("invalid date '{s}' (expected YYYYMMDD)"))
                .at_line(line)
                .field(format!("項番{}", i + 1))
        })
    };
    let num = |i: usize| -> Result<u16, InputError> {
        let s = r.get(i).unwrap_or("").trim();
        if s.is_empty() {
            return Ok(0);
        }
        s.parse().map_err(|_| {
            InputError::new("E_FIELD", name, format!("項番{}の値「{s}」が不正です", i + 1), format!("invalid value '{s}' in 項番{}", i + 1))
                .at_line(line)
                .field(format!("項番{}", i + 1))
        })
    };
    let ctx = RowCtx { file: name, line, source: Source { file: fidx, line: line as u32 } };
    code_of(&layout::CK_CODE, r, &ctx)?;
    Ok(CommentRelation {
        change,
        notice: num(1)? as u8,
        item_no: g(2),
        section: g(3),
        branch: g(4),
        code: g(5),
        name: g(7),
        comment_code: g(8),
        comment_text: g(10),
        valid_from: date(11, crate::history::SINCE_EVER)?,
        valid_to: date(12, OPEN_END)?,
        condition: g(13),
        inout: num(15)? as u8,
        count: num(16)?,
        source: Source { file: fidx, line: line as u32 },
    })
}
