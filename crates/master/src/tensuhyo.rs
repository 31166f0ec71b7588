//! 電子点数表 (医科電子点数表) readers.
//!
//! The 医科電子点数表 is a set of CSV tables published alongside the 医科診療行為マスター. They are
//! linked by 診療行為コード and say which items include (包括), exclude (背反), may be added to
//! (入院基本料), or limit the count (算定回数) of other items.
//!
//! | file | [`TableKind`] | row type | what it says |
//! |---|---|---|---|
//! | `01補助マスターテーブル.csv` | `Hojo` | [`HojoRow`] | per 診療行為: 包括 groups, flags for which 背反 tables mention it, 入院基本料 group, whether it has 算定回数 rows |
//! | `02包括テーブル.csv` | `Houkatsu` | [`HoukatsuRow`] | (group, code): the code is included (被包括) in items carrying the group in 補助 |
//! | `03-1背反テーブル1.csv` | `HaihanDay` | [`HaihanRow`] | pairs that exclude each other on the same day (1日につき) |
//! | `03-2背反テーブル2.csv` | `HaihanMonth` | [`HaihanRow`] | … in the same month (同一月内) |
//! | `03-3背反テーブル3.csv` | `HaihanSame` | [`HaihanRow`] | … at the same time (同時) |
//! | `03-4背反テーブル4.csv` | `HaihanWeek` | [`HaihanRow`] | … within a week (1週間につき) |
//! | `04入院基本料テーブル.csv` | `NyuinKihon` | [`NyuinKihonRow`] | which 入院基本料加算 go with which 入院基本料 group |
//! | `05算定回数テーブル.csv` | `SanteiKaisu` | [`SanteiKaisuRow`] | maximum count per 算定単位 (日, 月, 患者当り …) |
//!
//! File names and the meaning of the four 背反 tables: 「医科電子点数表のファイル一覧表」
//! (`spec/text/tensuhyo_00_file_list_ika.txt`). Column layouts: 「医科電子点数表の活用手引き」R6,
//! 「5 各テーブルのレコード情報表記仕様」 pp.25–30 (`spec/text/tensuhyo_01_ika_denshi_tensuhyo_guide_R6.txt`);
//! every 項番 is mapped to a field below and each field cites its 項番. Field semantics as used by
//! a calculator: DOMAIN.md §6.3.
//!
//! Format: Shift_JIS (CP932), every field double-quoted, CRLF, no header. Decoding is strict
//! ([`santei_core::sjis::decode`]); the CSV is then read with the `csv` crate (flexible, so a wrong
//! column count is reported by us with file, line and counts rather than by the reader).
//!
//! Decisions:
//! * Every row is validated: column count (`E_COLUMNS`), 診療行為コード = 9 digits (`E_CODE`),
//!   numeric columns (`E_NUMBER`), dates `YYYYMMDD` with `99999999` = [`OPEN_END`](santei_core::date::OPEN_END) (`E_DATE`),
//!   新設年月日 ≤ 廃止年月日 (`E_DATE_RANGE`), 背反区分 ∈ {1,2,3} (`E_VALUE`). Errors name the
//!   1-based line and the column as `項番N 名称`. Nothing on input data panics.
//! * 予備 (reserved) columns are kept verbatim as text (`reserved`), not validated: the spec says
//!   "0" or omitted, and a future use of them should not make a table unreadable.
//! * Codes and group numbers are `String` (leading zeros matter: 入院基本料 group `"001"`).
//! * 変更区分 is kept as `change`. Lookups skip rows with 変更区分 1 (抹消: the record is
//!   deleted); 廃止 (9) rows are handled by their 廃止年月日 like any other row.
//! * A row is valid on `date` when `valid_from <= date <= valid_to` (廃止年月日 is the last usable
//!   day, 手引き p.25–30).
//! * [`Tensuhyo::index`] sorts each table by its lookup key and builds two position indexes (包括
//!   and 入院基本料 by 診療行為コード). Lookups are binary searches. The indexes are serialized with
//!   the struct, so a deserialized store is ready to use; after changing the public vectors, call
//!   `index()` again. Before `index()` lookups still answer correctly, by a linear scan.
//! * The 02 包括 and 03-1 背反(1日) tables are not in every distribution; [`Tensuhyo::load_dir`]
//!   loads whichever tables it finds and the lookups simply return nothing for absent tables.

use santei_core::date::{parse_ymd, Date};
use santei_core::InputError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The tables of the 医科電子点数表 (ファイル一覧表; 手引き p.6 「テーブルの構造」).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableKind {
    /// 01 医科診療行為マスター補助マスターテーブル.
    Hojo,
    /// 02 包括・被包括テーブル.
    Houkatsu,
    /// 03-1 背反テーブル1: 1日につき背反となるもの.
    HaihanDay,
    /// 03-2 背反テーブル2: 同一月内で背反となるもの.
    HaihanMonth,
    /// 03-3 背反テーブル3: 同時に背反となるもの.
    HaihanSame,
    /// 03-4 背反テーブル4: 1週間につき背反となるもの.
    HaihanWeek,
    /// 04 入院基本料テーブル.
    NyuinKihon,
    /// 05 算定回数テーブル.
    SanteiKaisu,
}

impl TableKind {
    /// All kinds, in file-number order.
    pub const ALL: [TableKind; 8] = [
        TableKind::Hojo,
        TableKind::Houkatsu,
        TableKind::HaihanDay,
        TableKind::HaihanMonth,
        TableKind::HaihanSame,
        TableKind::HaihanWeek,
        TableKind::NyuinKihon,
        TableKind::SanteiKaisu,
    ];

