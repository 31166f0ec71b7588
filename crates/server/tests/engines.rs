//! The engine routes over real HTTP, for every backend (SQLite; PostgreSQL when
//! `SANTEI_TEST_POSTGRES_URL` is set — required under CI): `POST /v1/calculate`,
//! `POST /v1/uke/check`, `POST /v1/claims/{month}/uke`, `POST /api01rv2/acsimulatev2`.

mod common;
use common::*;
use serde_json::{json, Map, Value};

const HOURS: &str = r#"{"mon": [["09:00","12:30"],["14:00","18:00"]], "tue": [["09:00","12:30"],["14:00","18:00"]],
  "wed": [["09:00","12:30"]], "thu": [["09:00","12:30"],["14:00","18:00"]], "fri": [["09:00","12:30"],["14:00","18:00"]],
  "sat": [["09:00","12:30"]]}"#;

/// A typical single visit (再診 + CRP + a week of an internal drug), on a Monday, in the sample
/// master's validity.
fn single_visit() -> Value {
    json!({
        "institution": {"kind": "clinic", "posted_hours": serde_json::from_str::<Value>(HOURS).unwrap(), "pharmacist": true},
        "patient": {"birth_date": "1960-04-01", "sex": "1"},
        "date": "2024-06-03", "time": "10:00", "consultation": "revisit",
        "orders": [
            {"type": "procedure", "code": "160095710"},
            {"type": "prescription", "dispensing": "in_house", "category": "internal", "days": 7,
             "drugs": [{"code": "620098801", "quantity": 3}]}
        ]
    })
}

/// The same care as a patient-month.
fn month_of(v: &Value) -> Value {
    let mut m = v.as_object().unwrap().clone();
    let mut visit = Map::new();
    for k in ["date", "time", "consultation", "orders"] {
        visit.insert(k.into(), m.remove(k).unwrap());
    }
    m.insert("month".into(), json!("2024-06"));
    m.insert("visits".into(), json!([visit]));
    Value::Object(m)
}

fn expected(month: &Value, explain: bool) -> Value {
    let store = santei_master::sample::store().unwrap();
    let input = santei_calc::PatientMonth::from_json(&month.to_string()).unwrap();
    santei_calc::calculate(&store, &input).unwrap().to_json(explain)
}

#[test]
fn engine_routes() {
    for b in backends() {
        calculate_on(&b);
        uke_check_on(&b);
        claims_on(&b);
        orca_on(&b);
    }
}

