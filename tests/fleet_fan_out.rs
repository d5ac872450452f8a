//! Race, quorum and gather over real processes: three FastMCP servers
//! (`tests/peers/ledger_server.py`) with the same tool `work`, answering
//! after 0.2, 1 and 3 s. Each server writes to a shared ledger file when a
//! call starts, finishes, or is cancelled by the client's
//! `notifications/cancelled`, so the tests see the losers stop from the
//! servers' side, and every deadline is asserted with an upper bound.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::{Client, Error, FanOutErrorKind, Fleet, LegEnd, Member};

use common::ledger::{ledger_server, Ledger};
use common::{assert_no_process, marker, within};

/// Slack on every upper bound: a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(700);

/// A fleet of `(name, delay ms, flags)` ledger servers, started and listed.
async fn fleet(ledger: &Ledger, tag: &str, servers: &[(&str, u64, &[&str])]) -> Fleet {
    let members = servers.iter().map(|(name, delay, flags)| {
        let delay = delay.to_string();
        let mut all = vec!["--delay-ms", delay.as_str()];
        all.extend_from_slice(flags);
        let source = ledger_server(&ledger.path, tag, name, &all);
        Member::new(*name, move || {
            Client::builder(source.clone())
                .timeout(Duration::from_secs(20))
                .connect_timeout(Duration::from_secs(20))
        })
    });
    let fleet = Fleet::new(members).await.expect("the fleet starts");
    let tools = fleet.list_tools().await;
    assert_eq!(
        tools.iter().filter(|t| t.name.ends_with("_work")).count(),
        servers.len(),
        "{tools:?}"
    );
    fleet
}

const THREE: &[(&str, u64, &[&str])] = &[("a", 200, &[]), ("b", 1000, &[]), ("c", 3000, &[])];

/// Waits until the ledger says these servers' `work` calls with `key`
/// were cancelled; returns when they all were.
async fn wait_cancelled(ledger: &Ledger, key: &str, servers: &[&str]) {
    common::eventually(
        &format!("{servers:?} record the cancellation of {key}"),
        Duration::from_secs(5),
        || async {
            let cancelled = ledger.servers_with("cancelled", "work", key);
            servers
                .iter()
                .all(|s| cancelled.iter().any(|c| c == s))
                .then_some(())
        },
    )
    .await;
}

