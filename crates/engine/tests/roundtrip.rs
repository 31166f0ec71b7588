//! Round trip of generated claims (issue 5 item 5): write → `santei_uke::read_bytes` →
//! `check_bytes` gives zero errors and the same totals as the points engine; read → write is
//! byte-identical. Inputs cover 社保, 国保 (6 digits), 後期 (法別39), 公費 (21, 54, 2 公費) and 公費単独 (12).

use santei_core::date::YearMonth;
use santei_engine::{claim_files, claims, compute, PatientMonthInput, PayerOffice};
use serde_json::{json, Value};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn institution() -> Value {
    json!({"code": "1234567", "prefecture": "13", "name": "テスト内科クリニック", "phone": "03-1234-5678", "kind": "clinic", "beds": 0,
           "posted_hours": {"mon": [["09:00","18:00"]], "tue": [["09:00","18:00"]], "wed": [["09:00","18:00"]], "thu": [["09:00","18:00"]],
                            "fri": [["09:00","18:00"]], "sat": [["09:00","12:00"]], "sun": [], "holiday": []}})
}

/// (insurance, kouhi, birth date, expected office)
fn payers(k: u64) -> (Value, Value, &'static str, PayerOffice) {
    let shaho = json!({"insurer": "01130012", "symbol": "12345678", "number": "7", "branch": "01", "relation": "self"});
    match k {
        0 => (shaho, json!([]), "1980-01-15", PayerOffice::Shaho),
        1 => (json!({"insurer": "133066", "symbol": "A1", "number": "55", "relation": "family"}), json!([]), "1990-07-31", PayerOffice::Kokuho),
        2 => (json!({"insurer": "39131032", "number": "12345678", "income_class": "一般"}), json!([]), "1948-04-02", PayerOffice::Kokuho),
        3 => (shaho, json!([{"futansha": "21136015", "jukyusha": "1234566", "rate_percent": 10, "monthly_cap_yen": 5000}]), "1975-11-20", PayerOffice::Shaho),
        4 => (shaho, json!([{"futansha": "54136015", "jukyusha": "1234566", "monthly_cap_yen": 10000, "paid_elsewhere_yen": 2000}]), "1953-03-10", PayerOffice::Shaho),
        5 => (
            shaho,
            json!([{"futansha": "21136015", "jukyusha": "1234566", "rate_percent": 10, "monthly_cap_yen": 5000}, {"futansha": "54136015", "jukyusha": "1234566", "monthly_cap_yen": 2500}]),
            "1985-02-28",
            PayerOffice::Shaho,
        ),
        _ => (Value::Null, json!([{"futansha": "12131017", "jukyusha": "1234566"}]), "1960-05-05", PayerOffice::Shaho),
    }
}

fn generate(seed: u64) -> (Value, PayerOffice) {
    let mut r = Lcg(seed);
    let (ins, kouhi, birth, office) = payers(seed % 7);
    let mut visits = Vec::new();
    let mut day = 1 + r.next(5);
    let mut first = true;
    while day <= 28 && visits.len() < 5 {
        let mut orders = Vec::new();
        if r.next(2) == 0 {
            orders.push(json!({"type": "procedure", "code": "140000710", "count": 1 + r.next(30)}));
        }
        if r.next(2) == 0 {
            orders.push(json!({"type": "prescription", "dispensing": "in_house", "category": "internal", "days": 1 + r.next(14), "drugs": [{"code": "620098801", "quantity": 3}]}));
        }
        if r.next(3) == 0 {
            orders.push(json!({"type": "test", "code": "160068410"}));
        }
        let consultation = if first { "initial" } else if r.next(5) == 0 { "none" } else { "revisit" };
        first = false;
        visits.push(json!({"date": format!("2025-05-{day:02}"), "time": "10:00", "consultation": consultation, "orders": orders}));
        day += 1 + r.next(9);
    }
    let mut v = json!({
        "institution": institution(),
        "patient": {"id": format!("{seed:05}"), "name": "試験 患者", "kana": "シケン カンジャ", "sex": if seed.is_multiple_of(2) { "male" } else { "female" }, "birth_date": birth},
        "month": "2025-05",
        "diagnoses": [{"code": "4659007", "start_date": "2025-05-01", "main": true, "modifiers": ["8002"]}],
        "kouhi": kouhi,
        "visits": visits,
    });
    if !ins.is_null() {
        v["insurance"] = ins;
    }
    (v, office)
}

