//! Property tests: points are never negative; adding an order never lowers the total, except
//! where a 包括/逓減 rule says so: D007 注 包括 (the 5th 包括対象検査 item replaces the items' sum),
//! F200 注2 7種類以上 (100分の90, 処方料 2), A001 注8 (a 処置 removes 外来管理加算).

use proptest::prelude::*;
use santei_calc::input::{Item, Order, PatientMonth, Visit};
use santei_calc::{bench, calculate};
use santei_master::Store;
use std::sync::OnceLock;

fn store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| santei_master::sample::store().unwrap())
}

const NON_BUNDLED: &[&str] = &[
    "160008010",
    "160000310",
    "160054710",
    "160095710",
    "140000610",
    "140022710",
    "130003510",
    "170027910",
    "170000410",
    "113001810",
    "160068410",
];
const BUNDLED: &[&str] = &[
    "160019010",
    "160019210",
    "160019410",
    "160019510",
    "160020010",
    "160020410",
    "160021110",
    "160021410",
    "160022510",
    "160022610",
    "160023410",
    "160167250",
];
const INTERNAL: &[&str] = &[
    "620098801",
    "610407447",
    "620002023",
    "620007853",
    "612320350",
    "613130594",
    "620000094",
    "616130531",
    "610443040",
    "610463120",
    "620257801",
    "621635202",
];

fn order_strategy() -> impl Strategy<Value = Order> {
    prop_oneof![
        (0..NON_BUNDLED.len()).prop_map(|i| Order {
            kind: "procedure".into(),
            code: Some(NON_BUNDLED[i].into()),
            ..Default::default()
        }),
        (0..BUNDLED.len()).prop_map(|i| Order {
            kind: "procedure".into(),
            code: Some(BUNDLED[i].into()),
            ..Default::default()
        }),
        (proptest::collection::vec((0..INTERNAL.len(), 1i64..4), 1..4), 1i64..30, any::<bool>()).prop_map(|(ds, days, out)| Order {
            kind: "prescription".into(),
            dispensing: Some(if out { "outside" } else { "in_house" }.into()),
            category: Some("internal".into()),
            days: Some(days.into()),
            drugs: ds
                .into_iter()
                .map(|(i, q)| Item {
                    code: INTERNAL[i].into(),
                    quantity: Some(q.into())
                })
                .collect(),
            ..Default::default()
        }),
    ]
}

fn month_strategy() -> impl Strategy<Value = PatientMonth> {
    (
        any::<u64>(),
        proptest::collection::vec(proptest::collection::vec(order_strategy(), 0..8), 1..4),
        0u32..23,
        0u32..60,
        1930i32..2024,
    )
        .prop_map(|(seed, orders, h, m, by)| {
            let mut pm = bench::generate(seed);
            pm.patient.birth_date = format!("{by}-03-15");
            pm.visits = orders
                .into_iter()
                .enumerate()
                .map(|(i, o)| Visit {
                    date: format!("2024-06-{:02}", 3 + 7 * i),
                    time: Some(format!("{h:02}:{m:02}")),
                    consultation: if i == 0 { "initial" } else { "revisit" }.into(),
                    orders: o,
                })
                .collect();
            pm
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn points_never_negative(pm in month_strategy()) {
        let out = calculate(store(), &pm).unwrap();
        prop_assert!(out.total_points >= 0);
        for u in &out.units {
            prop_assert!(u.points >= 0 && u.count >= 1, "{u:?}");
        }
        for d in &out.days { prop_assert!(d.points >= 0); }
        for v in &out.visits { prop_assert!(v.points >= 0); }
    }

    #[test]
    fn adding_an_order_never_lowers_the_total(pm in month_strategy(), extra in order_strategy(), at in 0usize..4) {
        let before = calculate(store(), &pm).unwrap();
        let mut more = pm.clone();
        let vi = at % more.visits.len();
        let bundled_extra = extra.code.as_deref().is_some_and(|c| BUNDLED.contains(&c));
        more.visits[vi].orders.push(extra);
        let after = calculate(store(), &more).unwrap();
        // Exceptions: D007 注 包括 — a new 包括対象検査 item can turn the items' sum into the step
        // points; F200 注2 / F100 2 / F400 2 — a 7th 内服 kind reduces 薬剤料 and 処方料/処方箋料.
        let seven = |o: &santei_calc::Outcome| o.units.iter().any(|u| u.lines.iter().any(|l| l.code == "120002610" || l.code == "120002710"));
        let crossed_seven = seven(&after) && !seven(&before);
        // A001 注8: a 処置 etc. (項番56 = 1) removes that day's 外来管理加算 — allowed to lower the
        // total by exactly the 外来管理加算 lost.
        let mgmt = |o: &santei_calc::Outcome| o.units.iter().filter(|u| u.lines.iter().any(|l| l.code == "112011010")).map(|u| u.points * u.count).sum::<i64>();
        let lost = (mgmt(&before) - mgmt(&after)).max(0);
        if !bundled_extra && !crossed_seven {
            prop_assert!(after.total_points + lost >= before.total_points, "{} → {} (外来管理加算 lost {lost})", before.total_points, after.total_points);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(s in "\\PC{0,200}") {
        if let Ok(pm) = PatientMonth::from_json(&s) {
            let _ = calculate(store(), &pm);
        }
    }
}

/// Adding an order can lower the total through two mechanisms, both sanctioned: (1) 包括 of
/// 包括対象検査 (covered above), (2) F200 注2 / F100 2 / F400 2 — a 7th 内服 kind turns the
/// 処方料 42 into 29 and the 薬剤料 into 100分の90 — so the property above would fail on it:
/// check here that the drop is exactly that rule's effect.
#[test]
fn seventh_kind_is_the_only_other_decrease() {
    let json = r#"{"institution":{"kind":"clinic"},"patient":{"birth_date":"1980-01-01"},"month":"2024-06","visits":[{"date":"2024-06-03","consultation":"none","orders":[]}]}"#;
    let mut pm = PatientMonth::from_json(json).unwrap();
    let drugs = ["620098801", "610407447", "620002023", "620007853", "612320350", "616130531", "620000094"];
    for d in &drugs[..6] {
        pm.visits[0].orders.push(Order {
            kind: "prescription".into(),
            dispensing: Some("in_house".into()),
            category: Some("internal".into()),
            days: Some(7.into()),
            drugs: vec![Item {
                code: (*d).into(),
                quantity: Some(3.into()),
            }],
            ..Default::default()
        });
    }
    let six = calculate(store(), &pm).unwrap().total_points;
    pm.visits[0].orders.push(Order {
        kind: "prescription".into(),
        dispensing: Some("in_house".into()),
        category: Some("internal".into()),
        days: Some(7.into()),
        drugs: vec![Item {
            code: drugs[6].into(),
            quantity: Some(3.into()),
        }],
        ..Default::default()
    });
    let seven = calculate(store(), &pm).unwrap().total_points;
    // Per day (3 each): ロキソニン 30.30→3, ムコダイン 30.30→3, カロナール 20.10→2, アムロジピン 30.30→3,
    // ガスター 45.60→5, セフゾン 156.00→16; six kinds: 32×7 + 調剤料 11 + 処方料 42 = 277.
    assert_eq!(six, 277);
    // Seventh (ビオフェルミン 17.10→2) → 100分の90: 5→4.5→5, 16→14.4→14 → 32×7 + 11 + 処方料(7種類) 29 = 264.
    assert_eq!(seven, 264);
}