fn ends(others: &[switchboard::LegReport]) -> Vec<(String, String)> {
    others
        .iter()
        .map(|l| {
            let end = match &l.end {
                LegEnd::Cancelled => "cancelled".to_owned(),
                LegEnd::DeadlinePassed => "deadline".to_owned(),
                LegEnd::ToolError(t) => format!("tool error: {t}"),
                other => format!("{other}"),
            };
            (l.server.clone(), end)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_takes_the_first_success_and_cancels_the_losers_on_their_servers() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("race");
        let fleet = fleet(&ledger, &tag, THREE).await;
        let started = Instant::now();
        let won = fleet
            .fan_out("work", json!({"key": "R"}))
            .deadline(Duration::from_secs(10))
            .race()
            .await
            .expect("a wins");
        let took = started.elapsed();
        assert_eq!(won.successes.len(), 1);
        let (server, output) = &won.successes[0];
        assert_eq!(
            (server.as_str(), output.text()),
            ("a", "work R by a".into())
        );
        assert!(took < Duration::from_millis(200) + SLACK, "took {took:?}");
        assert_eq!(
            ends(&won.others),
            pairs(&[("b", "cancelled"), ("c", "cancelled")])
        );
        wait_cancelled(&ledger, "R", &["b", "c"]).await;
        // The losers stopped: past b's delay nothing of theirs finished.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(ledger.servers_with("done", "work", "R"), ["a"]);
        fleet.close().await.unwrap();
        assert_no_process(&tag, Duration::from_secs(10)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_waits_for_n_successes_and_cancels_the_rest() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("quorum");
        let fleet = fleet(&ledger, &tag, THREE).await;
        let started = Instant::now();
        let got = fleet
            .fan_out("work", json!({"key": "Q"}))
            .deadline(Duration::from_secs(10))
            .quorum(2)
            .await
            .expect("a and b");
        let took = started.elapsed();
        eprintln!("quorum(2) (0.2/1/3 s): reached after {took:?}");
        let servers: Vec<&str> = got.successes.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(servers, ["a", "b"]);
        assert!(
            took >= Duration::from_millis(950) && took < Duration::from_millis(1000) + SLACK,
            "took {took:?}"
        );
        assert_eq!(ends(&got.others), pairs(&[("c", "cancelled")]));
        wait_cancelled(&ledger, "Q", &["c"]).await;
        fleet.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_holds_and_cuts_every_leg_still_running() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("deadline");
        let fleet = fleet(&ledger, &tag, THREE).await;

        // A quorum of three cannot finish before c (3 s): cut at 1.5 s.
        let deadline = Duration::from_millis(1500);
        let started = Instant::now();
        let err = fleet
            .fan_out("work", json!({"key": "D3"}))
            .deadline(deadline)
            .quorum(3)
            .await
            .expect_err("c is too slow");
        let took = started.elapsed();
        eprintln!("quorum(3) under a 1.5 s deadline: failed after {took:?}");
        assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
        let Error::FanOut(e) = err else {
            panic!("expected a fan-out error, got {err:?}")
        };
        assert_eq!(e.kind, FanOutErrorKind::Deadline);
        assert_eq!(
            (e.needed, e.succeeded.clone()),
            (3, vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(ends(&e.legs), pairs(&[("c", "deadline")]));
        wait_cancelled(&ledger, "D3", &["c"]).await;

        // A race nobody can win in 100 ms: every leg is cut.
        let deadline = Duration::from_millis(100);
        let started = Instant::now();
        let err = fleet
            .fan_out("work", json!({"key": "D1"}))
            .deadline(deadline)
            .race()
            .await
            .expect_err("all too slow");
        let took = started.elapsed();
        eprintln!("race under a 100 ms deadline: failed after {took:?}");
        assert!(took >= deadline && took < deadline + SLACK, "took {took:?}");
        let Error::FanOut(e) = err else {
            panic!("expected a fan-out error, got {err:?}")
        };
        assert_eq!(e.kind, FanOutErrorKind::Deadline);
        assert!(e.succeeded.is_empty());
        let mut cut = ends(&e.legs);
        cut.sort();
        assert_eq!(
            cut,
            pairs(&[("a", "deadline"), ("b", "deadline"), ("c", "deadline")])
        );
        wait_cancelled(&ledger, "D1", &["a", "b", "c"]).await;
        fleet.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_out_of_reach_fails_at_once_not_at_the_deadline() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("unreachable");
        // x answers a tool error after 0.2 s; y and z would succeed after 3 s.
        let fleet = fleet(
            &ledger,
            &tag,
            &[("x", 200, &["--fail"]), ("y", 3000, &[]), ("z", 3000, &[])],
        )
        .await;
        let started = Instant::now();
        let err = fleet
            .fan_out("work", json!({"key": "U"}))
            .deadline(Duration::from_secs(10))
            .quorum(3)
            .await
            .expect_err("x fails");
        let took = started.elapsed();
        eprintln!("quorum(3) with x failing at 0.2 s: failed after {took:?}");
        assert!(took < Duration::from_millis(200) + SLACK, "took {took:?}");
        let Error::FanOut(e) = err else {
            panic!("expected a fan-out error, got {err:?}")
        };
        assert_eq!(e.kind, FanOutErrorKind::Unreachable);
        assert_eq!(
            ends(&e.legs),
            pairs(&[
                ("x", "tool error: work U failed on x"),
                ("y", "cancelled"),
                ("z", "cancelled")
            ])
        );
        wait_cancelled(&ledger, "U", &["y", "z"]).await;

        // More successes than servers: refused before any call.
        let err = fleet
            .fan_out("work", json!({"key": "U4"}))
            .quorum(4)
            .await
            .expect_err("three servers");
        assert!(
            matches!(&err, Error::FanOut(e) if e.kind == FanOutErrorKind::Unreachable),
            "{err:?}"
        );
        assert_eq!(ledger.count("start", "work", "U4"), 0);
        // A tool nobody has.
        let err = fleet
            .fan_out("nope", json!({}))
            .race()
            .await
            .expect_err("no server");
        assert!(
            matches!(&err, Error::FanOut(e) if e.kind == FanOutErrorKind::NoServers),
            "{err:?}"
        );
        fleet.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_read_gathered_from_every_server_that_lists_it() {
    within(Duration::from_secs(60), async {
        let ledger = Ledger::new();
        let tag = marker("gather");
        let fleet = fleet(&ledger, &tag, THREE).await;
        let got = fleet
            .fan_out_read("ledger://name")
            .deadline(Duration::from_secs(10))
            .gather()
            .await
            .expect("three copies");
        let mut read: Vec<(String, String)> = got
            .successes
            .iter()
            .map(|(server, r)| {
                let text = serde_json::to_value(&r.contents[0]).unwrap()["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                (server.clone(), text)
            })
            .collect();
        read.sort();
        assert_eq!(read, pairs(&[("a", "a"), ("b", "b"), ("c", "c")]));
        assert!(got.others.is_empty(), "{:?}", got.others);
        // Named servers only, one of them unknown: a failed leg, named.
        let got = fleet
            .fan_out_read("ledger://name")
            .servers(["b", "ghost"])
            .gather()
            .await
            .expect("b answers");
        assert_eq!(got.successes.len(), 1);
        assert_eq!(got.others.len(), 1);
        assert_eq!(got.others[0].server, "ghost");
        assert!(
            matches!(&got.others[0].end, LegEnd::Failed(Error::NotFound { .. })),
            "{:?}",
            got.others
        );
        fleet.close().await.unwrap();
    })
    .await;
}