fn calculate_on(b: &Backend) {
    let s = start(b);
    let (_, token) = s.tenant("計算テスト");
    let tok = Some(token.as_str());
    let month = month_of(&single_visit());
    let want = expected(&month, false);
    assert!(want["total_points"].as_i64().unwrap() > 0 && want["warnings"].as_array().unwrap().is_empty(), "{want}");

    // A patient-month and the same single visit give exactly what santei_calc::calculate gives.
    let r = s.call("POST", "/v1/calculate", tok, Some(&month));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), want);
    let r = s.call("POST", "/v1/calculate", tok, Some(&single_visit()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), want);
    assert!(r.text().find("\"explain\"").is_none(), "no provenance without explain");
    let r = s.call("POST", "/v1/calculate?explain=true", tok, Some(&single_visit()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), expected(&month, true));
    assert!(r.json()["units"][0]["lines"][0]["explain"].is_object(), "{}", r.text());

    // A master reload rebuilds the index with the store; calculations go on with the same result.
    let before = s.state.engines.loaded().unwrap();
    assert_eq!(s.call("POST", "/v1/admin/master/reload", Some(OPERATOR), None).status, 200);
    let after = s.state.engines.loaded().unwrap();
    assert!(!std::sync::Arc::ptr_eq(&before, &after) && !std::sync::Arc::ptr_eq(before.store(), after.store()));
    assert!(std::sync::Arc::ptr_eq(after.store(), &s.state.engines.master().unwrap()));
    assert_eq!(s.call("POST", "/v1/calculate", tok, Some(&single_visit())).json(), want);

    // Without `institution`, the calling tenant is the institution.
    let mut v = single_visit();
    v.as_object_mut().unwrap().remove("institution");
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["total_points"].as_i64().unwrap() > 0);

    // Bad input: 4xx with the error body, the field named.
    let h = [("Authorization", format!("Bearer {token}")), ("Content-Type", "application/json".to_string())];
    let hh: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_error(&s.raw("POST", "/v1/calculate", &hh, Some(b"{\"date\": ")), 400, "malformed_json");
    assert_error(&s.raw("POST", "/v1/calculate", &hh, Some(b"[1, 2]")), 422, "invalid_json_shape");
    assert_error(&s.call("POST", "/v1/calculate", tok, None), 415, "unsupported_media_type");
    let mut v = single_visit();
    v["orders"][0]["code"] = json!(160095710);
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_error(&r, 422, "invalid_json_shape");
    assert_eq!(r.json()["error"]["details"]["field"], "orders[0].code");
    let mut v = month_of(&single_visit());
    v["institution"]["beds"] = json!("many");
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_error(&r, 422, "invalid_json_shape");
    assert_eq!(r.json()["error"]["details"]["field"], "institution.beds");
    let mut v = single_visit();
    v["orders"][1]["days"] = json!(0);
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_error(&r, 422, "invalid_input");
    assert_eq!(r.json()["error"]["details"]["field"], "orders[1].days", "{}", r.text());
    let mut v = single_visit();
    v["date"] = json!("2024-02-30");
    assert_error(&s.call("POST", "/v1/calculate", tok, Some(&v)), 422, "invalid_input");
    assert_error(&s.call("POST", "/v1/calculate", tok, Some(&json!({"patient": {}}))), 422, "invalid_field");
    let mut v = month_of(&single_visit());
    v["date"] = json!("2024-06-03");
    assert_error(&s.call("POST", "/v1/calculate", tok, Some(&v)), 422, "invalid_field");
    // Unknown code / code not valid on the date of care.
    let mut v = single_visit();
    v["orders"][0]["code"] = json!("199999999");
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_error(&r, 422, "code_not_found");
    assert_eq!(r.json()["error"]["details"]["field"], "orders[0]");
    assert_eq!(r.json()["error"]["details"]["code"], "199999999");
    let mut v = single_visit();
    v["date"] = json!("1999-06-03");
    let r = s.call("POST", "/v1/calculate", tok, Some(&v));
    assert_error(&r, 422, "date_not_covered");
    assert_eq!(r.json()["error"]["details"]["field"], "date");
    assert_error(&s.call("POST", "/v1/calculate?explain=maybe", tok, Some(&single_visit())), 400, "invalid_query");
    // Authentication.
    assert_error(&s.call("POST", "/v1/calculate", None, Some(&single_visit())), 401, "unauthorized");
    assert_error(&s.call("POST", "/v1/calculate", Some("santei_nope"), Some(&single_visit())), 401, "unauthorized");
}

fn uke(go: &str) -> Vec<u8> {
    uke_with("112007410", go)
}

fn uke_with(code: &str, go: &str) -> Vec<u8> {
    let text = format!(
        "IR,1,13,1,1234567,,テスト,202406,00,\r\nRE,1,1112,202406,山田　太郎,1,19800115,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n\
HO,01130012,1,1,1,75,,,,,,,,,\r\nSY,0000999,20240603,1,,,01,\r\nSI,12,1,{code},,75,1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n{go}\r\n\u{1A}"
    );
    santei_core::sjis::encode(&text).unwrap()
}

