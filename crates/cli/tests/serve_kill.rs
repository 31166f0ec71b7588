//! Durability: `kill -9` the real `santei serve` during a burst of writes, restart it on the same
//! data directory, and find every acknowledged write (SQLite, WAL, synchronous=FULL).

use santei_server::http_client::request;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn santei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_santei"))
}

fn serve(dir: &Path) -> (Child, SocketAddr) {
    let mut child = santei()
        .args(["serve", "--listen", "127.0.0.1:0", "--sample-master", "--data-dir"])
        .arg(dir)
        .env("SANTEI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn santei serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}")).parse().expect("addr");
    (child, addr)
}

fn post(addr: SocketAddr, token: &str, path: &str, body: &Value) -> std::io::Result<(u16, Value)> {
    let auth = format!("Bearer {token}");
    let b = body.to_string();
    let r = request(addr, "POST", path, &[("Authorization", &auth), ("Content-Type", "application/json")], Some(b.as_bytes()))?;
    Ok((r.status, r.json()))
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let out = santei().args(["tenant", "create", "--code", "1310000001", "--name", "耐久テスト医院", "--json", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = created["token"].as_str().unwrap().to_string();

    let (mut child, addr) = serve(dir.path());
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let number = format!("K{w}-{i}");
                let body = json!({"number": number, "name": "患者", "birth_date": "1980-01-01", "sex": 1});
                match post(addr, &token, "/v1/patients", &body) {
                    Ok((201, v)) => acked.lock().unwrap().push((v["id"].as_str().unwrap().to_string(), number)),
                    Ok((status, v)) => panic!("unexpected {status}: {v}"),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    // Let the burst run, then kill -9 in the middle of it.
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 500 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 500, "burst too small: {}", acked.len());

    let (mut child, addr) = serve(dir.path());
    let auth = format!("Bearer {token}");
    let mut missing = Vec::new();
    for (id, number) in &acked {
        let r = request(addr, "GET", &format!("/v1/patients/{id}"), &[("Authorization", &auth)], None).unwrap();
        if r.status != 200 || r.json()["number"] != number.as_str() {
            missing.push(id.clone());
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(missing.is_empty(), "{} of {} acknowledged writes lost", missing.len(), acked.len());
}