    /// Recognise a table file by name (a path is allowed; only the last component is used).
    /// Accepts the official names (`01補助マスターテーブル.csv`, `02包括テーブル.csv`,
    /// `03-1背反テーブル1.csv` …) and variants with a suffix such as `02包括テーブル_R06.csv`.
    /// The extension must be `.csv` (any case).
    pub fn from_file_name(name: &str) -> Option<TableKind> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let stem = match base.len().checked_sub(4).and_then(|i| base.get(i..).map(|ext| (i, ext))) {
            Some((i, ext)) if ext.eq_ignore_ascii_case(".csv") => base.get(..i)?,
            _ => return None,
        };
        // Normalise full-width digits/hyphen and spaces, which appear in some listings.
        let s: String = stem
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '－' | '‐' | '−' => '-',
                _ => c,
            })
            .collect();
        if s.contains("補助") {
            Some(TableKind::Hojo)
        } else if s.contains("背反") {
            let n = if let Some(rest) = s.strip_prefix("03-") {
                rest.chars().next()
            } else {
                s.split("背反テーブル").nth(1).and_then(|r| r.chars().next())
            };
            match n {
                Some('1') => Some(TableKind::HaihanDay),
                Some('2') => Some(TableKind::HaihanMonth),
                Some('3') => Some(TableKind::HaihanSame),
                Some('4') => Some(TableKind::HaihanWeek),
                _ => None,
            }
        } else if s.contains("包括") {
            Some(TableKind::Houkatsu)
        } else if s.contains("入院基本料") {
            Some(TableKind::NyuinKihon)
        } else if s.contains("算定回数") {
            Some(TableKind::SanteiKaisu)
        } else {
            None
        }
    }

    /// Japanese name of the table.
    pub fn name_ja(&self) -> &'static str {
        match self {
            TableKind::Hojo => "医科診療行為マスター補助マスターテーブル",
            TableKind::Houkatsu => "包括・被包括テーブル",
            TableKind::HaihanDay => "背反関連テーブル(1日につき)",
            TableKind::HaihanMonth => "背反関連テーブル(同一月内)",
            TableKind::HaihanSame => "背反関連テーブル(同時)",
            TableKind::HaihanWeek => "背反関連テーブル(1週間につき)",
            TableKind::NyuinKihon => "入院基本料テーブル",
            TableKind::SanteiKaisu => "算定回数テーブル",
        }
    }

    /// English name of the table (for messages).
    pub fn name_en(&self) -> &'static str {
        match self {
            TableKind::Hojo => "auxiliary master table",
            TableKind::Houkatsu => "inclusion table",
            TableKind::HaihanDay => "exclusion table (per day)",
            TableKind::HaihanMonth => "exclusion table (same month)",
            TableKind::HaihanSame => "exclusion table (same time)",
            TableKind::HaihanWeek => "exclusion table (per week)",
            TableKind::NyuinKihon => "inpatient basic fee table",
            TableKind::SanteiKaisu => "count limit table",
        }
    }

    /// True for the four 背反 tables.
    pub fn is_haihan(&self) -> bool {
        matches!(self, TableKind::HaihanDay | TableKind::HaihanMonth | TableKind::HaihanSame | TableKind::HaihanWeek)
    }

    /// Column names by 項番 (index 0 = 項番1), from 手引き pp.25–30.
    pub fn columns(&self) -> &'static [&'static str] {
        match self {
            TableKind::Hojo => &HOJO_COLS,
            TableKind::Houkatsu => &HOUKATSU_COLS,
            TableKind::HaihanDay | TableKind::HaihanMonth | TableKind::HaihanSame | TableKind::HaihanWeek => {
                &HAIHAN_COLS
            }
            TableKind::NyuinKihon => &NYUIN_COLS,
            TableKind::SanteiKaisu => &SANTEI_COLS,
        }
    }
}

/// 手引き p.25–26 (1) 医科診療行為マスター補助マスターテーブル, 27 columns.
const HOJO_COLS: [&str; 27] = [
    "変更区分",
    "診療行為コード",
    "診療行為省略名称",
    "包括単位1",
    "グループ番号1",
    "包括単位2",
    "グループ番号2",
    "包括単位3",
    "グループ番号3",
    "背反関連識別(1日につき)",
    "背反関連識別(同一月内)",
    "背反関連識別(同時)",
    "背反関連識別(1週間につき)",
    "予備",
    "予備",
    "予備",
    "予備",
    "予備",
    "予備",
    "入院基本料識別",
    "算定回数関連",
    "予備",
    "予備",
    "予備",
    "予備",
    "新設年月日",
    "廃止年月日",
];
/// 手引き p.27 (2) 包括・被包括テーブル, 7 columns.
const HOUKATSU_COLS: [&str; 7] =
    ["変更区分", "グループ番号", "診療行為コード", "診療行為省略名称", "特例条件", "新設年月日", "廃止年月日"];
/// 手引き p.28 (3) 背反関連テーブル, 10 columns.
const HAIHAN_COLS: [&str; 10] = [
    "変更区分",
    "診療行為コード1",
    "診療行為省略名称1",
    "診療行為コード2",
    "診療行為省略名称2",
    "背反区分",
    "特例条件",
    "予備",
    "新設年月日",
    "廃止年月日",
];
/// 手引き p.29 (4) 入院基本料テーブル, 8 columns.
const NYUIN_COLS: [&str; 8] =
    ["変更区分", "グループ番号", "診療行為コード", "診療行為省略名称", "加算識別", "予備", "新設年月日", "廃止年月日"];
/// 手引き p.30 (5) 算定回数テーブル, 14 columns.
const SANTEI_COLS: [&str; 14] = [
    "変更区分",
    "診療行為コード",
    "診療行為省略名称",
    "算定単位コード",
    "算定単位名称",
    "算定回数",
    "特例条件",
    "予備",
    "予備",
    "予備",
    "予備",
    "予備",
    "新設年月日",
    "廃止年月日",
];

/// 医科診療行為マスター補助マスターテーブル (手引き p.25–26, 5 (1); 27 columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HojoRow {
    /// 項番1 変更区分: 0 異動なし, 1 抹消, 3 新規, 5 変更, 9 廃止.
    pub change: u8,
    /// 項番2 診療行為コード (数字 9 固定).
    pub code: String,
    /// 項番3 診療行為省略名称 (漢字 64 可変).
    pub name: String,
    /// 項番4/6/8 包括単位1–3: 0 関連なし, 1 1日につき, 2 同一月内, 3 同時, 5 手術前1週間,
    /// 6 1手術につき (数字 2 可変; the file writes `2`, not `02`).
    pub houkatsu_unit: [u8; 3],
    /// 項番5/7/9 グループ番号1–3: 包括・被包括テーブルの参照先グループ (英数 7 可変; `0` = none).
    pub houkatsu_group: [String; 3],
    /// 項番10 背反関連識別 1日につき: 1 = 背反テーブル1 (1日) に関連あり.
    pub haihan_day: u8,
    /// 項番11 背反関連識別 同一月内: 1 = 背反テーブル2 に関連あり.
    pub haihan_month: u8,
    /// 項番12 背反関連識別 同時: 1 = 背反テーブル3 に関連あり.
    pub haihan_same: u8,
    /// 項番13 背反関連識別 1週間につき: 1 = 背反テーブル4 に関連あり.
    pub haihan_week: u8,
    /// 項番20 入院基本料識別 (数字 3 固定): 入院基本料テーブルの参照先グループ; `000` = none.
    pub nyuin_kihon_group: String,
    /// 項番21 算定回数関連: 1 = 算定回数テーブルに関連あり.
    pub santei_kaisu: u8,
    /// 項番14–19, 22–25 予備 (10 values, in that order), verbatim.
    pub reserved: Vec<String>,
    /// 項番26 新設年月日.
    pub valid_from: Date,
    /// 項番27 廃止年月日 (`99999999` → [`OPEN_END`](santei_core::date::OPEN_END)).
    pub valid_to: Date,
}

