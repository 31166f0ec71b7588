//! Fuzz the UKE reader, checker, viewer and writer: arbitrary bytes must never panic.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run uke_read -- -max_total_time=60` (from the repo root).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = santei_uke::check_bytes(data, "fuzz", &santei_uke::CheckOptions::default());
    if let Ok((f, _)) = santei_uke::read_bytes(data) {
        let _ = santei_uke::write_file(&f);
        for r in &f.receipts {
            let _ = santei_uke::show::render_receipt(&f.ir, r, None);
        }
    }
});