#[test]
fn generated_claims_round_trip() {
    let store = santei_master::sample::store().unwrap();
    let month = YearMonth::new(2025, 5).unwrap();
    let mut inputs = Vec::new();
    let mut expected_points = std::collections::BTreeMap::<PayerOffice, (u64, u64)>::new();
    for seed in 0..28u64 {
        let (v, office) = generate(seed);
        let input = PatientMonthInput::from_value(&v, &format!("gen{seed}")).unwrap();
        let c = compute(&store, &input).unwrap();
        let e = expected_points.entry(office).or_default();
        e.0 += c.outcome.total_points as u64;
        e.1 += 1 + input.kouhi.len() as u64 - u64::from(input.insurance.is_none());
        inputs.push(input);
    }
    let typed = claim_files(&store, &inputs, month).unwrap();
    let files = claims(&store, &inputs, month).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files.iter().map(|f| f.0).collect::<Vec<_>>(), vec![PayerOffice::Shaho, PayerOffice::Kokuho]);
    for ((office, bytes), (_, model)) in files.iter().zip(&typed.files) {
        let report = santei_uke::check_bytes(bytes, office.dir_name(), &santei_uke::CheckOptions { catalog: None });
        assert_eq!(report.error_count, 0, "{office:?}: {:?}", report.errors);
        assert!(report.warnings.is_empty(), "{office:?}: {:?}", report.warnings);
        let (cf, diags) = santei_uke::read_bytes(bytes).unwrap();
        assert!(diags.iter().all(|d| !d.is_error()));
        assert_eq!(&cf.ir.payer_org, office.code());
        assert_eq!(cf.ir.claim_month, "202506", "請求年月 = the month after");
        let (points, count) = expected_points[office];
        assert_eq!(report.total_points, points, "{office:?}: Σ 主保険 points = Σ calc totals");
        assert_eq!(cf.go.total_points.value(), Some(points));
        assert_eq!(cf.go.total_count.value(), Some(count));
        for r in &cf.receipts {
            let t = r.computed_points();
            assert_eq!(r.ho.as_ref().map(|h| h.points.value().unwrap()), r.ho.as_ref().map(|_| t[0]));
            for (i, k) in r.ko.iter().enumerate() {
                assert_eq!(k.points.value(), Some(t[i + 1]));
            }
        }
        // read → write reproduces the bytes; the typed model equals what was read (line numbers aside)
        assert_eq!(&santei_uke::write_file(&cf).unwrap(), bytes);
        assert_eq!(model.receipts.len(), cf.receipts.len());
    }
    // routing and レセプト種別 per payer combination (別表5)
    let kinds: Vec<(String, String)> = files
        .iter()
        .flat_map(|(_, b)| santei_uke::read_bytes(b).unwrap().0.receipts.into_iter().map(|r| (r.re.kind.clone(), r.re.tokki.clone())))
        .collect();
    for want in ["1112", "1122", "1132", "1212", "1128", "1318", "1116"] {
        assert!(kinds.iter().any(|(k, _)| k == want), "missing レセプト種別 {want}: {kinds:?}");
    }
    assert!(kinds.iter().any(|(k, t)| k == "1318" && t == "42"), "後期 一般 1割 → 特記 42");
}

#[test]
fn kokuho_fields() {
    let store = santei_master::sample::store().unwrap();
    let (v, _) = generate(1);
    let input = PatientMonthInput::from_value(&v, "gen1").unwrap();
    let files = claims(&store, &[input], YearMonth::new(2025, 5).unwrap()).unwrap();
    assert_eq!(files[0].0, PayerOffice::Kokuho);
    let (cf, _) = santei_uke::read_bytes(&files[0].1).unwrap();
    let r = &cf.receipts[0];
    // 6-digit 国保 number right-aligned in 8 bytes; 給付割合 70 for 3割 (DOMAIN §5.3, §7)
    assert_eq!(r.ho.as_ref().unwrap().insurer_no, "  133066");
    assert_eq!(r.re.benefit_ratio.value(), Some(70));
    assert_eq!(r.re.kind, "1116");
    assert_eq!(cf.ir.payer_org, "2");
}
