//! Column layouts of the SSK 医科 masters (マスターファイル仕様説明書 令和6年度版, ファイルレイアウト;
//! machine-readable copy in `../shared/spec/layouts/*_master_columns_R6.tsv`). Indexes are
//! 0-based CSV columns (= 項番 − 1).

use crate::model::Kind;

/// What the reader needs to know about one master kind.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub kind: Kind,
    /// Accepted column counts (医薬品: 40 until y_20240906, 42 after).
    pub columns: &'static [usize],
    /// Columns that make up the code. Comments: 区分 + パターン(2) + 一連番号(6).
    pub code: &'static [(usize, usize)],
    /// 変更年月日, 廃止年月日, and 収載年月日 (when the master has one).
    pub changed: usize,
    pub abolished: usize,
    pub listed: Option<usize>,
    /// Columns that a complete row always fills; a 変更区分 5/9/2/1 row missing any of them is a
    /// sparse 変更分 row (key + changed fields only) and is merged onto the previous version.
    pub always: &'static [usize],
    /// Column whose name is shown for the code.
    pub name: usize,
    pub kana: usize,
}

pub const PROCEDURE: Layout = Layout {
    kind: Kind::Procedure,
    columns: &[150],
    code: &[(2, 9)],
    changed: 86,
    abolished: 87,
    listed: None,
    always: &[4, 10, 11, 87],
    name: 4,
    kana: 6,
};

pub const DRUG: Layout = Layout {
    kind: Kind::Drug,
    columns: &[40, 42],
    code: &[(2, 9)],
    changed: 29,
    abolished: 30,
    listed: None,
    always: &[4, 10, 11, 30],
    name: 4,
    kana: 6,
};

pub const MATERIAL: Layout = Layout {
    kind: Kind::Material,
    columns: &[38],
    code: &[(2, 9)],
    changed: 27,
    abolished: 29,
    listed: None,
    always: &[4, 10, 11, 29],
    name: 4,
    kana: 6,
};

pub const COMMENT: Layout = Layout {
    kind: Kind::Comment,
    columns: &[30],
    code: &[(2, 1), (3, 2), (4, 6)],
    changed: 20,
    abolished: 21,
    listed: None,
    always: &[21, 22],
    name: 6,
    kana: 8,
};

pub const DISEASE: Layout = Layout {
    kind: Kind::Disease,
    columns: &[46],
    code: &[(2, 7)],
    changed: 22,
    abolished: 23,
    listed: Some(21),
    always: &[5, 7, 23],
    name: 5,
    kana: 9,
};

pub const MODIFIER: Layout = Layout {
    kind: Kind::Modifier,
    columns: &[19],
    code: &[(2, 4)],
    changed: 14,
    abolished: 15,
    listed: Some(13),
    always: &[6, 15],
    name: 6,
    kana: 9,
};

pub fn of(kind: Kind) -> &'static Layout {
    match kind {
        Kind::Procedure => &PROCEDURE,
        Kind::Drug => &DRUG,
        Kind::Material => &MATERIAL,
        Kind::Comment => &COMMENT,
        Kind::Disease => &DISEASE,
        Kind::Modifier => &MODIFIER,
    }
}

/// コメント関連テーブル: 30 columns; 項番12/13 変更/廃止年月日.
pub const CK_COLUMNS: usize = 30;

/// Code columns of the コメント関連テーブル, used only to validate 項番6 and 項番9.
pub const CK_CODE: Layout = Layout {
    kind: Kind::Comment,
    columns: &[CK_COLUMNS],
    code: &[(5, 9)],
    changed: 11,
    abolished: 12,
    listed: None,
    always: &[],
    name: 7,
    kana: 7,
};
