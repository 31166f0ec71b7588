//! Golden cases: every `tests/golden/*.json` is {rule, input, expected}; the expected units and
//! points were derived by hand (see tests/golden/make_cases.py). Runs on the bundled sample master.

use santei_calc::{calculate, PatientMonth};
use serde_json::Value;
use std::collections::BTreeMap;

type UnitKey = (String, Vec<String>, i64, i64, BTreeMap<String, i64>);

fn expected_units(e: &Value) -> Vec<UnitKey> {
    let mut v: Vec<UnitKey> = e["units"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| {
                    (
                        u["shinryo_shikibetsu"].as_str().unwrap_or("").to_string(),
                        u["codes"]
                            .as_array()
                            .map(|c| c.iter().map(|x| x.as_str().unwrap_or("").to_string()).collect())
                            .unwrap_or_default(),
                        u["points"].as_i64().unwrap_or(-1),
                        u["count"].as_i64().unwrap_or(-1),
                        u["days"]
                            .as_object()
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(-1))).collect())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn golden_cases() {
    let store = santei_master::sample::store().expect("sample master");
    let engine = santei_calc::Engine::new(&store);
    // Relative: cargo runs a test binary in its package directory, so the path is the checkout's
    // under test even when the build cache was filled from another checkout.
    let dir = std::path::Path::new("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "at least 40 golden cases, found {}", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(case["rule"].as_str().is_some_and(|r| !r.is_empty()), "{name}: every case cites its rule");
        let input: PatientMonth = serde_json::from_value(case["input"].clone()).unwrap_or_else(|e| panic!("{name}: input: {e}"));
        let exp = &case["expected"];
        let result = calculate(&store, &input);
        if let Some(fields) = exp["error_fields"].as_array() {
            match result {
                Ok(_) => failures.push(format!("{name}: expected an error")),
                Err(e) => {
                    for fl in fields {
                        let fl = fl.as_str().unwrap_or("");
                        if !e.errors.iter().any(|x| x.field.as_deref() == Some(fl)) {
                            failures.push(format!("{name}: no error on {fl}: {e}"));
                        }
                    }
                }
            }
            continue;
        }
        let out = match result {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: unexpected error {e}"));
                continue;
            }
        };
        let mut got: Vec<UnitKey> = out
            .units
            .iter()
            .map(|u| {
                (
                    u.shinryo_shikibetsu.clone(),
                    u.lines.iter().map(|l| l.code.clone()).collect(),
                    u.points,
                    u.count,
                    u.days.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                )
            })
            .collect();
        got.sort();
        let want = expected_units(exp);
        if got != want {
            failures.push(format!(
                "{name} ({}):\n  want {want:?}\n  got  {got:?}\n  warnings {:?}",
                case["rule"],
                out.warnings.iter().map(|w| w.code).collect::<Vec<_>>()
            ));
        }
        if out.total_points != exp["total_points"].as_i64().unwrap_or(-1) {
            failures.push(format!("{name}: total {} ≠ {}", out.total_points, exp["total_points"]));
        }
        // The indexed engine gives the same result as the store path.
        let via_engine = engine
            .calculate(&input)
            .map(|o| serde_json::to_string(&o.to_json(true)).unwrap_or_default())
            .unwrap_or_default();
        if via_engine != serde_json::to_string(&out.to_json(true)).unwrap_or_default() {
            failures.push(format!("{name}: Engine result differs from calculate()"));
        }
        let sum: i64 = out.units.iter().map(|u| u.points * u.count).sum();
        let days: i64 = out.days.iter().map(|d| d.points).sum();
        let visits: i64 = out.visits.iter().map(|d| d.points).sum();
        if sum != out.total_points || days != out.total_points || visits != out.total_points {
            failures.push(format!(
                "{name}: totals disagree (units {sum}, days {days}, visits {visits}, total {})",
                out.total_points
            ));
        }
        for u in &out.units {
            if u.days.values().sum::<i64>() != u.count {
                failures.push(format!("{name}: 回数 ≠ Σ days in {u:?}"));
            }
        }
        if let Some(ws) = exp["warnings_include"].as_array() {
            for w in ws {
                let w = w.as_str().unwrap_or("");
                if !out.warnings.iter().any(|x| x.code == w) {
                    failures.push(format!("{name}: missing warning {w}; got {:?}", out.warnings));
                }
            }
        }
        if let Some(days) = exp["days"].as_array() {
            let got: Vec<(String, i64)> = out.days.iter().map(|d| (d.date.clone(), d.points)).collect();
            let want: Vec<(String, i64)> = days
                .iter()
                .map(|d| (d["date"].as_str().unwrap_or("").to_string(), d["points"].as_i64().unwrap_or(-1)))
                .collect();
            if got != want {
                failures.push(format!("{name}: days {got:?} ≠ {want:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
