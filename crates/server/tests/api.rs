//! End-to-end API tests over real HTTP on loopback, for every backend (SQLite; PostgreSQL when
//! `SANTEI_TEST_POSTGRES_URL` is set — required under CI).

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn patient(number: &str, name: &str) -> Value {
    json!({"number": number, "name": name, "kana": "ヤマダ タロウ", "birth_date": "1960-04-01", "sex": 1})
}

fn insurance() -> Value {
    json!({"kind": "insurance", "insurer_number": "06130012", "symbol": "記号1", "number": "12345", "branch": "01",
           "relationship": 1, "valid_from": "2024-04-01", "valid_to": "2025-03-31", "attributes": {"ratio": 3}})
}

fn visit(month: &str) -> Value {
    json!({"month": month, "order": {"visits": [{"date": format!("{month}-10"), "items": [{"code": "111000110"}]}]}})
}

#[test]
fn every_endpoint() {
    for b in backends() {
        every_endpoint_on(&b);
    }
}

fn every_endpoint_on(b: &Backend) {
    let s = start(b);
    // Open operations routes.
    let r = s.call("GET", "/healthz", None, None);
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("ok")));
    let r = s.call("GET", "/readyz", None, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["schema_version"], 1);
    assert_eq!(r.json()["audit"], "ok");
    let r = s.call("GET", "/openapi.json", None, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["openapi"], "3.1.0");
    let r = s.call("GET", "/docs", None, None);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("/openapi.json") && !r.text().contains("http://") && !r.text().contains("https://"));

    // Tenants.
    let (tid, tok, code) = s.tenant_with_code("テスト診療所");
    let tok = Some(tok.as_str());
    let r = s.call("GET", "/v1/tenant", tok, None);
    assert_eq!(r.status, 200);
    let t = r.json();
    assert_eq!(t["id"], tid.as_str());
    assert_eq!(t["prefecture"], "13");
    assert_eq!(t["posted_hours"]["mon"][1][0], "14:00");
    // Institution settings are the administrator's (api-client tokens cannot change them).
    let upd = json!({"name": "改名クリニック", "kind": "clinic", "settings": {"x": 1}});
    assert_error(&s.call("PUT", "/v1/tenant", tok, Some(&upd)), 403, "forbidden");
    let admin = s.user_session(&code, "kanri", &[santei_security::Role::Administrator]);
    let r = s.call("PUT", "/v1/tenant", Some(&admin.session), Some(&upd));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.call("GET", "/v1/tenant", tok, None).json()["name"], "改名クリニック");
    let r = s.call("GET", &format!("/v1/admin/tenants/{tid}"), Some(OPERATOR), None);
    assert_eq!((r.status, r.json()["settings"]["x"].clone()), (200, json!(1)));
    let r = s.call("GET", "/v1/admin/tenants?limit=1000", Some(OPERATOR), None);
    assert!(r.json()["items"].as_array().unwrap().iter().any(|t| t["id"] == tid.as_str()));
    let r = s.call("POST", &format!("/v1/admin/tenants/{tid}/tokens"), Some(OPERATOR), Some(&json!({"label": "second"})));
    assert_eq!(r.status, 201);
    let tok2 = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(s.call("GET", "/v1/tenant", Some(&tok2), None).json()["id"], tid.as_str());
    let r = s.call("POST", "/v1/admin/tenants/nope/tokens", Some(OPERATOR), Some(&json!({})));
    assert_error(&r, 404, "not_found");
    // Same institution code twice → 409.
    let code = s.call("GET", "/v1/tenant", tok, None).json()["institution_code"].as_str().unwrap().to_string();
    let r = s.call("POST", "/v1/admin/tenants", Some(OPERATOR), Some(&json!({"institution_code": code, "name": "x", "kind": "clinic"})));
    assert_error(&r, 409, "conflict");

    // Patients.
    let r = s.call("POST", "/v1/patients", tok, Some(&patient("P-001", "山田太郎")));
    assert_eq!(r.status, 201, "{}", r.text());
    let p = r.json();
    let pid = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["name"], "山田太郎");
    let r = s.call("POST", "/v1/patients", tok, Some(&patient("P-001", "別人")));
    assert_error(&r, 409, "conflict");
    let r = s.call("POST", "/v1/patients", tok, Some(&patient("P-002", "鈴木花子")));
    let pid2 = r.json()["id"].as_str().unwrap().to_string();
    let r = s.call("GET", &format!("/v1/patients/{pid}"), tok, None);
    assert_eq!((r.status, r.json()["number"].clone()), (200, json!("P-001")));
    let mut upd = patient("P-001", "山田太郎");
    upd["kana"] = json!("ヤマダ");
    let r = s.call("PUT", &format!("/v1/patients/{pid}"), tok, Some(&upd));
    assert_eq!((r.status, r.json()["kana"].clone()), (200, json!("ヤマダ")));
    assert_eq!(r.json()["created_at"], p["created_at"]);
    let r = s.call("PUT", &format!("/v1/patients/{pid2}"), tok, Some(&patient("P-001", "x")));
    assert_error(&r, 409, "conflict");
    let r = s.call("GET", "/v1/patients?limit=1", tok, None);
    let page1 = r.json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 1);
    let after = page1["next_after"].as_str().unwrap();
    let page2 = s.call("GET", &format!("/v1/patients?limit=1&after={after}"), tok, None).json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    let ids: BTreeSet<String> = [&page1, &page2].iter().map(|p| p["items"][0]["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, [pid.clone(), pid2.clone()].into_iter().collect());

    // Insurances.
    let base = format!("/v1/patients/{pid}/insurances");
    let r = s.call("POST", &base, tok, Some(&insurance()));
    assert_eq!(r.status, 201, "{}", r.text());
    let iid = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["patient_id"], pid.as_str());
    let r = s.call("POST", &base, tok, Some(&json!({"kind": "public", "payer_number": "54136015", "recipient_number": "1234567", "valid_from": "2024-01-01"})));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(s.call("GET", &base, tok, None).json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(s.call("GET", &format!("{base}?date=2025-06-01"), tok, None).json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(s.call("GET", &format!("{base}?date=2023-06-01"), tok, None).json()["items"].as_array().unwrap().len(), 0);
    let r = s.call("GET", &format!("{base}/{iid}"), tok, None);
    assert_eq!((r.status, r.json()["insurer_number"].clone()), (200, json!("06130012")));
    let mut ins = insurance();
    ins["valid_to"] = json!("2026-03-31");
    let r = s.call("PUT", &format!("{base}/{iid}"), tok, Some(&ins));
    assert_eq!((r.status, r.json()["valid_to"].clone()), (200, json!("2026-03-31")));
    let r = s.call("POST", &base, tok, Some(&json!({"kind": "insurance", "insurer_number": "12", "valid_from": "2024-01-01"})));
    assert_error(&r, 422, "invalid_field");
    let r = s.call("POST", &base, tok, Some(&json!({"kind": "insurance", "insurer_number": "06130012", "valid_from": "2024-05-01", "valid_to": "2024-04-01"})));
    assert_error(&r, 422, "invalid_field");
    // Under the wrong patient → 404.
    assert_error(&s.call("GET", &format!("/v1/patients/{pid2}/insurances/{iid}"), tok, None), 404, "not_found");
    assert_eq!(s.call("DELETE", &format!("{base}/{iid}"), tok, None).status, 204);
    assert_error(&s.call("GET", &format!("{base}/{iid}"), tok, None), 404, "not_found");
    assert_error(&s.call("POST", "/v1/patients/nosuchpatient/insurances", tok, Some(&insurance())), 404, "not_found");

    // Visits.
    let vbase = format!("/v1/patients/{pid}/visits");
    let r = s.call("POST", &vbase, tok, Some(&visit("2024-06")));
    assert_eq!(r.status, 201, "{}", r.text());
    let vid = r.json()["id"].as_str().unwrap().to_string();
    s.call("POST", &vbase, tok, Some(&visit("2024-07")));
    s.call("POST", &format!("/v1/patients/{pid2}/visits"), tok, Some(&visit("2024-06")));
    assert_eq!(s.call("GET", &vbase, tok, None).json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(s.call("GET", &format!("{vbase}?month=2024-07"), tok, None).json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(s.call("GET", "/v1/visits?month=2024-06", tok, None).json()["items"].as_array().unwrap().len(), 2);
    assert_eq!(s.call("GET", "/v1/visits", tok, None).json()["items"].as_array().unwrap().len(), 3);
    let r = s.call("GET", &format!("{vbase}/{vid}"), tok, None);
    assert_eq!((r.status, r.json()["order"]["visits"][0]["items"][0]["code"].clone()), (200, json!("111000110")));
    let r = s.call("PUT", &format!("{vbase}/{vid}"), tok, Some(&visit("2024-08")));
    assert_eq!((r.status, r.json()["month"].clone()), (200, json!("2024-08")));
    assert_error(&s.call("POST", &vbase, tok, Some(&json!({"month": "2024-13", "order": {"a": 1}}))), 422, "invalid_field");
    assert_error(&s.call("GET", "/v1/visits?month=June", tok, None), 422, "invalid_field");
    // 療担規則 第9条: a patient-month of 2024-08 is kept until 2029-08-31 — deleting it is refused.
    assert_error(&s.call("DELETE", &format!("{vbase}/{vid}"), tok, None), 409, "conflict");
    let old = s.call("POST", &vbase, tok, Some(&visit("2019-01"))).json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.call("DELETE", &format!("{vbase}/{old}"), tok, None).status, 204, "completed 2019-01-31: deletable from 2024-02-01");

    // Master.
    let r = s.call("GET", "/v1/master/111000110?date=2024-06-01", tok, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json()["points"].clone(), r.json()["kind"].clone()), (json!(291), json!("procedure")));
    let r = s.call("GET", "/v1/master/111000110?date=2024-05-01", tok, None);
    assert_eq!(r.json()["points"], 288);
    assert_error(&s.call("GET", "/v1/master/999999999?date=2024-06-01", tok, None), 404, "code_not_found");
    let r = s.call("GET", "/v1/master/111000110?date=1999-01-01", tok, None);
    assert_error(&r, 404, "code_not_valid_on_date");
    assert!(!r.json()["error"]["details"]["versions"].as_array().unwrap().is_empty());
    assert_error(&s.call("GET", "/v1/master/111000110?date=2024-02-30", tok, None), 422, "invalid_field");
    let r = s.call("GET", "/v1/master/111000110/history", tok, None);
    assert!(r.json()["items"].as_array().unwrap().len() >= 2);
    let q = "%E3%81%97%E3%82%87%E3%81%97%E3%82%93%E3%82%8A%E3%82%87%E3%81%86"; // しょしんりょう
    let r = s.call("GET", &format!("/v1/master/search?q={q}&kind=procedure&date=2024-06-01"), tok, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["items"].as_array().unwrap().iter().any(|e| e["code"] == "111000110"), "{}", r.text());
    assert_error(&s.call("GET", "/v1/master/search?q=x&kind=nope", tok, None), 422, "invalid_field");
    assert_error(&s.call("GET", "/v1/master/search", tok, None), 422, "invalid_field");

    // Engines (behaviour in detail: tests/engines.rs).
    assert_error(&s.call("POST", "/v1/calculate", tok, Some(&json!({"visits": []}))), 422, "invalid_input");
    assert_error(&s.call("POST", "/v1/uke/check", tok, Some(&json!("IR,..."))), 415, "unsupported_media_type");
    // The stored visits of this test are not in the calc input format: the claim is refused, naming it.
    assert_error(&s.call("POST", "/v1/claims/2024-06/uke", tok, None), 422, "invalid_input");
    assert_error(&s.call("POST", "/v1/claims/2024-6/uke", tok, None), 422, "invalid_field");
    assert_error(&s.call("POST", "/api01rv2/acsimulatev2", tok, Some(&json!({"acsimulatereq": {}}))), 422, "invalid_field");

    // Master reload (operator).
    let before = s.state.engines.master().unwrap();
    let r = s.call("POST", "/v1/admin/master/reload", Some(OPERATOR), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let after = s.state.engines.master().unwrap();
    assert!(!std::sync::Arc::ptr_eq(&before, &after), "reload swaps the master");
    // The Arc a request took before the swap still answers.
    assert!(before.get("111000110", santei_core::date::parse_iso("2024-06-01").unwrap()).is_some());

    // A patient record without 完結日 is never deleted; one completed more than 5 years ago is.
    assert_error(&s.call("DELETE", &format!("/v1/patients/{pid}"), tok, None), 409, "conflict");
    let mut done = patient("P-001", "山田太郎");
    done["completed_on"] = json!("2020-01-01");
    let r = s.call("PUT", &format!("/v1/patients/{pid}"), tok, Some(&done));
    assert_eq!(r.status, 200, "{}", r.text());
    // Deleting a patient removes their insurances and visits.
    assert_eq!(s.call("DELETE", &format!("/v1/patients/{pid}"), tok, None).status, 204);
    assert_error(&s.call("GET", &format!("/v1/patients/{pid}"), tok, None), 404, "not_found");
    assert_error(&s.call("GET", &format!("/v1/patients/{pid}/visits"), tok, None), 404, "not_found");
    assert_eq!(s.call("GET", "/v1/visits", tok, None).json()["items"].as_array().unwrap().len(), 1);
    assert_error(&s.call("DELETE", &format!("/v1/patients/{pid}"), tok, None), 404, "not_found");

    // Metrics: loopback may read; labels are route templates, never ids.
    let r = s.call("GET", "/metrics", None, None);
    assert_eq!(r.status, 200);
    let m = r.text();
    assert!(m.contains(r#"santei_http_requests_total{method="GET",route="/v1/patients/{patient_id}",status="200"}"#), "{m}");
    assert!(m.contains("santei_http_request_duration_seconds_bucket"));
    assert!(m.contains(r#"santei_http_errors_total{route="/v1/master/{code}",code="code_not_found"}"#), "{m}");
    assert!(m.contains("santei_master_reloads_total 1"));
    // The audit writer's counters: the patient reads and writes above were committed through it.
    let audited: u64 = m.lines().find_map(|l| l.strip_prefix("santei_audit_entries_total ")).and_then(|v| v.parse().ok()).expect("audit counter");
    assert!(audited >= 5, "{m}");
    assert!(m.contains("santei_audit_failing 0") && m.contains("santei_audit_queued "), "{m}");
    assert!(!m.contains(&pid) && !m.contains(&tid));
}

#[test]
fn cross_tenant_reads_and_writes_are_refused() {
    for b in backends() {
        let s = start(&b);
        let (_ta, a) = s.tenant("A");
        let (_tb, bt) = s.tenant("B");
        let (a, bt) = (Some(a.as_str()), Some(bt.as_str()));
        let pid = s.call("POST", "/v1/patients", a, Some(&patient("A-1", "患者A"))).json()["id"].as_str().unwrap().to_string();
        let iid = s.call("POST", &format!("/v1/patients/{pid}/insurances"), a, Some(&insurance())).json()["id"].as_str().unwrap().to_string();
        let vid = s.call("POST", &format!("/v1/patients/{pid}/visits"), a, Some(&visit("2024-06"))).json()["id"].as_str().unwrap().to_string();
        // B cannot read …
        for path in [
            format!("/v1/patients/{pid}"),
            format!("/v1/patients/{pid}/insurances"),
            format!("/v1/patients/{pid}/insurances/{iid}"),
            format!("/v1/patients/{pid}/visits"),
            format!("/v1/patients/{pid}/visits/{vid}"),
        ] {
            assert_error(&s.call("GET", &path, bt, None), 404, "not_found");
        }
        assert!(s.call("GET", "/v1/patients", bt, None).json()["items"].as_array().unwrap().is_empty());
        assert!(s.call("GET", "/v1/visits", bt, None).json()["items"].as_array().unwrap().is_empty());
        // … nor write, nor attach to A's patient …
        assert_error(&s.call("PUT", &format!("/v1/patients/{pid}"), bt, Some(&patient("A-1", "乗っ取り"))), 404, "not_found");
        assert_error(&s.call("POST", &format!("/v1/patients/{pid}/insurances"), bt, Some(&insurance())), 404, "not_found");
        assert_error(&s.call("POST", &format!("/v1/patients/{pid}/visits"), bt, Some(&visit("2024-06"))), 404, "not_found");
        assert_error(&s.call("PUT", &format!("/v1/patients/{pid}/insurances/{iid}"), bt, Some(&insurance())), 404, "not_found");
        assert_error(&s.call("PUT", &format!("/v1/patients/{pid}/visits/{vid}"), bt, Some(&visit("2024-07"))), 404, "not_found");
        assert_error(&s.call("DELETE", &format!("/v1/patients/{pid}/visits/{vid}"), bt, None), 404, "not_found");
        assert_error(&s.call("DELETE", &format!("/v1/patients/{pid}/insurances/{iid}"), bt, None), 404, "not_found");
        assert_error(&s.call("DELETE", &format!("/v1/patients/{pid}"), bt, None), 404, "not_found");
        // … and A's data is intact. B may reuse A's patient number (numbers are per tenant).
        let r = s.call("GET", &format!("/v1/patients/{pid}"), a, None);
        assert_eq!((r.status, r.json()["name"].clone()), (200, json!("患者A")));
        assert_eq!(s.call("GET", &format!("/v1/patients/{pid}/visits/{vid}"), a, None).json()["month"], "2024-06");
        assert_eq!(s.call("GET", &format!("/v1/patients/{pid}/insurances/{iid}"), a, None).status, 200);
        assert_eq!(s.call("POST", "/v1/patients", bt, Some(&patient("A-1", "患者B"))).status, 201);
        // A tenant token is not an operator token, and the operator sees no patient data.
        assert_error(&s.call("GET", "/v1/admin/tenants", a, None), 403, "forbidden");
        assert_error(&s.call("POST", "/v1/admin/master/reload", a, None), 403, "forbidden");
        assert_error(&s.call("GET", "/v1/patients", Some(OPERATOR), None), 403, "forbidden");
    }
}

#[test]
fn no_credentials_no_access() {
    let s = start(&Backend::Sqlite);
    let (tid, tok) = s.tenant("T");
    let open: BTreeSet<&str> = ["/healthz", "/readyz", "/openapi.json", "/docs", "/metrics", "/v1/auth/login", "/v1/auth/second-factor", "/v1/auth/password", "/v1/auth/totp/enroll", "/v1/auth/totp/confirm"].into_iter().collect();
    for (method, path) in santei_server::api::routes().list {
        if open.contains(path) {
            continue;
        }
        let concrete = path.replace("{patient_id}", "p").replace("{id}", "x").replace("{code}", "111000110").replace("{month}", "2024-06").replace("{tenant_id}", &tid);
        let body = (method == "POST" || method == "PUT").then(|| json!({}));
        let r = s.call(method, &concrete, None, body.as_ref());
        assert_error(&r, 401, "unauthorized");
        let r = s.call(method, &concrete, Some("santei_00000000000000000000000000000000_0000000000000000000000000000000000000000000000000000000000000000"), body.as_ref());
        assert_error(&r, 401, "unauthorized");
        // A tampered real token (same id, wrong secret).
        let mut bad = tok.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        assert_error(&s.call(method, &concrete, Some(&bad), body.as_ref()), 401, "unauthorized");
    }
    assert_error(&s.raw("GET", "/v1/tenant", &[("Authorization", "Basic dXNlcjpwYXNz")], None), 401, "unauthorized");
    assert_error(&s.raw("GET", "/v1/tenant", &[("Authorization", &format!("Token {tok}"))], None), 401, "unauthorized");
    // Unknown routes are not open either.
    assert_error(&s.call("GET", "/v2/anything", None, None), 401, "unauthorized");
    assert_error(&s.call("GET", "/v2/anything", Some(&tok), None), 404, "route_not_found");
    // An operator token that is wrong.
    assert_error(&s.call("GET", "/v1/admin/tenants", Some("test-operator-token-0123456789abcdeX"), None), 401, "unauthorized");
}

#[test]
fn bad_input_gets_4xx_with_error_body() {
    let s = start(&Backend::Sqlite);
    let (_tid, tok) = s.tenant("T");
    let auth = format!("Bearer {tok}");
    let h = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let post = |body: &[u8]| s.raw("POST", "/v1/patients", &h, Some(body));
    assert_error(&post(b"{\"number\": \"1\", "), 400, "malformed_json");
    assert_error(&post(b"not json"), 400, "malformed_json");
    assert_error(&post(b""), 400, "malformed_json");
    assert_error(&post(br#"{"number": 1, "name": "x", "birth_date": "2000-01-01", "sex": 1}"#), 422, "invalid_json_shape");
    assert_error(&post(br#"{"number": "1", "name": "x", "birth_date": "2000-01-01", "sex": "male"}"#), 422, "invalid_json_shape");
    assert_error(&post(br#"{"number": "1", "name": "x", "birth_date": "2000-01-01", "sex": 1, "extra": true}"#), 422, "invalid_json_shape");
    assert_error(&post(br#"[1, 2, 3]"#), 422, "invalid_json_shape");
    assert_error(&post(br#"{"number": "1", "name": "x", "birth_date": "2000-02-30", "sex": 1}"#), 422, "invalid_field");
    assert_error(&post(br#"{"number": "1", "name": "x", "birth_date": "2000-01-01", "sex": 3}"#), 422, "invalid_field");
    assert_error(&post(br#"{"number": "a b", "name": "x", "birth_date": "2000-01-01", "sex": 1}"#), 422, "invalid_field");
    assert_error(&post(br#"{"number": "1", "name": "", "birth_date": "2000-01-01", "sex": 1}"#), 422, "invalid_field");
    assert_error(&post(&[0xff, 0xfe, 0x00]), 400, "malformed_json");
    // Deeply nested JSON is refused by the parser's recursion limit, not a stack overflow.
    let deep = format!("{{\"month\": \"2024-06\", \"order\": {{\"a\": {}{}}}}}", "[".repeat(100_000), "]".repeat(100_000));
    let r = s.raw("POST", "/v1/patients/x/visits", &h, Some(deep.as_bytes()));
    assert_error(&r, 400, "malformed_json");
    // Oversize: over 1 MiB, declared or not.
    let big = format!("{{\"number\": \"1\", \"name\": \"{}\"}}", "x".repeat(santei_server::BODY_LIMIT + 10));
    assert_error(&post(big.as_bytes()), 413, "body_too_large");
    // Wrong content type.
    let r = s.raw("POST", "/v1/patients", &[("Authorization", auth.as_str()), ("Content-Type", "text/plain")], Some(b"{}"));
    assert_error(&r, 415, "unsupported_media_type");
    let r = s.raw("POST", "/v1/patients", &[("Authorization", auth.as_str())], Some(b"{}"));
    assert_error(&r, 415, "unsupported_media_type");
    // Query and path problems.
    let t = Some(tok.as_str());
    assert_error(&s.call("GET", "/v1/patients?limit=abc", t, None), 400, "invalid_query");
    assert_error(&s.call("GET", "/v1/patients?limit=0", t, None), 422, "invalid_field");
    assert_error(&s.call("GET", "/v1/patients?bogus=1", t, None), 400, "invalid_query");
    assert_error(&s.call("GET", "/v1/master/search?q=a&limit=-1", t, None), 400, "invalid_query");
    assert_error(&s.call("GET", "/v1/master/%E3%81%82", t, None), 422, "invalid_field");
    assert_error(&s.call("GET", "/v1/patients/%FF", t, None), 400, "invalid_path");
    assert_error(&s.call("GET", "/v1/patients/..%2F..%2Fetc", t, None), 404, "not_found");
    assert_error(&s.call("PATCH", "/v1/patients", t, Some(&json!({}))), 405, "method_not_allowed");
    // Tenant creation validation.
    let bad_tenants = [
        json!({"institution_code": "123", "name": "x", "kind": "clinic"}),
        json!({"institution_code": "4812345678", "name": "x", "kind": "clinic"}),
        json!({"institution_code": "1312345678", "name": "x", "kind": "clinic", "prefecture": "14"}),
        json!({"institution_code": "1312345678", "name": "x", "kind": "pharmacy"}),
        json!({"institution_code": "1312345678", "name": "x", "kind": "clinic", "posted_hours": {"mon": [["9", "12"]]}}),
        json!({"institution_code": "1312345678", "name": "x", "kind": "clinic", "posted_hours": {"someday": []}}),
    ];
    for t in bad_tenants {
        assert_error(&s.call("POST", "/v1/admin/tenants", Some(OPERATOR), Some(&t)), 422, "invalid_field");
    }
    // The server is still healthy after all of that.
    assert_eq!(s.call("GET", "/healthz", None, None).status, 200);
}

#[test]
fn openapi_lists_every_route() {
    let doc: Value = serde_json::from_str(santei_server::api::ops::OPENAPI).expect("openapi.json parses");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    for (p, item) in paths {
        for m in item.as_object().unwrap().keys() {
            documented.insert((m.to_uppercase(), p.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = santei_server::api::routes().list.into_iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routes missing from openapi.json: {missing:?}");
    assert!(extra.is_empty(), "openapi.json documents routes that do not exist: {extra:?}");
    // Every $ref resolves.
    let text = santei_server::api::ops::OPENAPI;
    for part in text.split("\"$ref\": \"#/").skip(1) {
        let target = part.split('"').next().unwrap();
        let mut v = &doc;
        for k in target.split('/') {
            v = &v[k];
        }
        assert!(!v.is_null(), "dangling $ref #/{target}");
    }
}
