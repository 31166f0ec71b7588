//! The inputs of the copay engine: patient classes, payers and bills.

use santei_core::InputError;

/// Age class for copay and 高額療養費 (DOMAIN.md §3.1). Derived from dates by [`crate::age`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgeClass {
    /// 70歳未満 (including children; 未就学 only changes the rate).
    Under70,
    /// 70–74 (高齢受給者).
    From70To74,
    /// 75+ (後期高齢者医療).
    From75,
}

impl AgeClass {
    pub const ALL: [AgeClass; 3] = [AgeClass::Under70, AgeClass::From70To74, AgeClass::From75];
    pub fn code(self) -> &'static str {
        match self {
            AgeClass::Under70 => "under70",
            AgeClass::From70To74 => "70to74",
            AgeClass::From75 => "75plus",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == s)
    }
    pub(crate) fn bit(self) -> u8 {
        match self {
            AgeClass::Under70 => 1,
            AgeClass::From70To74 => 2,
            AgeClass::From75 => 4,
        }
    }
}

/// 所得区分 (DOMAIN.md §3.3). The names are the parameter-file keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IncomeClass {
    A,
    I,
    U,
    E,
    O,
    GenekiIII,
    GenekiII,
    GenekiI,
    Ippan,
    IppanII,
    TeishotokuII,
    TeishotokuI,
}

impl IncomeClass {
    pub const ALL: [IncomeClass; 12] = [
        IncomeClass::A,
        IncomeClass::I,
        IncomeClass::U,
        IncomeClass::E,
        IncomeClass::O,
        IncomeClass::GenekiIII,
        IncomeClass::GenekiII,
        IncomeClass::GenekiI,
        IncomeClass::Ippan,
        IncomeClass::IppanII,
        IncomeClass::TeishotokuII,
        IncomeClass::TeishotokuI,
    ];
    pub fn name(self) -> &'static str {
        match self {
            IncomeClass::A => "ア",
            IncomeClass::I => "イ",
            IncomeClass::U => "ウ",
            IncomeClass::E => "エ",
            IncomeClass::O => "オ",
            IncomeClass::GenekiIII => "現役並みⅢ",
            IncomeClass::GenekiII => "現役並みⅡ",
            IncomeClass::GenekiI => "現役並みⅠ",
            IncomeClass::Ippan => "一般",
            IncomeClass::IppanII => "一般Ⅱ",
            IncomeClass::TeishotokuII => "低所得Ⅱ",
            IncomeClass::TeishotokuI => "低所得Ⅰ",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// 現役並み classes pay 3割 at 70+.
    pub fn is_genekinami(self) -> bool {
        matches!(self, IncomeClass::GenekiIII | IncomeClass::GenekiII | IncomeClass::GenekiI)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Care {
    Inpatient,
    Outpatient,
}

impl Care {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inpatient" => Some(Care::Inpatient),
            "outpatient" => Some(Care::Outpatient),
            _ => None,
        }
    }
}

/// Everything about the patient that the month's split depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    pub month: santei_core::date::YearMonth,
    pub age_class: AgeClass,
    /// `None`: no 所得区分 known at the window (no 限度額適用認定証 / オン資 consent) — no ceiling applies.
    pub income_class: Option<IncomeClass>,
    pub copay_rate_percent: u32,
    pub care: Care,
    pub multiple_high_cost: bool,
    pub reached_75_this_month: bool,
    pub hairyo_sochi: bool,
    pub tokutei_shippei_cap_yen: Option<i64>,
}

/// A 公費 on a bill, as the case (or the 受給者証) gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KouhiPayer {
    /// 法別番号 (00–99).
    pub houbetsu: u8,
    /// Patient share under the program, % of the bill's 10割 cost; `None` = whatever is left.
    pub rate_percent: Option<u32>,
    /// 自己負担上限月額; `None` = no cap.
    pub monthly_cap_yen: Option<i64>,
    /// Already paid this month at other institutions toward a shared cap (上限額管理票).
    pub paid_elsewhere_yen: i64,
}

/// One bill: the month's care billed to one combination of payers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bill {
    pub points: i64,
    /// Health insurance pays first on this bill.
    pub insurance: bool,
    /// 公費 in the order they apply (第1公費, 第2公費 …).
    pub kouhi: Vec<KouhiPayer>,
}

impl Bill {
    pub fn insurance_only(points: i64) -> Self {
        Bill { points, insurance: true, kouhi: Vec::new() }
    }
    pub fn with_kouhi(points: i64, k: KouhiPayer) -> Self {
        Bill { points, insurance: true, kouhi: vec![k] }
    }
}

