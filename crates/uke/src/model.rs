//! Typed model of a 医科 UKE file: file → receipts → payers (HO/KO) → diagnoses (SY) →
//! 摘要 lines (SI/IY/TO/CO) grouped into 点数・回数算定単位 with per-day counts.
//!
//! Every field of every record is kept as written (`String` or [`Num`], which keeps its text), so
//! read → model → write reproduces a spec-conforming file byte for byte. Typed accessors parse
//! numbers and dates on demand.

use crate::lex::RawRecord;
use santei_core::date::{parse_uke_date, Date, YearMonth};
use serde::{Serialize, Serializer};

/// A numeric (数字) field, kept as its text. `Num::new(5)` writes `5`; empty = omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Num(pub String);

impl Num {
    pub fn new(v: u64) -> Self {
        Num(v.to_string())
    }
    pub fn empty() -> Self {
        Num(String::new())
    }
    pub fn opt(v: Option<u64>) -> Self {
        v.map(Num::new).unwrap_or_default()
    }
    /// Integer value; `None` when empty or not an integer.
    pub fn value(&self) -> Option<u64> {
        if self.0.is_empty() || self.0.len() > 18 || !self.0.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.0.parse().ok()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value() {
            Some(v) => s.serialize_u64(v),
            None if self.0.is_empty() => s.serialize_none(),
            None => s.serialize_str(&self.0),
        }
    }
}

/// Something that occupies one or more consecutive fields of a record.
pub trait Fields: Sized {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self;
    fn put(&self, out: &mut Vec<String>);
}

impl Fields for String {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self {
        it.next().unwrap_or("").to_string()
    }
    fn put(&self, out: &mut Vec<String>) {
        out.push(self.clone());
    }
}

impl Fields for Num {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self {
        Num(it.next().unwrap_or("").to_string())
    }
    fn put(&self, out: &mut Vec<String>) {
        out.push(self.0.clone());
    }
}

/// The 31 算定日情報 / 受診日等 fields (day 1 … day 31).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Days(pub Vec<Num>);

impl Days {
    /// Value on day `d` (1-based); 0 when empty.
    pub fn get(&self, d: usize) -> u64 {
        d.checked_sub(1).and_then(|i| self.0.get(i)).and_then(Num::value).unwrap_or(0)
    }
    /// Σ of the day fields (non-numeric fields count as 0; the reader reports them).
    pub fn sum(&self) -> u64 {
        self.0.iter().filter_map(Num::value).fold(0u64, |a, b| a.saturating_add(b))
    }
    /// Days (1-based) whose field is not empty.
    pub fn used(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().filter(|(_, n)| !n.is_empty()).map(|(i, _)| i + 1)
    }
    pub fn from_counts(counts: &[(u32, u64)]) -> Self {
        let mut v = vec![Num::empty(); 31];
        for &(d, c) in counts {
            if let Some(slot) = (d as usize).checked_sub(1).and_then(|i| v.get_mut(i)) {
                *slot = Num::new(c);
            }
        }
        Days(v)
    }
}

impl Fields for Days {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self {
        Days((0..31).map(|_| Num::take(it)).collect())
    }
    fn put(&self, out: &mut Vec<String>) {
        for i in 0..31 {
            out.push(self.0.get(i).map(|n| n.0.clone()).unwrap_or_default());
        }
    }
}

macro_rules! record {
    ($(#[$m:meta])* $name:ident, $id:literal, { $($(#[$fm:meta])* $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct $name {
            /// Line in the file it was read from (0 when built in memory).
            #[serde(skip)]
            pub line: u64,
            $($(#[$fm])* pub $f: $t,)*
        }
        impl $name {
            pub const ID: &'static str = $id;
            /// Build from a raw record (missing fields read as empty).
            pub fn from_raw(r: &RawRecord) -> Self {
                let mut it = r.fields.iter().skip(1).map(String::as_str);
                let it: &mut dyn Iterator<Item = &str> = &mut it;
                $name { line: r.line, $($f: <$t as Fields>::take(it),)* }
            }
            /// All fields in order, record identifier first.
            pub fn to_fields(&self) -> Vec<String> {
                let mut out = vec![$id.to_string()];
                $(self.$f.put(&mut out);)*
                out
            }
        }
    };
}

/// One コメント (コード + 文字データ) slot of SI/IY/TO.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommentSlot {
    pub code: String,
    pub text: String,
}
impl Fields for CommentSlot {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self {
        CommentSlot { code: String::take(it), text: String::take(it) }
    }
    fn put(&self, out: &mut Vec<String>) {
        self.code.put(out);
        self.text.put(out);
    }
}

/// 診療科 (RE 22–26 / 27–31 / 32–36).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Department {
    pub name: String,
    pub body_part: String,
    pub sex_etc: String,
    pub treatment: String,
    pub disease: String,
}
impl Fields for Department {
    fn take(it: &mut dyn Iterator<Item = &str>) -> Self {
        Department { name: String::take(it), body_part: String::take(it), sex_etc: String::take(it), treatment: String::take(it), disease: String::take(it) }
    }
    fn put(&self, out: &mut Vec<String>) {
        for s in [&self.name, &self.body_part, &self.sex_etc, &self.treatment, &self.disease] {
            s.put(out);
        }
    }
}