fn uke_check_on(b: &Backend) {
    let s = start(b);
    let (_, tok) = s.tenant("UKEテスト");
    let auth = format!("Bearer {tok}");
    let h = [("Authorization", auth.as_str()), ("Content-Type", "application/octet-stream")];
    let catalog = santei_uke::StoreCatalog::new(santei_master::sample::store().unwrap());
    let opts = santei_uke::CheckOptions { catalog: Some(&catalog) };
    for (go, name) in [("GO,1,75,99", "good.UKE"), ("GO,1,76,99", "bad.UKE")] {
        let bytes = uke(go);
        let r = s.raw("POST", &format!("/v1/uke/check?name={name}"), &h, Some(&bytes));
        assert_eq!(r.status, 200, "{}", r.text());
        // The per-file object of `santei uke check --json`, master checks included.
        let want = serde_json::to_value(santei_uke::check_bytes(&bytes, name, &opts)).unwrap();
        assert_eq!(r.json(), want);
        assert_eq!(r.json()["path"], name);
    }
    let r = s.raw("POST", "/v1/uke/check", &h, Some(&uke("GO,1,76,99")));
    assert!(r.json()["errors"].as_array().unwrap().iter().any(|e| e["code"] == "U308"), "{}", r.text());
    // A code the master does not know (U401) is found through the master catalog.
    let r = s.raw("POST", "/v1/uke/check", &h, Some(&uke_with("119999999", "GO,1,75,99")));
    assert!(r.json()["errors"].as_array().unwrap().iter().any(|e| e["code"] == "U401"), "{}", r.text());
    // Not a UKE file: a report with the fatal finding, not a server error.
    let r = s.raw("POST", "/v1/uke/check", &h, Some(b"hello"));
    assert_eq!(r.status, 200);
    assert!(!r.json()["errors"].as_array().unwrap().is_empty());
    // Above the 1 MiB JSON limit is fine for this route; above 32 MiB is 413.
    let big = vec![b'A'; 2 << 20];
    assert_eq!(s.raw("POST", "/v1/uke/check", &h, Some(&big)).status, 200);
    let huge = vec![b'A'; (32 << 20) + 1];
    assert_error(&s.raw("POST", "/v1/uke/check", &h, Some(&huge)), 413, "body_too_large");
    // Wrong content type, bad name, no credentials.
    assert_error(&s.raw("POST", "/v1/uke/check", &[("Authorization", auth.as_str()), ("Content-Type", "application/json")], Some(b"{}")), 415, "unsupported_media_type");
    assert_error(&s.raw("POST", "/v1/uke/check?name=", &h, Some(b"x")), 422, "invalid_field");
    assert_error(&s.raw("POST", "/v1/uke/check", &[("Content-Type", "application/octet-stream")], Some(&uke("GO,1,75,99"))), 401, "unauthorized");
}

/// RFC 4648 base64 decoding (test helper).
fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk.iter().fold(0u32, |n, &c| (n << 6) | val(c));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

fn claims_on(b: &Backend) {
    let s = start(b);
    let (_, ta) = s.tenant("請求A");
    let (_, tb) = s.tenant("請求B");
    let (_, tc) = s.tenant("請求C");
    let patient = |tok: &str, n: &str| -> String {
        let r = s.call("POST", "/v1/patients", Some(tok), Some(&json!({"number": n, "name": "山田太郎", "kana": "ヤマダ タロウ", "birth_date": "1960-04-01", "sex": 1})));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    };
    let order = || {
        let mut m = month_of(&single_visit());
        m.as_object_mut().unwrap().remove("institution");
        m.as_object_mut().unwrap().remove("patient");
        m["diagnoses"] = json!([{"code": "4659007", "start_date": "2024-06-03", "main": true}]);
        m
    };
    let store_visit = |tok: &str, pid: &str, month: &str, order: Value| -> String {
        let r = s.call("POST", &format!("/v1/patients/{pid}/visits"), Some(tok), Some(&json!({"month": month, "order": order})));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    };
    // 協会けんぽ 東京 (01130012), 本人, valid through the month: what the claim's HO record needs.
    let insure = |tok: &str, pid: &str| {
        let body = json!({"kind": "insurance", "insurer_number": "01130012", "symbol": "12345678", "number": "123", "relationship": 1, "valid_from": "2024-01-01"});
        let r = s.call("POST", &format!("/v1/patients/{pid}/insurances"), Some(tok), Some(&body));
        assert_eq!(r.status, 201, "{}", r.text());
    };
    let pa = patient(&ta, "A-1");
    insure(&ta, &pa);
    store_visit(&ta, &pa, "2024-06", order());
    let pb = patient(&tb, "B-1");
    insure(&tb, &pb);
    store_visit(&tb, &pb, "2024-06", order());
    let pb2 = patient(&tb, "B-2");
    insure(&tb, &pb2);
    store_visit(&tb, &pb2, "2024-06", order());
    store_visit(&tb, &pb2, "2024-07", order()); // another month: not read
    // Each tenant's claims read its own patient-months only: one 社保 file (協会けんぽ → 支払基金)
    // whose receipts are that tenant's patients, and which checks clean.
    let uke_of = |r: &santei_server::http_client::HttpResponse| -> Vec<u8> {
        assert_eq!(r.status, 200, "{}", r.text());
        let files = r.json()["files"].as_array().unwrap().clone();
        assert_eq!(files.len(), 1, "{}", r.text());
        assert_eq!(files[0]["payer"], "1");
        b64(files[0]["content_base64"].as_str().unwrap())
    };
    let a_file = uke_of(&s.call("POST", "/v1/claims/2024-06/uke", Some(&ta), None));
    let b_file = uke_of(&s.call("POST", "/v1/claims/2024-06/uke", Some(&tb), None));
    let a_text = santei_core::sjis::decode(&a_file, "a").unwrap();
    let b_text = santei_core::sjis::decode(&b_file, "b").unwrap();
    assert_eq!(a_text.lines().filter(|l| l.starts_with("RE,")).count(), 1, "{a_text}");
    assert_eq!(b_text.lines().filter(|l| l.starts_with("RE,")).count(), 2, "{b_text}");
    assert!(a_text.contains("A-1") && !a_text.contains("B-1"), "{a_text}");
    let report = santei_uke::check_bytes(&b_file, "b", &santei_uke::CheckOptions::default());
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    // A tenant without patient-months that month: 404.
    assert_error(&s.call("POST", "/v1/claims/2024-06/uke", Some(&tc), None), 404, "not_found");
    // A stored order that does not calculate: 422 naming the visit and the field.
    let pc = patient(&tc, "C-1");
    let mut bad = order();
    bad["visits"][0]["orders"][1]["days"] = json!(0);
    let vid = store_visit(&tc, &pc, "2024-06", bad);
    let r = s.call("POST", "/v1/claims/2024-06/uke", Some(&tc), None);
    assert_error(&r, 422, "invalid_input");
    assert_eq!(r.json()["error"]["details"]["visit_id"], vid.as_str());
    assert_eq!(r.json()["error"]["details"]["field"], "visits[0].orders[1].days");
    // … and does not affect another tenant.
    assert_eq!(s.call("POST", "/v1/claims/2024-06/uke", Some(&ta), None).status, 200);
    assert_error(&s.call("POST", "/v1/claims/2024-13/uke", Some(&ta), None), 422, "invalid_field");
    assert_error(&s.call("POST", "/v1/claims/2024-06/uke", None, None), 401, "unauthorized");
}