impl HojoRow {
    /// The (包括単位, グループ番号) pairs in use (包括単位 ≠ 0).
    pub fn houkatsu_refs(&self) -> impl Iterator<Item = (u8, &str)> {
        self.houkatsu_unit
            .iter()
            .zip(self.houkatsu_group.iter())
            .filter(|(u, _)| **u != 0)
            .map(|(u, g)| (*u, g.as_str()))
    }
    /// 背反関連識別 flag for one 背反 table kind (false for non-背反 kinds).
    pub fn has_haihan(&self, kind: TableKind) -> bool {
        match kind {
            TableKind::HaihanDay => self.haihan_day == 1,
            TableKind::HaihanMonth => self.haihan_month == 1,
            TableKind::HaihanSame => self.haihan_same == 1,
            TableKind::HaihanWeek => self.haihan_week == 1,
            _ => false,
        }
    }
}

/// 包括・被包括テーブル (手引き p.27, 5 (2); 7 columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoukatsuRow {
    /// 項番1 変更区分.
    pub change: u8,
    /// 項番2 グループ番号 (英数 7 可変), matched against 補助 グループ番号1–3.
    pub group: String,
    /// 項番3 診療行為コード: the 被包括 item.
    pub code: String,
    /// 項番4 診療行為省略名称.
    pub name: String,
    /// 項番5 特例条件: 0 条件なし, 1 条件あり.
    pub tokurei: u8,
    /// 項番6 新設年月日.
    pub valid_from: Date,
    /// 項番7 廃止年月日.
    pub valid_to: Date,
}

/// 背反関連テーブル, one of four (手引き p.28, 5 (3); 10 columns). The table files always hold
/// both directions of a pair (手引き p.20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaihanRow {
    /// Which 背反 table the row came from (1日 / 同一月内 / 同時 / 1週間).
    pub kind: TableKind,
    /// 項番1 変更区分.
    pub change: u8,
    /// 項番2 診療行為コード1 (①).
    pub code1: String,
    /// 項番3 診療行為省略名称1.
    pub name1: String,
    /// 項番4 診療行為コード2 (②).
    pub code2: String,
    /// 項番5 診療行為省略名称2.
    pub name2: String,
    /// 項番6 背反区分: 1 = ①を算定, 2 = ②を算定, 3 = 何れか一方 (電子点数表活用手引き R6 p.28).
    pub kubun: u8,
    /// 項番7 特例条件: 0 条件なし, 1 条件あり (p.28).
    pub tokurei: u8,
    /// 項番8 予備, verbatim.
    pub reserved: String,
    /// 項番9 新設年月日.
    pub valid_from: Date,
    /// 項番10 廃止年月日.
    pub valid_to: Date,
}

/// 入院基本料テーブル (手引き p.29, 5 (4); 8 columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NyuinKihonRow {
    /// 項番1 変更区分.
    pub change: u8,
    /// 項番2 グループ番号 (数字 3 固定), matched against 補助 入院基本料識別.
    pub group: String,
    /// 項番3 診療行為コード: the 入院基本料加算.
    pub code: String,
    /// 項番4 診療行為省略名称.
    pub name: String,
    /// 項番5 加算識別 (数字 2 可変): additions with the same value in a group may be combined.
    pub kasan_id: u8,
    /// 項番6 予備, verbatim.
    pub reserved: String,
    /// 項番7 新設年月日.
    pub valid_from: Date,
    /// 項番8 廃止年月日.
    pub valid_to: Date,
}

/// 算定回数テーブル (手引き p.30, 5 (5); 14 columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanteiKaisuRow {
    /// 項番1 変更区分.
    pub change: u8,
    /// 項番2 診療行為コード.
    pub code: String,
    /// 項番3 診療行為省略名称.
    pub name: String,
    /// 項番4 算定単位コード (数字 3 可変; 付表1, p.32: 53 患者当り, 121 日, 131 月, 138 週,
    /// 159 初診時 …).
    pub unit_code: u16,
    /// 項番5 算定単位名称.
    pub unit_name: String,
    /// 項番6 算定回数: 算定単位ごとの上限回数 (数字 3 可変).
    pub max_count: u32,
    /// 項番7 特例条件: 0 条件なし, 1 条件あり.
    pub tokurei: u8,
    /// 項番8–12 予備 (5 values), verbatim.
    pub reserved: Vec<String>,
    /// 項番13 新設年月日.
    pub valid_from: Date,
    /// 項番14 廃止年月日.
    pub valid_to: Date,
}

/// All 電子点数表 tables, with lookup indexes.
#[derive(Default, Debug, Clone, Serialize, Deserialize)]
pub struct Tensuhyo {
    pub hojo: Vec<HojoRow>,
    pub houkatsu: Vec<HoukatsuRow>,
    pub haihan: Vec<HaihanRow>,
    pub nyuin_kihon: Vec<NyuinKihonRow>,
    pub santei_kaisu: Vec<SanteiKaisuRow>,
    /// True after [`Tensuhyo::index`], reset by [`Tensuhyo::load`].
    #[serde(default)]
    indexed: bool,
    /// Positions in `houkatsu`, ordered by (診療行為コード, group).
    #[serde(default)]
    houkatsu_by_code: Vec<u32>,
    /// Positions in `nyuin_kihon`, ordered by (診療行為コード, group).
    #[serde(default)]
    nyuin_by_code: Vec<u32>,
}

// ---------------------------------------------------------------------------------------------
// Parsing

const LINE_EXCERPT: usize = 40;

fn excerpt(s: &str) -> String {
    if s.chars().count() > LINE_EXCERPT {
        let mut t: String = s.chars().take(LINE_EXCERPT).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// Byte offset → 1-based line. The `csv` crate's own line numbers drift on CRLF files, so
/// lines are counted here from the record's byte offset (skipping the blank lines the reader
/// passes over before a record). Offsets must be non-decreasing, as records are.
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.byte {
            let seen = self.text.get(self.byte..start).unwrap_or(&[]);
            self.line += seen.iter().filter(|&&b| b == b'\n').count() as u64;
            self.byte = start;
        }
        self.line
    }
}

/// One CSV record being turned into a row; knows where it came from for errors.
struct Rec<'a> {
    rec: &'a csv::StringRecord,
    kind: TableKind,
    file: &'a str,
    line: u64,
}