record!(
    /// IR 医療機関情報レコード.
    Ir, "IR", {
    /// 審査支払機関 (別表1: 1 社保, 2 国保).
    payer_org: String, prefecture: String,
    /// 点数表 (別表3: 1 医科, 3 歯科).
    table: String, institution_code: String, reserved: String, name: String,
    /// 請求年月 (YYYYMM, or 和暦 GYYMM in old files).
    claim_month: String,
    /// マルチボリューム識別情報.
    volume: String, phone: String,
});

record!(
    /// RE レセプト共通レコード.
    Re, "RE", {
    receipt_no: Num,
    /// レセプト種別 (別表5).
    kind: String,
    /// 診療年月.
    month: String, name: String, sex: String, birth_date: String, benefit_ratio: Num,
    admission_date: String, ward: String, burden_class: String,
    /// レセプト特記事項 (2-digit codes concatenated, 別表9).
    tokki: String, beds: Num, karte_no: String, discount_unit_price: Num,
    reserved16: String, reserved17: String, reserved18: String, search_no: String, reserved20: String,
    claim_info: String, dept1: Department, dept2: Department, dept3: Department,
    kana_name: String, patient_state: String,
});

record!(
    /// HO 保険者レコード.
    Ho, "HO", {
    /// 保険者番号 (8 bytes; 6-digit 国保 numbers left-padded with spaces).
    insurer_no: String, symbol: String, number: String, days: Num, points: Num, reserved: String,
    meals: Num, meal_amount: Num, occupational: String, certificate_no: String,
    /// 負担金額 医療保険.
    copay: Num, reduction_class: String, reduction_rate: Num, reduction_amount: Num,
});

record!(
    /// KO 公費レコード.
    Ko, "KO", {
    payer_no: String, recipient_no: String, optional_benefit: String, days: Num, points: Num,
    /// 負担金額 公費.
    copay: Num, outpatient_copay: Num, inpatient_copay: Num, reserved: String, meals: Num, meal_amount: Num,
});

record!(
    /// SN 資格確認レコード.
    Sn, "SN", {
    payer_kind: String, confirmation: String, insurer_no: String, symbol: String, number: String,
    branch: String, recipient_no: String, reserved: String,
});

record!(
    /// JD 受診日等レコード (別表30 受診等区分 per day).
    Jd, "JD", { payer_kind: String, days: Days });

record!(
    /// MF 窓口負担額レコード.
    Mf, "MF", { window_class: String, reserved: Days });

record!(
    /// SY 傷病名レコード.
    Sy, "SY", {
    code: String, start_date: String, outcome: String, modifiers: String, name: String,
    main: String, comment: String,
});

record!(
    /// SI 診療行為レコード.
    Si, "SI", {
    shikibetsu: String, futan: String, code: String, quantity: Num, points: Num, count: Num,
    comment1: CommentSlot, comment2: CommentSlot, comment3: CommentSlot, days: Days,
});

record!(
    /// IY 医薬品レコード.
    Iy, "IY", {
    shikibetsu: String, futan: String, code: String,
    /// 使用量 (decimal, kept as text).
    quantity: Num, points: Num, count: Num,
    comment1: CommentSlot, comment2: CommentSlot, comment3: CommentSlot, days: Days,
});

record!(
    /// TO 特定器材レコード.
    To, "TO", {
    shikibetsu: String, futan: String, code: String, quantity: Num, points: Num, count: Num,
    unit_code: String, unit_price: Num, reserved: String, product_name: String,
    comment1: CommentSlot, comment2: CommentSlot, comment3: CommentSlot, days: Days,
});

record!(
    /// CO コメントレコード.
    Co, "CO", { shikibetsu: String, futan: String, code: String, text: String });

record!(
    /// SJ 症状詳記レコード.
    Sj, "SJ", { class: String, text: String });

record!(
    /// GO 診療報酬請求書レコード.
    Go, "GO", { total_count: Num, total_points: Num, volume: String });