fn orca_on(b: &Backend) {
    let s = start(b);
    let (_, tok) = s.tenant("ORCA互換");
    let tok = Some(tok.as_str());
    let r = s.call("POST", "/v1/patients", tok, Some(&json!({"number": "00012", "name": "山田太郎", "kana": "ヤマダ タロウ", "birth_date": "1960-04-01", "sex": 1})));
    assert_eq!(r.status, 201, "{}", r.text());
    let req = json!({"acsimulatereq": {
        "Patient_ID": "00012",
        "Perform_Date": "2024-06-03",
        "Perform_Time": "10:00:00",
        "Medical_Information": {"Department_Code": "01", "Medical_Info": [
            {"Medical_Class": "120", "Medical_Class_Number": "1", "Medication_info": [{"Medication_Code": "112007410", "Medication_Number": "1"}]},
            {"Medical_Class": "600", "Medical_Class_Number": "1", "Medication_info": [{"Medication_Code": "160095710", "Medication_Number": "1"}]},
            {"Medical_Class": "210", "Medical_Class_Number": "7", "Medication_info": [{"Medication_Code": "620098801", "Medication_Number": "3"}]}
        ]}
    }});
    let r = s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&req));
    assert_eq!(r.status, 200, "{}", r.text());
    let res = &r.json()["acsimulateres"];
    assert_eq!(res["Api_Result"], "00");
    // Same care through the santei input, with the tenant's institution (posted hours: mon 09–12, 14–18).
    let mut v = single_visit();
    v["institution"] = json!({"kind": "clinic", "posted_hours": {"mon": [["09:00", "12:00"], ["14:00", "18:00"]]}});
    v["orders"] = json!([{"type": "procedure", "code": "160095710", "count": "1"},
                         {"type": "prescription", "dispensing": "in_house", "category": "internal", "days": "7", "drugs": [{"code": "620098801", "quantity": "3"}]}]);
    let want = expected(&month_of(&v), false);
    assert_eq!(res["Ac_Point_Information"]["Ac_Ttl_Point"], want["total_points"].as_i64().unwrap().to_string(), "{}", r.text());
    let detail_sum: i64 = res["Ac_Point_Information"]["Ac_Point_Detail"].as_array().unwrap().iter().map(|d| d["Ac_Point"].as_str().unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(detail_sum, want["total_points"].as_i64().unwrap());
    assert_eq!(res["Ac_Money_Information"]["Ac_Ttl_Money"], (want["total_points"].as_i64().unwrap() * 10).to_string());
    assert_eq!(res["Patient_Information"]["Patient_ID"], "00012");
    assert!(res["Medical_Information"].as_array().unwrap().iter().any(|m| m["Medical_Class"] == "60"), "{}", r.text());
    // The 再診料 code sent is not billed twice: the engine derives it (warning says so).
    assert!(res["Api_Warning_Message_Information"].as_array().unwrap().iter().any(|w| w["Api_Warning_Message"].as_str().unwrap().starts_with("112007410")));

    // Unregistered patient by Patient_Information.
    let mut unreg = req.clone();
    unreg["acsimulatereq"].as_object_mut().unwrap().remove("Patient_ID");
    unreg["acsimulatereq"]["Patient_Information"] = json!({"BirthDate": "1960-04-01", "Sex": "1"});
    let r = s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&unreg));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["acsimulateres"]["Ac_Point_Information"]["Ac_Ttl_Point"], want["total_points"].as_i64().unwrap().to_string());

    // Errors: santei's error body plus acsimulateres with Api_Result ≠ "00".
    let mut nobody = req.clone();
    nobody["acsimulatereq"]["Patient_ID"] = json!("99999");
    let r = s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&nobody));
    assert_error(&r, 404, "not_found");
    assert_eq!(r.json()["acsimulateres"]["Api_Result"], "10");
    let mut inpatient = req.clone();
    inpatient["acsimulatereq"]["Medical_Information"]["Medical_Info"][0]["Medical_Class"] = json!("900");
    let r = s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&inpatient));
    assert_error(&r, 422, "invalid_field");
    assert_eq!(r.json()["acsimulateres"]["Api_Result"], "S3");
    assert_eq!(r.json()["error"]["details"]["field"], "Medical_Information.Medical_Info[0].Medical_Class");
    let mut unknown = req.clone();
    unknown["acsimulatereq"]["Medical_Information"]["Medical_Info"][1]["Medication_info"][0]["Medication_Code"] = json!("169999999");
    let r = s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&unknown));
    assert_error(&r, 422, "code_not_found");
    assert_eq!(r.json()["acsimulateres"]["Api_Result"], "S9");
    let mut types = req.clone();
    types["acsimulatereq"]["Medical_Information"]["Medical_Info"] = json!("x");
    assert_error(&s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&types)), 422, "invalid_field");
    assert_error(&s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&json!({"medicalreq": {}}))), 422, "invalid_field");
    assert_error(&s.call("POST", "/api01rv2/acsimulatev2", None, Some(&req)), 401, "unauthorized");
}

