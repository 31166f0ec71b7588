//! JSON rendering of master entries, shared by `santei master show --json` and the service's
//! `GET /v1/master/…` routes (one contract, one implementation).

use crate::model::Entry;
use crate::Store;
use serde_json::{json, Value};

/// The entry contract: code, kind, name, kana, valid_from, valid_to (null = open), source, then
/// "points" (procedures priced in points) or "price_yen" (decimal string), then all fields.
pub fn entry_json(st: &Store, e: Entry) -> Value {
    let c = e.common();
    let mut v = json!({
        "code": c.code,
        "kind": e.kind().as_str(),
        "name": c.name,
        "kana": c.kana,
        "valid_from": c.valid_from.to_string(),
        "valid_to": if c.valid_to == santei_core::date::OPEN_END { Value::Null } else { Value::String(c.valid_to.to_string()) },
        "source": {"file": st.source_name(c.source), "line": c.source.line, "change": c.change},
    });
    let detail = match e {
        Entry::Procedure(p) => {
            match p.point_kind {
                // 点数識別 3 点数(プラス), 4 購入価格(点数), 7 減点, 8 点数(マイナス): priced in points.
                3 | 4 | 7 | 8 => {
                    let pts = p.points.normalize();
                    v["points"] = if pts.fract().is_zero() { json!(pts.mantissa()) } else { json!(pts.to_string()) };
                }
                1 => v["price_yen"] = json!(p.points.to_string()),
                _ => {}
            }
            serde_json::to_value(p)
        }
        Entry::Drug(d) => {
            v["price_yen"] = json!(d.price.to_string());
            serde_json::to_value(d)
        }
        Entry::Material(m) => {
            v["price_yen"] = json!(m.price.to_string());
            serde_json::to_value(m)
        }
        Entry::Comment(x) => serde_json::to_value(x),
        Entry::Disease(x) => serde_json::to_value(x),
        Entry::Modifier(x) => serde_json::to_value(x),
    };
    if let Ok(Value::Object(mut m)) = detail {
        m.remove("common");
        v["fields"] = Value::Object(m);
    }
    v
}
