//! Typed master records — the fields the calculators need, each named after its 項番 in the
//! マスターファイル仕様説明書 (令和6年度版, `../shared/spec/pdf/R06rec1…3`). Column n of the CSV is
//! 項番 n+1.
//!
//! Every record carries its validity (`valid_from` ..= `valid_to`) and `source`, the master file
//! and line it came from, so a computed line can say which master row produced it.

use rust_decimal::Decimal;
use santei_core::date::Date;
use serde::{Deserialize, Serialize};

/// Which master a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// 医科診療行為マスター (S)
    Procedure,
    /// 医薬品マスター (Y)
    Drug,
    /// 特定器材マスター (T)
    Material,
    /// コメントマスター (C)
    Comment,
    /// 傷病名マスター (B)
    Disease,
    /// 修飾語マスター (Z)
    Modifier,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Procedure, Kind::Drug, Kind::Material, Kind::Comment, Kind::Disease, Kind::Modifier];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Procedure => "procedure",
            Kind::Drug => "drug",
            Kind::Material => "material",
            Kind::Comment => "comment",
            Kind::Disease => "disease",
            Kind::Modifier => "modifier",
        }
    }
    pub fn name_ja(self) -> &'static str {
        match self {
            Kind::Procedure => "医科診療行為",
            Kind::Drug => "医薬品",
            Kind::Material => "特定器材",
            Kind::Comment => "コメント",
            Kind::Disease => "傷病名",
            Kind::Modifier => "修飾語",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// 項番2 マスター種別 letter.
    pub fn from_letter(s: &str) -> Option<Kind> {
        Some(match s {
            "S" => Kind::Procedure,
            "Y" => Kind::Drug,
            "T" => Kind::Material,
            "C" => Kind::Comment,
            "B" => Kind::Disease,
            "Z" => Kind::Modifier,
            _ => return None,
        })
    }
}

/// Where a record came from: index into the store's source list, and the 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub file: u16,
    pub line: u32,
}

/// Fields every master record has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    pub code: String,
    /// 漢字名称 (省略名称 for procedures, as printed on receipts).
    pub name: String,
    /// カナ名称 (half-width katakana in the masters).
    pub kana: String,
    #[serde(with = "santei_core::date::serde_days")]
    pub valid_from: Date,
    #[serde(with = "santei_core::date::serde_days")]
    pub valid_to: Date,
    /// 変更区分 of the row this version came from.
    pub change: u8,
    pub source: Source,
}

/// A 年齢加算 entry (項番100–111): from `lower` to `upper` (master age codes), add `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeAddition {
    pub lower: String,
    pub upper: String,
    pub code: String,
}