/// The engine routes are documented with request and response schemas (the route-coverage test in
/// tests/api.rs checks paths only).
#[test]
fn openapi_documents_engine_routes() {
    let doc: Value = serde_json::from_str(santei_server::api::ops::OPENAPI).expect("openapi.json parses");
    let refs = [
        ("/v1/calculate", Some(("application/json", "CalcInput")), "CalcResult"),
        ("/v1/uke/check", None, "UkeReport"),
        ("/v1/claims/{month}/uke", None, "ClaimsResult"),
        ("/api01rv2/acsimulatev2", Some(("application/json", "OrcaAcsimulateReq")), "OrcaAcsimulateRes"),
    ];
    for (path, req, res) in refs {
        let op = &doc["paths"][path]["post"];
        assert!(!op["description"].as_str().unwrap_or("").contains("Not yet wired"), "{path}");
        if let Some((ct, schema)) = req {
            assert_eq!(op["requestBody"]["content"][ct]["schema"]["$ref"], format!("#/components/schemas/{schema}"), "{path}");
        }
        assert_eq!(op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"], format!("#/components/schemas/{res}"), "{path}");
        assert!(doc["components"]["schemas"][res].is_object(), "{res}");
    }
    assert_eq!(doc["paths"]["/v1/uke/check"]["post"]["requestBody"]["content"]["application/octet-stream"]["schema"]["format"], "binary");
    let codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["description"].as_str().unwrap();
    for c in ["invalid_input", "date_not_covered", "code_not_found"] {
        assert!(codes.contains(c), "{c} listed in the Error schema");
    }
}