/// Check a patient's classes against each other (bad input → a clear error, never a guess).
pub fn check_patient(p: &Patient, file: &str) -> Result<(), InputError> {
    if let Some(c) = p.income_class {
        let ok = match p.age_class {
            AgeClass::Under70 => matches!(c, IncomeClass::A | IncomeClass::I | IncomeClass::U | IncomeClass::E | IncomeClass::O),
            AgeClass::From70To74 => !matches!(c, IncomeClass::A | IncomeClass::I | IncomeClass::U | IncomeClass::E | IncomeClass::O | IncomeClass::IppanII),
            AgeClass::From75 => !matches!(c, IncomeClass::A | IncomeClass::I | IncomeClass::U | IncomeClass::E | IncomeClass::O),
        };
        if !ok {
            return Err(InputError::new(
                "C010",
                file,
                format!("所得区分「{}」は年齢区分 {} には存在しません", c.name(), p.age_class.code()),
                format!("income class {} does not exist for age class {}", c.name(), p.age_class.code()),
            )
            .field("income_class"));
        }
    }
    if p.copay_rate_percent > 100 {
        return Err(InputError::new("C011", file, "負担割合は 0〜100 % です", "copay_rate_percent must be 0..=100").field("copay_rate_percent"));
    }
    if let Some(cap) = p.tokutei_shippei_cap_yen {
        if cap > MAX_YEN {
            return Err(too_large(file, "tokutei_shippei_cap_yen".into(), cap, MAX_YEN));
        }
        if cap < 0 {
            return Err(InputError::new("C012", file, "マル長の上限額が負です", "tokutei_shippei_cap_yen is negative").field("tokutei_shippei_cap_yen"));
        }
    }
    if p.reached_75_this_month && p.age_class == AgeClass::Under70 {
        return Err(InputError::new(
            "C013",
            file,
            "75歳到達月は 70歳以上の区分でのみ指定できます",
            "reached_75_this_month needs age class 70to74 or 75plus",
        )
        .field("reached_75_this_month"));
    }
    Ok(())
}

/// Check bills: points ≥ 0, at least one payer, caps/rates in range.
/// Largest points of one bill and largest yen amount accepted: far above any real month (a
/// sanity bound so that yen arithmetic can never overflow an i64), not a tariff value.
pub const MAX_POINTS: i64 = 100_000_000;
pub const MAX_YEN: i64 = 1_000_000_000_000;

fn too_large(file: &str, field: String, v: i64, max: i64) -> InputError {
    InputError::new("C027", file, format!("{field} の値 {v} が大きすぎます(上限 {max})"), format!("{field}: {v} is too large (limit {max})")).field(field)
}

pub fn check_bills(bills: &[Bill], file: &str) -> Result<(), InputError> {
    for (i, b) in bills.iter().enumerate() {
        if b.points > MAX_POINTS {
            return Err(too_large(file, format!("bills[{i}].points"), b.points, MAX_POINTS));
        }
        for (j, k) in b.kouhi.iter().enumerate() {
            let f = format!("bills[{i}].payers[{}]", j + usize::from(b.insurance));
            for (name, v) in [("monthly_cap_yen", k.monthly_cap_yen), ("paid_elsewhere_yen", Some(k.paid_elsewhere_yen))] {
                if let Some(v) = v.filter(|&v| v > MAX_YEN) {
                    return Err(too_large(file, format!("{f}.{name}"), v, MAX_YEN));
                }
            }
        }
        if b.points < 0 {
            return Err(InputError::new("C020", file, format!("bills[{i}] の点数が負です ({})", b.points), format!("bills[{i}]: negative points ({})", b.points))
                .field(format!("bills[{i}].points")));
        }
        if !b.insurance && b.kouhi.is_empty() {
            return Err(InputError::new("C021", file, format!("bills[{i}] に支払者がありません"), format!("bills[{i}] has no payer")).field(format!("bills[{i}].payers")));
        }
        for (j, k) in b.kouhi.iter().enumerate() {
            let f = format!("bills[{i}].payers[{}]", j + usize::from(b.insurance));
            if matches!(k.rate_percent, Some(r) if r > 100) {
                return Err(InputError::new("C022", file, "公費の負担割合は 0〜100 % です", "kouhi rate_percent must be 0..=100").field(format!("{f}.rate_percent")));
            }
            if matches!(k.monthly_cap_yen, Some(c) if c < 0) {
                return Err(InputError::new("C023", file, "公費の上限月額が負です", "kouhi monthly_cap_yen is negative").field(format!("{f}.monthly_cap_yen")));
            }
            // the same 公費 must carry the same terms on every bill (one 受給者証 per program)
            if let Some((pi, pj, other)) = bills[..=i].iter().enumerate().flat_map(|(pi, pb)| pb.kouhi.iter().enumerate().map(move |(pj, o)| (pi, pj, o))).find(|(_, _, o)| o.houbetsu == k.houbetsu) {
                if other != k {
                    return Err(InputError::new(
                        "C026",
                        file,
                        format!("公費 {:02} の条件（割合・上限・他院支払額）が bills[{pi}].payers[{pj}] と異なります", k.houbetsu),
                        format!("kouhi {:02} has different terms (rate, cap, paid elsewhere) than at bills[{pi}].payers[{pj}]", k.houbetsu),
                    )
                    .field(f.clone()));
                }
            }
            if k.paid_elsewhere_yen < 0 {
                return Err(InputError::new("C024", file, "他院での支払額が負です", "paid_elsewhere_yen is negative").field(format!("{f}.paid_elsewhere_yen")));
            }
        }
    }
    Ok(())
}
