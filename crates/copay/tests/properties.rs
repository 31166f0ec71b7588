//! Property tests (issue 4 "Proof"): never negative; insurer + 公費 + patient = cost; the patient
//! never pays more than the ceiling / cap allows; monotonic in points; the window never over-collects.

use proptest::prelude::*;
use santei_copay::kouhi::Kogaku;
use santei_copay::split::{limit, split, PayerId};
use santei_copay::window::{window, Visit, WindowRequest};
use santei_copay::*;
use santei_core::date::YearMonth;
use std::sync::OnceLock;

fn params() -> &'static Params {
    static P: OnceLock<Params> = OnceLock::new();
    P.get_or_init(|| Params::embedded().unwrap())
}

fn patient_strategy() -> impl Strategy<Value = Patient> {
    let u70 = prop::sample::select(vec![IncomeClass::A, IncomeClass::I, IncomeClass::U, IncomeClass::E, IncomeClass::O]);
    let o70 = prop::sample::select(vec![IncomeClass::GenekiIII, IncomeClass::GenekiII, IncomeClass::GenekiI, IncomeClass::Ippan, IncomeClass::TeishotokuII, IncomeClass::TeishotokuI]);
    let o75 = prop::sample::select(vec![IncomeClass::GenekiIII, IncomeClass::Ippan, IncomeClass::IppanII, IncomeClass::TeishotokuI]);
    let age = prop_oneof![
        (Just(AgeClass::Under70), prop::option::weighted(0.9, u70), Just(false), Just(false)),
        (Just(AgeClass::From70To74), prop::option::weighted(0.9, o70), any::<bool>(), Just(false)),
        (Just(AgeClass::From75), prop::option::weighted(0.9, o75), any::<bool>(), any::<bool>()),
    ];
    (age, prop::sample::select(vec![10u32, 20, 30]), any::<bool>(), any::<bool>(), prop::option::weighted(0.15, prop::sample::select(vec![10000i64, 20000])))
        .prop_map(|((age_class, income_class, r75, hairyo), rate, inpatient, multi, tokutei)| {
            let hairyo = hairyo && income_class == Some(IncomeClass::IppanII);
            Patient {
                month: if hairyo || income_class == Some(IncomeClass::IppanII) { YearMonth::new(2023, 4).unwrap() } else { YearMonth::new(2024, 6).unwrap() },
                age_class,
                income_class,
                copay_rate_percent: rate,
                care: if inpatient { Care::Inpatient } else { Care::Outpatient },
                multiple_high_cost: multi,
                reached_75_this_month: r75,
                hairyo_sochi: hairyo,
                tokutei_shippei_cap_yen: tokutei,
            }
        })
}

fn kouhi_strategy(houbetsu: Vec<u8>) -> impl Strategy<Value = KouhiPayer> {
    (
        prop::sample::select(houbetsu),
        prop::option::of(prop::sample::select(vec![0u32, 5, 10, 20, 30])),
        prop::option::of(prop::sample::select(vec![0i64, 1000, 2500, 5000, 10000, 20000, 30000])),
        prop::sample::select(vec![0i64, 0, 1500, 7000]),
    )
        .prop_map(|(houbetsu, rate_percent, monthly_cap_yen, paid_elsewhere_yen)| KouhiPayer { houbetsu, rate_percent, monthly_cap_yen, paid_elsewhere_yen })
}

/// 1–3 bills: 公費 bills first, then at most one insurance-only bill.
fn bills_strategy(houbetsu: Vec<u8>, max_kouhi_bills: usize) -> impl Strategy<Value = Vec<Bill>> {
    (prop::collection::vec((0i64..300_000, kouhi_strategy(houbetsu)), 0..=max_kouhi_bills), prop::option::of(0i64..300_000)).prop_filter_map("at least one bill", |(kb, ins)| {
        let mut v: Vec<Bill> = kb.into_iter().map(|(p, k)| Bill::with_kouhi(p, k)).collect();
        if let Some(p) = ins {
            v.push(Bill::insurance_only(p));
        }
        if v.is_empty() {
            None
        } else {
            Some(v)
        }
    })
}

