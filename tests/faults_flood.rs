//! Floods from a server that must cost bounded memory, measured as this
//! process's resident set (`VmRSS`). Alone in their binary, so no other
//! test's allocations count.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

/// Samples the RSS every 10 ms (for at most 60 s) until stopped; the peak.
fn sample_peak() -> (Arc<AtomicBool>, Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(common::rss_kib()));
    let (s, p) = (stop.clone(), peak.clone());
    let task = tokio::spawn(async move {
        for _ in 0..6000 {
            if s.load(Ordering::Relaxed) {
                break;
            }
            p.fetch_max(common::rss_kib(), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (stop, peak, task)
}

/// 500k pings sent while the server reads none of our answers: the
/// answers that cannot be written are bounded (the rest are shed), not
/// one task each (about 1 KiB a ping before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_that_reads_no_answers_costs_bounded_memory() {
    common::within(Duration::from_secs(60), async {
        let marker = common::marker("fault-ping-flood");
        let client = common::script("fault_server.py", &["ping_flood"], &marker)
            .timeout(Duration::from_secs(40))
            .max_request_time(Duration::from_secs(50))
            .connect()
            .await
            .expect("connect");
        // Warm up the paths the flood takes.
        client.ping().await.expect("ping");
        let before = common::rss_kib();
        let (stop, peak, sampler) = sample_peak();
        let out = client
            .call_tool("bad", json!({"pings": 500_000}))
            .await
            .expect("the server answers after its flood");
        assert_eq!(out.text(), r#"ok: {"pings": 500000}"#);
        stop.store(true, Ordering::Relaxed);
        sampler.await.expect("sampler");
        let grown = peak.load(Ordering::Relaxed).saturating_sub(before);
        assert!(
            grown < 64 * 1024,
            "RSS grew by {grown} KiB answering pings nobody reads"
        );
        // Once the server reads again, the client works.
        let out = client
            .call_tool("ok", json!({"after": "flood"}))
            .await
            .expect("usable after the flood");
        assert_eq!(out.text(), r#"ok: {"after": "flood"}"#);
        client.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(6)).await;
    })
    .await
}