/// 医科診療行為マスター row (150 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    pub common: Common,
    /// 項番113 基本漢字名称
    pub base_name: String,
    /// 項番8/10 データ規格コード・名 (unit for きざみ etc.)
    pub unit_code: u16,
    pub unit_name: String,
    /// 項番11 点数識別: 1 金額, 3 点数(プラス), 4 購入価格(点数), 5 %加算, 6 %減算, 7 減点診療行為, 8 点数(マイナス)
    pub point_kind: u8,
    /// 項番12 新又は現点数 (7.2 digits; yen when point_kind = 1, percent when 5/6)
    #[serde(with = "santei_core::money::serde_bin")]
    pub points: Decimal,
    /// 項番13 入外適用区分: 0 both, 1 入院のみ, 2 入院外のみ
    pub inout: u8,
    /// 項番14 後期高齢者医療適用区分
    pub kouki: u8,
    /// 項番15 点数欄集計先識別(入院外)
    pub aggregate_out: u16,
    /// 項番66 点数欄集計先識別(入院)
    pub aggregate_in: u16,
    /// 項番16 包括対象検査
    pub bundled_test: u8,
    /// 項番19 病院・診療所区分: 0 both, 1 病院のみ, 2 診療所のみ
    pub hospital_clinic: u8,
    /// 項番25 傷病名関連区分
    pub disease_related: u8,
    /// 項番27 実日数, 項番28 日数・回数
    pub real_days: u8,
    pub days_times: u8,
    /// 項番29 医薬品関連区分
    pub drug_related: u8,
    /// 項番30–35 きざみ値: 計算識別, 下限値, 上限値, きざみ値, きざみ点数, 上下限エラー処理
    pub step_kind: u8,
    pub step_lower: u64,
    pub step_upper: u64,
    pub step_value: u64,
    #[serde(with = "santei_core::money::serde_bin")]
    pub step_points: Decimal,
    pub step_error: u8,
    /// 項番36/37 上限回数, 上限回数エラー処理
    pub max_count: u16,
    pub max_count_error: u8,
    /// 項番38/39 注加算コード, 注加算通番
    pub addition_code: String,
    pub addition_seq: String,
    /// 項番40 通則年齢
    pub general_age: u8,
    /// 項番41/42 下限年齢, 上限年齢 (upper is exclusive; "00" = none; AA/AE/B3/… special)
    pub age_lower: String,
    pub age_upper: String,
    /// 項番43 時間加算区分
    pub time_kind: u8,
    /// 項番44/45 基準適合区分, 対象施設基準
    pub standard_kind: u8,
    pub standard_code: u16,
    /// 項番46 処置乳幼児加算区分
    pub infant_procedure: u8,
    /// 項番50/51 検査等実施判断区分, 検査等実施判断グループ区分
    pub judgement_kind: u8,
    pub judgement_group: u8,
    /// 項番52 逓減対象区分
    pub decrease_target: u8,
    /// 項番56 外来管理加算区分: 1 = kills 外来管理加算 that day, 2 = the addition itself
    pub outpatient_mgmt: u8,
    /// 項番62 通則加算所定点数対象区分
    pub general_addition_base: u8,
    /// 項番63 包括逓減区分
    pub bundle_decrease: u16,
    /// 項番68/69 告示等識別区分(1)(2): 1 基本, 3 合成, 5 準用, 7 加算, 9 通則加算 …
    pub notice_kind1: u8,
    pub notice_kind2: u8,
    /// 項番71 病床数区分
    pub bed_kind: u8,
    /// 項番85 + 90–94 コード表用番号 (e.g. "A-000-00-001" style parts kept raw)
    pub table_no: String,
    /// 項番86 + 95–99 告示・通知関連番号
    pub notice_no: String,
    /// 項番117 点数表区分番号 (e.g. "A000")
    pub section: String,
    /// 項番100–111 年齢加算①–④
    pub age_additions: Vec<AgeAddition>,
}

/// 医薬品マスター row (40 columns; 42 from 2024-09).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drug {
    pub common: Common,
    /// 項番35 基本漢字名称
    pub base_name: String,
    /// 項番8/10 単位
    pub unit_code: u16,
    pub unit_name: String,
    /// 項番11 金額種別 (1 金額)
    pub price_kind: u8,
    /// 項番12 新又は現金額 — 薬価 in yen (exact decimal)
    #[serde(with = "santei_core::money::serde_bin")]
    pub price: Decimal,
    /// 項番14 麻薬・毒薬・覚醒剤原料・向精神薬
    pub narcotic: u8,
    /// 項番15 神経破壊剤, 項番16 生物学的製剤, 項番17 後発品, 項番20 造影(補助)剤
    pub neurolytic: u8,
    pub biological: u8,
    pub generic: u8,
    pub contrast: u8,
    /// 項番21 注射容量
    pub injection_volume: u32,
    /// 項番22 収載方式等識別
    pub listing_kind: u8,
    /// 項番28 剤形: 1 内用, 3 その他, 4 注射, 6 外用, 8 歯科用, 9 歯科特定
    pub form: u8,
    /// 項番32 薬価基準収載医薬品コード
    pub yj_code: String,
    /// 項番37/38 一般名コード, 一般名処方の標準的な記載
    pub generic_code: String,
    pub generic_name: String,
    /// 項番39 一般名処方加算対象区分
    pub generic_rx_addition: String,
    /// 項番42 選定療養区分 (42-column form only; 0 otherwise)
    pub selective: u8,
}

/// 特定器材マスター row (38 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    pub common: Common,
    /// 項番37 基本漢字名称
    pub base_name: String,
    pub unit_code: u16,
    pub unit_name: String,
    /// 項番11 金額種別
    pub price_kind: u8,
    /// 項番12 新又は現金額 (yen)
    #[serde(with = "santei_core::money::serde_bin")]
    pub price: Decimal,
    /// 項番14 年齢加算区分, 項番15/16 上下限年齢
    pub age_addition: u8,
    pub age_lower: String,
    pub age_upper: String,
    /// 項番21 酸素等区分, 項番22 特定器材種別
    pub oxygen_kind: u8,
    pub material_kind: u8,
    /// 項番23 上限価格, 項番24 上限点数
    #[serde(with = "santei_core::money::serde_bin")]
    pub max_price: Decimal,
    #[serde(with = "santei_core::money::serde_bin")]
    pub max_points: Decimal,
    /// 項番31/32 告示番号 (別表番号, 区分番号)
    pub notice_table: String,
    pub notice_section: String,
}