fn run(p: &Patient, bills: &[Bill]) -> Option<Split> {
    let mp = params().month(p.month).ok()?;
    santei_copay::split::check_month(&mp, p).ok()?;
    // 特定給付 for 低所得 is refused by design (no worked example) — not a property failure.
    split(&mp, &params().kouhi, p, bills, None).ok()
}

const ALL_H: [u8; 9] = [10, 12, 15, 21, 28, 38, 52, 54, 85];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn conservation_and_sign(p in patient_strategy(), bills in bills_strategy(ALL_H.to_vec(), 2)) {
        if let Some(s) = run(&p, &bills) {
            let cost: i64 = bills.iter().map(|b| b.points * 10).sum();
            prop_assert!(s.patient_total_yen >= 0);
            for pa in &s.payers {
                prop_assert!(pa.pays_yen >= 0 && pa.remaining_after_yen >= 0, "{:?}", pa);
                prop_assert_eq!(pa.pays_yen + pa.remaining_after_yen, pa.charged_yen);
            }
            let paid: i64 = s.payers.iter().map(|x| x.pays_yen).sum();
            prop_assert_eq!(paid + s.patient_total_yen, cost);
            // never more than the rate alone would ask
            let uncapped: i64 = bills.iter().map(|b| {
                let c = b.points * 10;
                let mut r = santei_copay::split::rate_amount(c, p.copay_rate_percent as i64, 10);
                for k in &b.kouhi { if let Some(x) = k.rate_percent { r = r.min(santei_copay::split::rate_amount(c, x as i64, 10)); } }
                r
            }).sum();
            prop_assert!(s.patient_total_yen <= uncapped);
        }
    }

    #[test]
    fn kouhi_caps_hold(p in patient_strategy(), bills in bills_strategy(ALL_H.to_vec(), 3)) {
        if let Some(s) = run(&p, &bills) {
            for pa in &s.payers {
                if let PayerId::Kouhi(h) = pa.payer {
                    let k = bills.iter().flat_map(|b| &b.kouhi).find(|k| k.houbetsu == h).unwrap();
                    if let Some(cap) = k.monthly_cap_yen {
                        prop_assert!(pa.remaining_after_yen <= (cap - k.paid_elsewhere_yen).max(0), "{:?} cap {}", pa, cap);
                    }
                }
            }
        }
    }

    /// With at most one 公費 bill whose program uses the patient's own class, the patient pays at
    /// most the ceiling on the whole cost — plus, under 70, a 公費 receipt below the 21,000円 合算 line.
    #[test]
    fn patient_within_ceiling(p in patient_strategy(), bills in bills_strategy(vec![12, 52, 54, 85], 1)) {
        prop_assume!(p.income_class.is_some() || p.tokutei_shippei_cap_yen.is_some());
        if let Some(s) = run(&p, &bills) {
            let mp = params().month(p.month).unwrap();
            let cost: i64 = bills.iter().map(|b| b.points * 10).sum();
            let (l, _) = limit(&mp, &p, p.income_class, cost).unwrap().unwrap();
            let mut bound = l;
            if p.age_class == AgeClass::Under70 {
                for pa in &s.payers {
                    if matches!(pa.payer, PayerId::Kouhi(_)) && pa.charged_yen < 21000 {
                        bound += pa.remaining_after_yen;
                    }
                }
            }
            prop_assert!(s.patient_total_yen <= bound, "patient {} > bound {}", s.patient_total_yen, bound);
            let _ = Kogaku::Normal;
        }
    }

    #[test]
    fn monotonic_in_points(p in patient_strategy(), bills in bills_strategy(ALL_H.to_vec(), 2), extra in 0i64..50_000) {
        // more insurance-only care never lowers what the patient pays
        if let Some(a) = run(&p, &bills) {
            let mut more = bills.clone();
            match more.iter_mut().find(|b| b.kouhi.is_empty()) {
                Some(b) => b.points += extra,
                None => more.push(Bill::insurance_only(extra)),
            }
            if let Some(b) = run(&p, &more) {
                prop_assert!(b.patient_total_yen >= a.patient_total_yen, "{} < {}", b.patient_total_yen, a.patient_total_yen);
            }
        }
    }

    #[test]
    fn single_bill_monotonic(p in patient_strategy(), pts in 0i64..300_000, k in prop::option::of(kouhi_strategy(ALL_H.to_vec())), extra in 0i64..50_000) {
        let bills = vec![match k { Some(k) => Bill::with_kouhi(pts, k), None => Bill::insurance_only(pts) }];
        if let Some(a) = run(&p, &bills) {
            let mut more = bills.clone();
            more[0].points += extra;
            if let Some(b) = run(&p, &more) {
                prop_assert!(b.patient_total_yen >= a.patient_total_yen);
            }
        }
    }

    #[test]
    fn window_never_over_collects(p in patient_strategy(), visits in prop::collection::vec((0i64..40_000, any::<bool>()), 1..8), k in kouhi_strategy(vec![21, 54, 52])) {
        let mut p = p;
        p.hairyo_sochi = false;
        let first = p.month.first_day();
        let vs: Vec<Visit> = visits.iter().enumerate().map(|(i, (pts, with_k))| Visit {
            date: first + chrono::Duration::days(i as i64),
            bills: vec![if *with_k { Bill::with_kouhi(*pts, k.clone()) } else { Bill::insurance_only(*pts) }],
        }).collect();
        let req = WindowRequest { patient: p.clone(), earlier_bills: vec![], already_collected_yen: 0, visits: vs.clone() };
        let mp = params().month(p.month).unwrap();
        if let Ok(r) = window(&mp, &params().kouhi, &req) {
            let sum: i64 = r.visits.iter().map(|v| v.yen).sum();
            prop_assert_eq!(sum, r.month_total_yen);
            prop_assert!(r.visits.iter().all(|v| v.yen >= 0));
            // never more than the per-visit rounded amounts …
            let mut uncapped = 0;
            for v in &vs {
                let b = &v.bills[0];
                let c = b.points * 10;
                let mut x = santei_copay::split::rate_amount(c, p.copay_rate_percent as i64, 10);
                for kk in &b.kouhi { if let Some(r) = kk.rate_percent { x = x.min(santei_copay::split::rate_amount(c, r as i64, 10)); } }
                uncapped += x;
            }
            prop_assert!(sum <= uncapped);
            // … and never more than the 公費 cap net of what was paid elsewhere, for 公費-only months
            if vs.iter().all(|v| !v.bills[0].kouhi.is_empty()) {
                if let Some(cap) = k.monthly_cap_yen { prop_assert!(sum <= (cap - k.paid_elsewhere_yen).max(0)); }
            }
            // … and, with no 公費, never more than the ceiling on the month's cost
            if vs.iter().all(|v| v.bills[0].kouhi.is_empty()) {
                let cost: i64 = vs.iter().map(|v| v.bills[0].points * 10).sum();
                if let Some((l, _)) = limit(&mp, &p, p.income_class, cost).unwrap() { prop_assert!(sum <= l, "{} > {}", sum, l); }
            }
        }
    }
}

#[test]
fn absurd_amounts_are_refused_not_wrapped() {
    // Points or yen beyond any real month are an error naming the field — never an overflow.
    let e = santei_copay::case::parse_case(&serde_json::json!({
        "month": "2024-06", "age_class": "under70", "income_class": "ウ", "copay_rate_percent": 30,
        "care": "outpatient", "bills": [{"points": 93_000_000_000_000_000i64, "payers": [{"kind": "insurance"}]}]
    }), "case").and_then(|c| santei_copay::Engine::embedded()?.split(&c, None)).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), ("C027", Some("bills[0].points")));
}