/// A 摘要 line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "record")]
pub enum Item {
    #[serde(rename = "SI")]
    Si(Si),
    #[serde(rename = "IY")]
    Iy(Iy),
    #[serde(rename = "TO")]
    To(To),
    #[serde(rename = "CO")]
    Co(Co),
}

/// The fields every 摘要 line shares.
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    pub id: &'static str,
    pub line: u64,
    pub shikibetsu: &'a str,
    pub futan: &'a str,
    pub code: &'a str,
    /// `None` for CO.
    pub points: Option<&'a Num>,
    pub count: Option<&'a Num>,
    pub days: Option<&'a Days>,
}

impl Item {
    pub fn view(&self) -> ItemView<'_> {
        match self {
            Item::Si(r) => ItemView { id: "SI", line: r.line, shikibetsu: &r.shikibetsu, futan: &r.futan, code: &r.code, points: Some(&r.points), count: Some(&r.count), days: Some(&r.days) },
            Item::Iy(r) => ItemView { id: "IY", line: r.line, shikibetsu: &r.shikibetsu, futan: &r.futan, code: &r.code, points: Some(&r.points), count: Some(&r.count), days: Some(&r.days) },
            Item::To(r) => ItemView { id: "TO", line: r.line, shikibetsu: &r.shikibetsu, futan: &r.futan, code: &r.code, points: Some(&r.points), count: Some(&r.count), days: Some(&r.days) },
            Item::Co(r) => ItemView { id: "CO", line: r.line, shikibetsu: &r.shikibetsu, futan: &r.futan, code: &r.code, points: None, count: None, days: None },
        }
    }
    pub fn to_fields(&self) -> Vec<String> {
        match self {
            Item::Si(r) => r.to_fields(),
            Item::Iy(r) => r.to_fields(),
            Item::To(r) => r.to_fields(),
            Item::Co(r) => r.to_fields(),
        }
    }
}

/// One receipt (レセプト): RE and everything up to the next RE or GO.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub re: Re,
    pub ho: Option<Ho>,
    /// 公費 in priority order (第1公費 first).
    pub ko: Vec<Ko>,
    pub sn: Vec<Sn>,
    pub jd: Vec<Jd>,
    pub mf: Vec<Mf>,
    /// GR 包括評価対象外理由 (kept as read).
    pub gr: Vec<RawRecord>,
    pub sy: Vec<Sy>,
    /// SI/IY/TO/CO in file order.
    pub items: Vec<Item>,
    pub sj: Vec<Sj>,
    /// 臓器提供者レセプト情報 (TI, TR, TS and the records that follow them), kept as read.
    pub organ_donor: Vec<RawRecord>,
}

/// A 点数・回数算定単位: consecutive SI/IY/TO lines ending with the line that carries 点数
/// (記録条件仕様 第1章 3(4)オ: 点数 on the last line of the unit, 回数 on every line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// 診療識別 (inherited from the previous line when omitted).
    pub shikibetsu: String,
    pub futan: String,
    /// Indexes into [`Receipt::items`].
    pub items: Vec<usize>,
    pub points: Option<u64>,
    pub count: u64,
    /// Per-day counts (day 1..31) of the unit's last line.
    pub days: Vec<u64>,
    pub first_line: u64,
    pub last_line: u64,
    /// `false` when the receipt ended (or a new 診療識別 began) before a line with 点数.
    pub closed: bool,
}

impl Unit {
    /// 点数 × 回数.
    pub fn amount(&self) -> u64 {
        self.points.unwrap_or(0).saturating_mul(self.count)
    }
}

/// Payers (bit 0 医保, bit n 第n公費) that a 負担区分 code (別表21) bills.
pub fn futan_payers(code: &str) -> Option<u8> {
    // 別表21 負担区分コード, confirmed against the spec text (p.40).
    const H: u8 = 1;
    const K1: u8 = 2;
    const K2: u8 = 4;
    const K3: u8 = 8;
    const K4: u8 = 16;
    Some(match code {
        "1" => H,
        "5" => K1,
        "6" => K2,
        "B" => K3,
        "C" => K4,
        "2" => H | K1,
        "3" => H | K2,
        "E" => H | K3,
        "G" => H | K4,
        "7" => K1 | K2,
        "H" => K1 | K3,
        "I" => K1 | K4,
        "J" => K2 | K3,
        "K" => K2 | K4,
        "L" => K3 | K4,
        "4" => H | K1 | K2,
        "M" => H | K1 | K3,
        "N" => H | K1 | K4,
        "O" => H | K2 | K3,
        "P" => H | K2 | K4,
        "Q" => H | K3 | K4,
        "R" => K1 | K2 | K3,
        "S" => K1 | K2 | K4,
        "T" => K1 | K3 | K4,
        "U" => K2 | K3 | K4,
        "V" => H | K1 | K2 | K3,
        "W" => H | K1 | K2 | K4,
        "X" => H | K1 | K3 | K4,
        "Y" => H | K2 | K3 | K4,
        "Z" => K1 | K2 | K3 | K4,
        "9" => H | K1 | K2 | K3 | K4,
        _ => return None,
    })
}