impl<'a> Rec<'a> {
    fn col_name(&self, i: usize) -> String {
        let name = self.kind.columns().get(i).copied().unwrap_or("?");
        format!("項番{} {}", i + 1, name)
    }
    fn err(&self, code: &'static str, i: usize, ja: String, en: String) -> InputError {
        InputError::new(code, self.file, ja, en).at_line(self.line).field(self.col_name(i))
    }
    fn raw(&self, i: usize) -> &'a str {
        self.rec.get(i).unwrap_or("")
    }
    fn text(&self, i: usize) -> String {
        self.raw(i).to_string()
    }
    /// An unsigned integer column (ASCII digits only, non-empty).
    fn num<T: std::str::FromStr>(&self, i: usize) -> Result<T, InputError> {
        let v = self.raw(i);
        let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        match ok.then(|| v.parse::<T>().ok()).flatten() {
            Some(n) => Ok(n),
            None => Err(self.err(
                "E_NUMBER",
                i,
                format!("{}が数字ではないか範囲外です: \"{}\"", self.col_name(i), excerpt(v)),
                format!("{} is not a number or out of range: \"{}\"", self.col_name(i), excerpt(v)),
            )),
        }
    }
    /// A column of digits kept as text (leading zeros matter).
    fn digits(&self, i: usize) -> Result<String, InputError> {
        let v = self.raw(i);
        if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(v.to_string())
        } else {
            Err(self.err(
                "E_NUMBER",
                i,
                format!("{}が数字ではありません: \"{}\"", self.col_name(i), excerpt(v)),
                format!("{} is not numeric: \"{}\"", self.col_name(i), excerpt(v)),
            ))
        }
    }
    /// 診療行為コード: 9 digits.
    fn code(&self, i: usize) -> Result<String, InputError> {
        let v = self.raw(i);
        if v.len() == 9 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(v.to_string())
        } else {
            Err(self.err(
                "E_CODE",
                i,
                format!("{}は9桁の数字です: \"{}\"", self.col_name(i), excerpt(v)),
                format!("{} must be 9 digits: \"{}\"", self.col_name(i), excerpt(v)),
            ))
        }
    }
    fn date(&self, i: usize) -> Result<Date, InputError> {
        let v = self.raw(i);
        parse_ymd(v).ok_or_else(|| {
            self.err(
                "E_DATE",
                i,
                format!("{}が日付(YYYYMMDD)ではありません: \"{}\"", self.col_name(i), excerpt(v)),
                format!("{} is not a date (YYYYMMDD): \"{}\"", self.col_name(i), excerpt(v)),
            )
        })
    }
    /// (新設年月日, 廃止年月日) at columns `i`, `i + 1`, checked in order.
    fn period(&self, i: usize) -> Result<(Date, Date), InputError> {
        let from = self.date(i)?;
        let to = self.date(i + 1)?;
        if from > to {
            return Err(self.err(
                "E_DATE_RANGE",
                i,
                format!("新設年月日 {from} が廃止年月日 {to} より後です"),
                format!("start date {from} is after end date {to}"),
            ));
        }
        Ok((from, to))
    }
}

fn parse_hojo(r: &Rec) -> Result<HojoRow, InputError> {
    let (valid_from, valid_to) = r.period(25)?;
    Ok(HojoRow {
        change: r.num(0)?,
        code: r.code(1)?,
        name: r.text(2),
        houkatsu_unit: [r.num(3)?, r.num(5)?, r.num(7)?],
        houkatsu_group: [r.text(4), r.text(6), r.text(8)],
        haihan_day: r.num(9)?,
        haihan_month: r.num(10)?,
        haihan_same: r.num(11)?,
        haihan_week: r.num(12)?,
        nyuin_kihon_group: r.digits(19)?,
        santei_kaisu: r.num(20)?,
        reserved: [13, 14, 15, 16, 17, 18, 21, 22, 23, 24].iter().map(|&i| r.text(i)).collect(),
        valid_from,
        valid_to,
    })
    .and_then(|row| check_group(r, &row.houkatsu_group, &[4, 6, 8]).map(|_| row))
}

/// グループ番号 (英数 7 可変): ASCII alphanumeric, 1–7 characters.
fn check_group(r: &Rec, groups: &[String], cols: &[usize]) -> Result<(), InputError> {
    for (g, &i) in groups.iter().zip(cols) {
        if g.is_empty() || g.len() > 7 || !g.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(r.err(
                "E_VALUE",
                i,
                format!("{}は英数7桁以内です: \"{}\"", r.col_name(i), excerpt(g)),
                format!("{} must be 1–7 ASCII letters/digits: \"{}\"", r.col_name(i), excerpt(g)),
            ));
        }
    }
    Ok(())
}

fn parse_houkatsu(r: &Rec) -> Result<HoukatsuRow, InputError> {
    let group = r.text(1);
    check_group(r, std::slice::from_ref(&group), &[1])?;
    let (valid_from, valid_to) = r.period(5)?;
    Ok(HoukatsuRow {
        change: r.num(0)?,
        group,
        code: r.code(2)?,
        name: r.text(3),
        tokurei: r.num(4)?,
        valid_from,
        valid_to,
    })
}

fn parse_haihan(r: &Rec) -> Result<HaihanRow, InputError> {
    let kubun: u8 = r.num(5)?;
    if !(1..=3).contains(&kubun) {
        return Err(r.err(
            "E_VALUE",
            5,
            format!("背反区分は1・2・3のいずれかです: \"{kubun}\""),
            format!("背反区分 (exclusion kind) must be 1, 2 or 3: \"{kubun}\""),
        ));
    }
    let (valid_from, valid_to) = r.period(8)?;
    Ok(HaihanRow {
        kind: r.kind,
        change: r.num(0)?,
        code1: r.code(1)?,
        name1: r.text(2),
        code2: r.code(3)?,
        name2: r.text(4),
        kubun,
        tokurei: r.num(6)?,
        reserved: r.text(7),
        valid_from,
        valid_to,
    })
}

fn parse_nyuin(r: &Rec) -> Result<NyuinKihonRow, InputError> {
    let (valid_from, valid_to) = r.period(6)?;
    Ok(NyuinKihonRow {
        change: r.num(0)?,
        group: r.digits(1)?,
        code: r.code(2)?,
        name: r.text(3),
        kasan_id: r.num(4)?,
        reserved: r.text(5),
        valid_from,
        valid_to,
    })
}

fn parse_santei(r: &Rec) -> Result<SanteiKaisuRow, InputError> {
    let (valid_from, valid_to) = r.period(12)?;
    Ok(SanteiKaisuRow {
        change: r.num(0)?,
        code: r.code(1)?,
        name: r.text(2),
        unit_code: r.num(3)?,
        unit_name: r.text(4),
        max_count: r.num(5)?,
        tokurei: r.num(6)?,
        reserved: (7..12).map(|i| r.text(i)).collect(),
        valid_from,
        valid_to,
    })
}

// ---------------------------------------------------------------------------------------------
// Lookups

/// Row usable on `date`: not 抹消 and within [新設年月日, 廃止年月日].
fn live(change: u8, from: Date, to: Date, date: Date) -> bool {
    change != 1 && from <= date && date <= to
}

/// The run of `v` whose key equals `k` (whole slice when not sorted).
fn run<'a, T>(v: &'a [T], sorted: bool, k: &str, key: impl Fn(&T) -> &str) -> &'a [T] {
    if !sorted {
        return v;
    }
    let lo = v.partition_point(|r| key(r) < k);
    let rest = v.get(lo..).unwrap_or(&[]);
    let n = rest.partition_point(|r| key(r) == k);
    rest.get(..n).unwrap_or(&[])
}