/// コメントマスター row (30 columns). Code = 区分(1) + パターン(2) + 一連番号(6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub common: Common,
    /// 項番4 パターン (10 free text, 20 fixed, 30/31/40/42/50/51/52/80/90 with data …)
    pub pattern: u8,
    /// 項番10–17 レセプト編集情報 ①–④ (カラム位置, 桁数)
    pub edit: Vec<(u16, u16)>,
    /// 項番20 選択式コメント識別
    pub selective: u8,
}

/// 傷病名マスター row (46 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disease {
    pub common: Common,
    /// 項番4 移行先コード
    pub successor: String,
    /// 項番8 傷病名省略名称
    pub short_name: String,
    /// 項番11 病名管理番号, 項番12 採択区分, 項番13 病名交換用コード
    pub management_no: String,
    pub adoption: u8,
    pub exchange_code: String,
    /// 項番16/17 ICD-10 (2013)
    pub icd10_1: String,
    pub icd10_2: String,
    /// 項番19 単独使用禁止区分, 項番20 保険請求外区分, 項番21 特定疾患等対象区分
    pub standalone_forbidden: u8,
    pub non_insurance: u8,
    pub specific_disease: u8,
    /// 項番43 難病外来対象区分
    pub nanbyo_outpatient: u8,
}

/// 修飾語マスター row (19 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Modifier {
    pub common: Common,
    /// 項番17 修飾語管理番号, 項番18 修飾語交換用コード, 項番19 修飾語区分
    pub management_no: String,
    pub exchange_code: String,
    pub modifier_kind: String,
}

/// コメント関連テーブル row (30 columns): which comment a procedure/drug requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentRelation {
    /// 項番1 変更区分
    pub change: u8,
    /// 項番2 コメント記載通知等
    pub notice: u8,
    /// 項番3 項番, 項番4 区分 (e.g. "A000"), 項番5 枝番
    pub item_no: String,
    pub section: String,
    pub branch: String,
    /// 項番6 診療(調剤)行為コード
    pub code: String,
    /// 項番8 省略漢字名称
    pub name: String,
    /// 項番9 コメントコード, 項番11 コメント文
    pub comment_code: String,
    pub comment_text: String,
    /// 項番12/13 変更年月日, 廃止年月日
    #[serde(with = "santei_core::date::serde_days")]
    pub valid_from: Date,
    #[serde(with = "santei_core::date::serde_days")]
    pub valid_to: Date,
    /// 項番14 条件区分, 項番16 入外区分, 項番17 算定回数
    pub condition: String,
    pub inout: u8,
    pub count: u16,
    pub source: Source,
}

/// One version of any master record.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    Procedure(&'a Procedure),
    Drug(&'a Drug),
    Material(&'a Material),
    Comment(&'a Comment),
    Disease(&'a Disease),
    Modifier(&'a Modifier),
}

impl<'a> Entry<'a> {
    pub fn kind(&self) -> Kind {
        match self {
            Entry::Procedure(_) => Kind::Procedure,
            Entry::Drug(_) => Kind::Drug,
            Entry::Material(_) => Kind::Material,
            Entry::Comment(_) => Kind::Comment,
            Entry::Disease(_) => Kind::Disease,
            Entry::Modifier(_) => Kind::Modifier,
        }
    }
    pub fn common(&self) -> &'a Common {
        match self {
            Entry::Procedure(r) => &r.common,
            Entry::Drug(r) => &r.common,
            Entry::Material(r) => &r.common,
            Entry::Comment(r) => &r.common,
            Entry::Disease(r) => &r.common,
            Entry::Modifier(r) => &r.common,
        }
    }
}

/// Anything with a [`Common`] header (used by the generic versioned tables).
pub trait Record {
    fn common(&self) -> &Common;
}
macro_rules! record {
    ($($t:ty),*) => { $(impl Record for $t { fn common(&self) -> &Common { &self.common } })* };
}
record!(Procedure, Drug, Material, Comment, Disease, Modifier);