/// 診療識別 codes of 別表20 (DOMAIN.md §1.5).
pub const SHIKIBETSU: &[&str] = &[
    "01", "11", "12", "13", "14", "21", "22", "23", "24", "25", "26", "27", "28", "31", "32", "33", "39", "40", "50", "54",
    "60", "70", "80", "90", "92", "97", "99",
];

impl Receipt {
    /// 診療年月 (西暦 or 和暦 form).
    pub fn month(&self) -> Option<YearMonth> {
        YearMonth::parse_uke(&self.re.month)
    }
    pub fn birth_date(&self) -> Option<Date> {
        parse_uke_date(&self.re.birth_date)
    }
    /// Group the SI/IY/TO lines into 点数・回数算定単位. CO lines do not belong to units.
    pub fn units(&self) -> Vec<Unit> {
        let mut units: Vec<Unit> = Vec::new();
        let mut shikibetsu = String::new();
        let mut open: Option<Unit> = None;
        for (i, it) in self.items.iter().enumerate() {
            let v = it.view();
            if !v.shikibetsu.is_empty() {
                shikibetsu = v.shikibetsu.to_string();
            }
            let (Some(points), Some(count), Some(days)) = (v.points, v.count, v.days) else { continue };
            // A line with a different 診療識別 starts a new unit even if the open one never got
            // its 点数 (the checker reports that unit as not closed).
            if !v.shikibetsu.is_empty() && open.as_ref().is_some_and(|u| u.shikibetsu != v.shikibetsu) {
                if let Some(u) = open.take() {
                    units.push(u);
                }
            }
            let u = open.get_or_insert_with(|| Unit {
                shikibetsu: shikibetsu.clone(),
                futan: v.futan.to_string(),
                items: Vec::new(),
                points: None,
                count: 0,
                days: Vec::new(),
                first_line: v.line,
                last_line: v.line,
                closed: false,
            });
            u.items.push(i);
            u.last_line = v.line;
            u.count = count.value().unwrap_or(0);
            u.days = (1..=31).map(|d| days.get(d)).collect();
            if !points.is_empty() {
                u.points = points.value();
                u.closed = true;
                if let Some(u) = open.take() {
                    units.push(u);
                }
            }
        }
        if let Some(u) = open.take() {
            units.push(u);
        }
        units
    }
    /// Σ 点数×回数 per payer: index 0 = 医保, 1..=4 = 第1..4公費 (記録条件仕様 別表21; DOMAIN §5.4).
    pub fn computed_points(&self) -> [u64; 5] {
        let mut t = [0u64; 5];
        for u in self.units() {
            let mask = futan_payers(&u.futan).unwrap_or(0);
            for (b, slot) in t.iter_mut().enumerate() {
                if mask & (1 << b) != 0 {
                    *slot = slot.saturating_add(u.amount());
                }
            }
        }
        t
    }
    /// 主保険 points as recorded: HO 合計点数, or the first KO's for 公費単独 (第1章 3(4)ク 注).
    pub fn main_points(&self) -> u64 {
        match (&self.ho, self.ko.first()) {
            (Some(h), _) => h.points.value().unwrap_or(0),
            (None, Some(k)) => k.points.value().unwrap_or(0),
            _ => 0,
        }
    }
    /// レセプト件数 for GO 総件数: 1 per HO plus 1 per KO (第1章 3(4)ク 注 table).
    pub fn claim_count(&self) -> u64 {
        u64::from(self.ho.is_some()) + self.ko.len() as u64
    }
}

/// A whole UKE file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimFile {
    pub ir: Ir,
    pub receipts: Vec<Receipt>,
    pub go: Go,
}

impl ClaimFile {
    /// Set every HO/KO 合計点数 from the units and GO 総件数/総合計点数 from the receipts (for
    /// files built in memory before writing).
    pub fn recompute_totals(&mut self) {
        let (mut count, mut points) = (0u64, 0u64);
        for r in &mut self.receipts {
            let t = r.computed_points();
            if let Some(h) = &mut r.ho {
                h.points = Num::new(t[0]);
            }
            for (i, k) in r.ko.iter_mut().enumerate() {
                k.points = Num::new(t.get(i + 1).copied().unwrap_or(0));
            }
            count += r.claim_count();
            points += r.main_points();
        }
        self.go.total_count = Num::new(count);
        self.go.total_points = Num::new(points);
    }
}