/// The rows of `v` whose key equals `k`, via a position index sorted by that key. Positions
/// that do not exist (a tampered deserialized index) are skipped.
fn run_pos<'a, T>(
    v: &'a [T],
    pos: &'a [u32],
    sorted: bool,
    k: &'a str,
    key: impl Fn(&T) -> &str + Copy + 'a,
) -> impl Iterator<Item = &'a T> + 'a {
    let slice: Either<std::slice::Iter<'a, T>, _> = if sorted {
        let at = move |p: &u32| v.get(*p as usize).map(key).unwrap_or("");
        let lo = pos.partition_point(|p| at(p) < k);
        let rest = pos.get(lo..).unwrap_or(&[]);
        let n = rest.partition_point(|p| at(p) == k);
        Either::B(rest.get(..n).unwrap_or(&[]).iter().filter_map(move |p| v.get(*p as usize)))
    } else {
        Either::A(v.iter())
    };
    slice.filter(move |r| key(r) == k)
}

enum Either<A, B> {
    A(A),
    B(B),
}
impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::A(a) => a.next(),
            Either::B(b) => b.next(),
        }
    }
}

impl Tensuhyo {
    /// Parse one table file's bytes (Shift_JIS) and append its rows. `file` is used in errors.
    /// On error nothing is appended.
    pub fn load(&mut self, kind: TableKind, bytes: &[u8], file: &str) -> Result<usize, InputError> {
        let text = santei_core::sjis::decode(bytes, file).map_err(|e| {
            if e.field.is_none() {
                e.field("文字コード")
            } else {
                e
            }
        })?;
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let expected = kind.columns().len();
        let mut rec = csv::StringRecord::new();
        let mut lines = LineCounter { text: text.as_bytes(), byte: 0, line: 1 };
        let mut hojo = Vec::new();
        let mut houkatsu = Vec::new();
        let mut haihan = Vec::new();
        let mut nyuin = Vec::new();
        let mut santei = Vec::new();
        let mut n = 0usize;
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let mut err = InputError::new(
                        "E_CSV",
                        file,
                        format!("CSVとして読めません: {e}"),
                        format!("malformed CSV: {e}"),
                    );
                    if let Some(p) = e.position() {
                        err = err.at_line(lines.at(p.byte()));
                    }
                    return Err(err);
                }
            }
            let line = lines.at(rec.position().map(|p| p.byte()).unwrap_or(0));
            if rec.len() != expected {
                return Err(InputError::new(
                    "E_COLUMNS",
                    file,
                    format!("列数が{}です({}は{}列)", rec.len(), kind.name_ja(), expected),
                    format!("{} columns; the {} has {}", rec.len(), kind.name_en(), expected),
                )
                .at_line(line)
                .field(format!("列数 {} (期待値 {})", rec.len(), expected)));
            }
            let r = Rec { rec: &rec, kind, file, line };
            match kind {
                TableKind::Hojo => hojo.push(parse_hojo(&r)?),
                TableKind::Houkatsu => houkatsu.push(parse_houkatsu(&r)?),
                TableKind::HaihanDay | TableKind::HaihanMonth | TableKind::HaihanSame | TableKind::HaihanWeek => {
                    haihan.push(parse_haihan(&r)?)
                }
                TableKind::NyuinKihon => nyuin.push(parse_nyuin(&r)?),
                TableKind::SanteiKaisu => santei.push(parse_santei(&r)?),
            }
            n += 1;
        }
        self.hojo.append(&mut hojo);
        self.houkatsu.append(&mut houkatsu);
        self.haihan.append(&mut haihan);
        self.nyuin_kihon.append(&mut nyuin);
        self.santei_kaisu.append(&mut santei);
        self.indexed = false;
        Ok(n)
    }

    /// Load every recognised table file (see [`TableKind::from_file_name`]) in `dir`, then
    /// [`index`](Self::index). Absent tables (e.g. 02 包括, 03-1 背反(1日)) are fine; returns
    /// the tables with the files they came from. Files are read in name order.
    pub fn load_dir(dir: &Path) -> Result<(Tensuhyo, Vec<(TableKind, String, usize)>), InputError> {
        let dir_s = dir.display().to_string();
        let io_err = |e: std::io::Error, f: &str| {
            InputError::new("E_IO", f, format!("読み込めません: {e}"), format!("cannot read: {e}"))
        };
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io_err(e, &dir_s))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| TableKind::from_file_name(&n).map(|k| (k, n)))
            .collect();
        names.sort_by(|a, b| a.1.cmp(&b.1));
        let mut t = Tensuhyo::default();
        let mut loaded = Vec::new();
        for (kind, name) in names {
            let path = dir.join(&name);
            let shown = path.display().to_string();
            let bytes = std::fs::read(&path).map_err(|e| io_err(e, &shown))?;
            let n = t.load(kind, &bytes, &shown)?;
            loaded.push((kind, name, n));
        }
        t.index();
        Ok((t, loaded))
    }

    /// Sort rows by their lookup keys and build the position indexes. Call once after loading
    /// (and after any change to the public vectors).
    pub fn index(&mut self) {
        self.hojo.sort_by(|a, b| (&a.code, a.valid_from).cmp(&(&b.code, b.valid_from)));
        self.houkatsu.sort_by(|a, b| (&a.group, &a.code, a.valid_from).cmp(&(&b.group, &b.code, b.valid_from)));
        self.haihan.sort_by(|a, b| {
            (&a.code1, a.kind, &a.code2, a.valid_from).cmp(&(&b.code1, b.kind, &b.code2, b.valid_from))
        });
        self.nyuin_kihon.sort_by(|a, b| {
            (&a.group, a.kasan_id, &a.code, a.valid_from).cmp(&(&b.group, b.kasan_id, &b.code, b.valid_from))
        });
        self.santei_kaisu
            .sort_by(|a, b| (&a.code, a.unit_code, a.valid_from).cmp(&(&b.code, b.unit_code, b.valid_from)));
        let mut hp: Vec<u32> = (0..self.houkatsu.len() as u32).collect();
        hp.sort_by(|&a, &b| {
            let (x, y) = (&self.houkatsu[a as usize], &self.houkatsu[b as usize]);
            (&x.code, &x.group).cmp(&(&y.code, &y.group))
        });
        let mut np: Vec<u32> = (0..self.nyuin_kihon.len() as u32).collect();
        np.sort_by(|&a, &b| {
            let (x, y) = (&self.nyuin_kihon[a as usize], &self.nyuin_kihon[b as usize]);
            (&x.code, &x.group).cmp(&(&y.code, &y.group))
        });
        self.houkatsu_by_code = hp;
        self.nyuin_by_code = np;
        self.indexed = true;
    }

    /// The 補助 row of `code` valid on `date` (the latest 新設年月日 if several are).
    pub fn hojo(&self, code: &str, date: Date) -> Option<&HojoRow> {
        run(&self.hojo, self.indexed, code, |r| &r.code)
            .iter()
            .filter(|r| r.code == code && live(r.change, r.valid_from, r.valid_to, date))
            .max_by_key(|r| r.valid_from)
    }

    /// 背反 rows with 診療行為コード1 = `code` valid on `date`, from all four tables
    /// (ordered by table kind, then code2).
    pub fn haihan(&self, code: &str, date: Date) -> impl Iterator<Item = &HaihanRow> {
        // Only an unsorted table (before `index()`) needs the key compared again; avoid
        // allocating a copy of it otherwise.
        let want = (!self.indexed).then(|| code.to_string());
        run(&self.haihan, self.indexed, code, |r| &r.code1).iter().filter(move |r| {
            want.as_deref().map_or(true, |k| r.code1 == k) && live(r.change, r.valid_from, r.valid_to, date)
        })
    }

    /// 背反 rows of one table for `code` on `date`.
    pub fn haihan_kind(&self, code: &str, kind: TableKind, date: Date) -> impl Iterator<Item = &HaihanRow> {
        self.haihan(code, date).filter(move |r| r.kind == kind)
    }

    /// 背反 rows between `code1` (①) and `code2` (②) on `date`, any table.
    pub fn haihan_pair<'a>(&'a self, code1: &str, code2: &'a str, date: Date) -> impl Iterator<Item = &'a HaihanRow> {
        self.haihan(code1, date).filter(move |r| r.code2 == code2)
    }

    /// 算定回数 rows for `code` valid on `date` (ordered by 算定単位コード).
    pub fn santei_kaisu(&self, code: &str, date: Date) -> impl Iterator<Item = &SanteiKaisuRow> {
        // Only an unsorted table (before `index()`) needs the key compared again; avoid
        // allocating a copy of it otherwise.
        let want = (!self.indexed).then(|| code.to_string());
        run(&self.santei_kaisu, self.indexed, code, |r| &r.code).iter().filter(move |r| {
            want.as_deref().map_or(true, |k| r.code == k) && live(r.change, r.valid_from, r.valid_to, date)
        })
    }

    /// 包括 rows of グループ番号 `group` valid on `date`: the items included in an item whose
    /// 補助 row carries `group`.
    pub fn houkatsu_group(&self, group: &str, date: Date) -> impl Iterator<Item = &HoukatsuRow> {
        // Only an unsorted table (before `index()`) needs the key compared again; avoid
        // allocating a copy of it otherwise.
        let want = (!self.indexed).then(|| group.to_string());
        run(&self.houkatsu, self.indexed, group, |r| &r.group).iter().filter(move |r| {
            want.as_deref().map_or(true, |k| r.group == k) && live(r.change, r.valid_from, r.valid_to, date)
        })
    }

    /// 包括 rows listing `code` (the groups that include it) valid on `date`.
    pub fn houkatsu_of_code<'a>(&'a self, code: &'a str, date: Date) -> impl Iterator<Item = &'a HoukatsuRow> + 'a {
        run_pos(&self.houkatsu, &self.houkatsu_by_code, self.indexed, code, |r: &HoukatsuRow| r.code.as_str())
            .filter(move |r| live(r.change, r.valid_from, r.valid_to, date))
    }

    /// 入院基本料 rows of グループ番号 `group` (補助 入院基本料識別) valid on `date`.
    pub fn nyuin_kihon_group(&self, group: &str, date: Date) -> impl Iterator<Item = &NyuinKihonRow> {
        // Only an unsorted table (before `index()`) needs the key compared again; avoid
        // allocating a copy of it otherwise.
        let want = (!self.indexed).then(|| group.to_string());
        run(&self.nyuin_kihon, self.indexed, group, |r| &r.group).iter().filter(move |r| {
            want.as_deref().map_or(true, |k| r.group == k) && live(r.change, r.valid_from, r.valid_to, date)
        })
    }

    /// 入院基本料 rows for the 加算 `code` (the groups it may be added to) valid on `date`.
    pub fn nyuin_kihon_of_code<'a>(
        &'a self,
        code: &'a str,
        date: Date,
    ) -> impl Iterator<Item = &'a NyuinKihonRow> + 'a {
        run_pos(&self.nyuin_kihon, &self.nyuin_by_code, self.indexed, code, |r: &NyuinKihonRow| r.code.as_str())
            .filter(move |r| live(r.change, r.valid_from, r.valid_to, date))
    }

    /// Row count per table kind, for all eight kinds (0 for absent tables).
    pub fn counts(&self) -> Vec<(TableKind, usize)> {
        TableKind::ALL
            .iter()
            .map(|&k| {
                let n = match k {
                    TableKind::Hojo => self.hojo.len(),
                    TableKind::Houkatsu => self.houkatsu.len(),
                    TableKind::NyuinKihon => self.nyuin_kihon.len(),
                    TableKind::SanteiKaisu => self.santei_kaisu.len(),
                    _ => self.haihan.iter().filter(|r| r.kind == k).count(),
                };
                (k, n)
            })
            .collect()
    }

    /// True once [`index`](Self::index) has run since the last load.
    pub fn is_indexed(&self) -> bool {
        self.indexed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        parse_ymd(s).unwrap()
    }

    /// Quote fields, join with commas, CRLF lines, encode CP932.
    fn csv(rows: &[&[&str]]) -> Vec<u8> {
        let mut t = String::new();
        for r in rows {
            let q: Vec<String> = r.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
            t.push_str(&q.join(","));
            t.push_str("\r\n");
        }
        santei_core::sjis::encode(&t).unwrap()
    }

    const HOJO: [&str; 27] = [
        "0",
        "111000110",
        "初診料",
        "2",
        "A000001",
        "0",
        "0",
        "0",
        "0",
        "1",
        "1",
        "1",
        "1",
        "0",
        "0",
        "0",
        "",
        "0",
        "0",
        "000",
        "1",
        "0",
        "0",
        "0",
        "0",
        "20100401",
        "99999999",
    ];
    const HOUKATSU: [&str; 7] = ["0", "D324001", "160067410", "心拍出量測定", "0", "20100401", "99999999"];
    const HAIHAN: [&str; 10] = [
        "0",
        "150267310",
        "体外ペースメーキング術",
        "150140110",
        "ペースメーカー移植術（心筋電極）",
        "2",
        "0",
        "0",
        "20100401",
        "99999999",
    ];
    const NYUIN: [&str; 8] =
        ["0", "001", "190076570", "超重症児（者）入院診療加算（６歳以上）", "15", "0", "20100401", "99999999"];
    const SANTEI: [&str; 14] = [
        "0",
        "180046410",
        "リンパ浮腫複合的治療料（重症）",
        "131",
        "月",
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "20160401",
        "99999999",
    ];

    fn base(kind: TableKind) -> Vec<&'static str> {
        match kind {
            TableKind::Hojo => HOJO.to_vec(),
            TableKind::Houkatsu => HOUKATSU.to_vec(),
            TableKind::NyuinKihon => NYUIN.to_vec(),
            TableKind::SanteiKaisu => SANTEI.to_vec(),
            _ => HAIHAN.to_vec(),
        }
    }

    #[test]
    fn file_names() {
        use TableKind::*;
        let cases = [
            ("01補助マスターテーブル.csv", Some(Hojo)),
            ("02包括テーブル.csv", Some(Houkatsu)),
            ("02包括テーブル_R06.CSV", Some(Houkatsu)),
            ("03-1背反テーブル1.csv", Some(HaihanDay)),
            ("/x/y/03-2背反テーブル2.csv", Some(HaihanMonth)),
            ("03-3背反テーブル3.csv", Some(HaihanSame)),
            ("03-4背反テーブル4.csv", Some(HaihanWeek)),
            ("０３－４背反テーブル４.csv", Some(HaihanWeek)),
            ("04 入院基本料テーブル.csv", Some(NyuinKihon)),
            ("05算定回数テーブル.csv", Some(SanteiKaisu)),
            ("05算定回数テーブル.txt", None),
            ("03-9背反テーブル9.csv", None),
            ("s_ALL20240601.csv", None),
            (".csv", None),
            ("", None),
        ];
        for (n, k) in cases {
            assert_eq!(TableKind::from_file_name(n), k, "{n}");
        }
        assert_eq!(TableKind::HaihanMonth.name_ja(), "背反関連テーブル(同一月内)");
        for k in TableKind::ALL {
            assert!(!k.name_ja().is_empty());
        }
    }

    #[test]
    fn every_kind_parses_its_row() {
        let mut t = Tensuhyo::default();
        for k in TableKind::ALL {
            assert_eq!(t.load(k, &csv(&[&base(k)]), "t.csv").unwrap(), 1, "{k:?}");
        }
        t.index();
        let counts = t.counts();
        assert_eq!(counts.len(), 8);
        assert!(counts.iter().all(|&(_, n)| n == 1), "{counts:?}");

        let on = d("20240601");
        let h = t.hojo("111000110", on).unwrap();
        assert_eq!(h.houkatsu_unit, [2, 0, 0]);
        assert_eq!(h.houkatsu_refs().collect::<Vec<_>>(), vec![(2, "A000001")]);
        assert!(h.has_haihan(TableKind::HaihanWeek));
        assert_eq!(h.nyuin_kihon_group, "000");
        assert_eq!(h.reserved.len(), 10);
        assert_eq!(h.valid_to, santei_core::date::OPEN_END);
        assert!(t.hojo("111000110", d("20100331")).is_none());

        let hs: Vec<_> = t.haihan("150267310", on).collect();
        assert_eq!(hs.len(), 4); // one per 背反 kind
        assert!(hs.iter().all(|r| r.kubun == 2 && r.code2 == "150140110"));
        assert_eq!(t.haihan_kind("150267310", TableKind::HaihanSame, on).count(), 1);
        assert_eq!(t.haihan_pair("150267310", "150140110", on).count(), 4);

        let s: Vec<_> = t.santei_kaisu("180046410", on).collect();
        assert_eq!((s[0].unit_code, s[0].unit_name.as_str(), s[0].max_count, s[0].tokurei), (131, "月", 1, 1));
        assert_eq!(t.houkatsu_group("D324001", on).next().unwrap().code, "160067410");
        assert_eq!(t.houkatsu_of_code("160067410", on).next().unwrap().group, "D324001");
        assert_eq!(t.nyuin_kihon_group("001", on).next().unwrap().kasan_id, 15);
        assert_eq!(t.nyuin_kihon_of_code("190076570", on).next().unwrap().group, "001");
        assert_eq!(t.nyuin_kihon_of_code("190076571", on).count(), 0);
    }

    #[test]
    fn dates_and_change_kinds() {
        let mut ended = HAIHAN;
        ended[9] = "20240531";
        let mut later = HAIHAN;
        later[3] = "150140210";
        later[8] = "20240601";
        let mut deleted = HAIHAN;
        deleted[0] = "1"; // 抹消
        deleted[3] = "150395350";
        let mut t = Tensuhyo::default();
        t.load(TableKind::HaihanWeek, &csv(&[&ended, &later, &deleted]), "w.csv").unwrap();
        for indexed in [false, true] {
            if indexed {
                t.index();
            }
            let on = |s: &str| t.haihan("150267310", d(s)).map(|r| r.code2.as_str()).collect::<Vec<_>>();
            assert_eq!(on("20240531"), ["150140110"], "indexed={indexed}");
            assert_eq!(on("20240601"), ["150140210"], "indexed={indexed}");
            assert_eq!(on("20100331"), Vec::<&str>::new());
        }
        assert_eq!(t.haihan.len(), 3, "抹消 rows are kept, only skipped by lookups");
    }

    #[test]
    fn hojo_history_picks_latest() {
        let mut old = HOJO;
        old[26] = "20240531";
        let mut new = HOJO;
        new[0] = "5";
        new[3] = "0";
        new[25] = "20240601";
        let mut t = Tensuhyo::default();
        t.load(TableKind::Hojo, &csv(&[&new, &old]), "h.csv").unwrap();
        t.index();
        assert_eq!(t.hojo("111000110", d("20240531")).unwrap().houkatsu_unit[0], 2);
        let n = t.hojo("111000110", d("20240601")).unwrap();
        assert_eq!((n.change, n.houkatsu_unit[0]), (5, 0));
    }

    #[test]
    fn wrong_column_count() {
        let short = &HAIHAN[..9];
        let e = Tensuhyo::default().load(TableKind::HaihanMonth, &csv(&[&HAIHAN, short]), "m.csv").unwrap_err();
        assert_eq!(e.code, "E_COLUMNS");
        assert_eq!(e.file, "m.csv");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.field.as_deref(), Some("列数 9 (期待値 10)"));
        assert!(e.message_ja.contains("列数") && e.message_en.contains("columns"), "{e:?}");
    }

    #[test]
    fn bad_date() {
        let mut r = HAIHAN;
        r[8] = "20240231";
        let mut t = Tensuhyo::default();
        let e = t.load(TableKind::HaihanSame, &csv(&[&HAIHAN, &HAIHAN, &r]), "s.csv").unwrap_err();
        assert_eq!(e.code, "E_DATE");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("項番9 新設年月日"));
        assert!(t.haihan.is_empty(), "a failed load appends nothing");

        let mut r = SANTEI;
        r[13] = "2024";
        let e = t.load(TableKind::SanteiKaisu, &csv(&[&r]), "k.csv").unwrap_err();
        assert_eq!((e.code, e.line, e.field.as_deref()), ("E_DATE", Some(1), Some("項番14 廃止年月日")));

        let mut r = NYUIN;
        r[6] = "20250101";
        r[7] = "20241231";
        let e = t.load(TableKind::NyuinKihon, &csv(&[&r]), "n.csv").unwrap_err();
        assert_eq!((e.code, e.line, e.field.as_deref()), ("E_DATE_RANGE", Some(1), Some("項番7 新設年月日")));
    }

    #[test]
    fn bad_encoding() {
        let text = "\"0\",\"111000110\",\"初診料\"\r\n";
        let e = Tensuhyo::default().load(TableKind::Hojo, text.as_bytes(), "u.csv").unwrap_err();
        assert_eq!(e.code, "E_ENCODING_UTF8");
        assert_eq!(e.line, Some(1));
        assert_eq!(e.field.as_deref(), Some("文字コード"));

        let mut b = csv(&[&SANTEI]);
        b.extend_from_slice(b"\"0\",\"\x82\x20\"\r\n");
        let e = Tensuhyo::default().load(TableKind::SanteiKaisu, &b, "x.csv").unwrap_err();
        assert_eq!((e.code, e.line), ("E_ENCODING", Some(2)));
    }

    #[test]
    fn bad_numbers_codes_values() {
        let mut t = Tensuhyo::default();
        let mut r = SANTEI;
        r[5] = "1回";
        let e = t.load(TableKind::SanteiKaisu, &csv(&[&r]), "k.csv").unwrap_err();
        assert_eq!((e.code, e.line, e.field.as_deref()), ("E_NUMBER", Some(1), Some("項番6 算定回数")));
        let mut r = SANTEI;
        r[3] = "70000"; // > u16
        let e = t.load(TableKind::SanteiKaisu, &csv(&[&r]), "k.csv").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("E_NUMBER", Some("項番4 算定単位コード")));
        let mut r = HAIHAN;
        r[5] = "4";
        let e = t.load(TableKind::HaihanDay, &csv(&[&r]), "d.csv").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("E_VALUE", Some("項番6 背反区分")));
        let mut r = HAIHAN;
        r[3] = "15014011";
        let e = t.load(TableKind::HaihanDay, &csv(&[&r]), "d.csv").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("E_CODE", Some("項番4 診療行為コード2")));
        let mut r = HOJO;
        r[6] = "";
        let e = t.load(TableKind::Hojo, &csv(&[&r]), "h.csv").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("E_VALUE", Some("項番7 グループ番号2")));
        let mut r = NYUIN;
        r[1] = "A01";
        let e = t.load(TableKind::NyuinKihon, &csv(&[&r]), "n.csv").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("E_NUMBER", Some("項番2 グループ番号")));
    }

    #[test]
    fn empty_file_and_blank_lines() {
        let mut t = Tensuhyo::default();
        assert_eq!(t.load(TableKind::Houkatsu, b"", "e.csv").unwrap(), 0);
        let mut b = b"\r\n".to_vec();
        b.extend(csv(&[&HOUKATSU]));
        b.extend_from_slice(b"\r\n\r\n");
        assert_eq!(t.load(TableKind::Houkatsu, &b, "e.csv").unwrap(), 1);
        // Line numbers count blank lines and CRLF correctly.
        b.extend(csv(&[&HOUKATSU[..6]]));
        let e = t.load(TableKind::Houkatsu, &b, "e.csv").unwrap_err();
        assert_eq!((e.code, e.line), ("E_COLUMNS", Some(5)));
        let mut b = csv(&[&HOUKATSU, &HOUKATSU]);
        b.extend_from_slice("\"0\",\"D1\",\"160067410\",\"a\r\nb\",\"0\",\"2010\",\"99999999\"\r\n".as_bytes());
        let e = t.load(TableKind::Houkatsu, &b, "e.csv").unwrap_err();
        assert_eq!((e.code, e.line, e.field.as_deref()), ("E_DATE", Some(3), Some("項番6 新設年月日")));
    }

    #[test]
    fn serde_roundtrip_keeps_indexes() {
        let mut t = Tensuhyo::default();
        t.load(TableKind::Houkatsu, &csv(&[&HOUKATSU]), "p.csv").unwrap();
        t.load(TableKind::NyuinKihon, &csv(&[&NYUIN]), "n.csv").unwrap();
        t.index();
        let json = serde_json::to_string(&t).unwrap();
        let u: Tensuhyo = serde_json::from_str(&json).unwrap();
        assert!(u.is_indexed());
        assert_eq!(u.houkatsu_of_code("160067410", d("20240601")).count(), 1);
        assert_eq!(u.nyuin_kihon_of_code("190076570", d("20240601")).count(), 1);
        // A tampered index must not panic.
        let bad = json.replace("\"houkatsu_by_code\":[0]", "\"houkatsu_by_code\":[7]");
        let u: Tensuhyo = serde_json::from_str(&bad).unwrap();
        assert_eq!(u.houkatsu_of_code("160067410", d("20240601")).count(), 0);
    }

    fn field_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{0,10}",
            "[0-9]{8}",
            "[ -~]{0,6}",
            "[\"',\r\n 0-9A-Z初診料９①]{0,8}",
            Just("99999999".to_string()),
            Just("00000000".to_string()),
        ]
    }

    fn kind_strategy() -> impl Strategy<Value = TableKind> {
        (0usize..8).prop_map(|i| TableKind::ALL[i])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(kind in kind_strategy(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut t = Tensuhyo::default();
            let _ = t.load(kind, &bytes, "fuzz.csv");
            t.index();
            let _ = t.hojo("111000110", OPEN_END_TEST);
        }

        #[test]
        fn mutated_rows_never_panic(
            kind in kind_strategy(),
            ops in proptest::collection::vec((0u8..3, 0usize..16, field_strategy()), 1..4),
            raw in proptest::option::of((0usize..400, any::<u8>())),
        ) {
            let mut row: Vec<String> = base(kind).iter().map(|s| s.to_string()).collect();
            for (op, i, v) in ops {
                let i = i % (row.len() + 1);
                match op {
                    0 if i < row.len() => row[i] = v,
                    1 if i < row.len() => { row.remove(i); }
                    _ => row.insert(i, v),
                }
            }
            let refs: Vec<&str> = row.iter().map(|s| s.as_str()).collect();
            let mut bytes = csv(&[&base(kind), &refs]);
            if let Some((at, b)) = raw {
                let n = bytes.len();
                bytes[at % n] = b;
            }
            let mut t = Tensuhyo::default();
            match t.load(kind, &bytes, "fuzz.csv") {
                Ok(n) => prop_assert!(n <= 3),
                Err(e) => prop_assert!(e.code.starts_with("E_") && !e.message_ja.is_empty() && !e.message_en.is_empty()),
            }
            t.index();
            for (k, n) in t.counts() { prop_assert!(n <= 3, "{:?}", k); }
        }
    }

    const OPEN_END_TEST: Date = santei_core::date::OPEN_END;
}
