//! The Kubernetes manifests in `deploy/` against the code they run: every
//! file parses, every container's arguments are ones the built binary
//! accepts, the KEDA trigger names the stream and consumer `dist init`
//! creates, the worker's grace period covers its drain, and the config
//! files in the ConfigMaps read as Switchboard reads them. Nothing here
//! needs a cluster; it keeps the manifests from drifting from the CLI.
#![cfg(feature = "distributed")]

use std::path::{Path, PathBuf};
use std::process::Command;

use switchboard::agent::AgentDefinition;
use switchboard::config::FleetConfig;
use switchboard::dist::protocol as dist;
use yaml_rust2::{Yaml, YamlLoader};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every document of every manifest, with its file's name.
fn documents() -> Vec<(String, Yaml)> {
    let mut docs = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("deploy/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "deploy/ lost manifests: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parsed =
            YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
        docs.extend(parsed.into_iter().map(|d| (name.clone(), d)));
    }
    docs
}

fn kind(doc: &Yaml) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn named<'a>(docs: &'a [(String, Yaml)], kind_: &str, name: &str) -> &'a Yaml {
    docs.iter()
        .map(|(_, d)| d)
        .find(|d| kind(d) == kind_ && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind_} named {name} in deploy/"))
}

/// The pod spec of a workload (Deployment or Job).
fn pod_spec(doc: &Yaml) -> &Yaml {
    &doc["spec"]["template"]["spec"]
}

fn strings(list: &Yaml) -> Vec<String> {
    list.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of `--flag=VALUE` among `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("--{name}=");
    args.iter().find_map(|a| a.strip_prefix(&prefix))
}

#[test]
fn every_manifest_parses_and_names_a_kind() {
    for (file, doc) in documents() {
        assert!(
            !kind(&doc).is_empty() || file == "nats-values.yaml",
            "{file}: a document without kind"
        );
    }
}

#[test]
fn every_container_runs_arguments_the_binary_accepts() {
    let docs = documents();
    let mut checked = 0;
    for (file, doc) in &docs {
        let spec = pod_spec(doc);
        for list in ["initContainers", "containers"] {
            for container in spec[list].as_vec().into_iter().flatten() {
                let args = strings(&container["args"]);
                if args.is_empty() {
                    continue;
                }
                // clap checks every flag and value before it acts on
                // --help, so this fails on any flag the CLI does not have.
                let out = Command::new(BIN)
                    .args(&args)
                    .arg("--help")
                    .output()
                    .expect("switchboard runs");
                assert!(
                    out.status.success(),
                    "{file}: `switchboard {}` is refused: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "expected the init, push, worker and gateway containers, got {checked}"
    );
}

#[test]
fn keda_scales_the_consumer_dist_init_creates() {
    let docs = documents();
    let scaled = named(&docs, "ScaledObject", "switchboard-worker");
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"].as_str(), Some("nats-jetstream"));
    let meta = &trigger["metadata"];
    assert_eq!(meta["stream"].as_str(), Some(dist::JOBS_STREAM));
    let worker = named(&docs, "Deployment", "switchboard-worker");
    let args = strings(&pod_spec(worker)["containers"][0]["args"]);
    let pool = flag(&args, "pool").expect("the worker names its pool");
    assert_eq!(
        meta["consumer"].as_str(),
        Some(dist::pool_consumer(pool).as_str())
    );
    let init = named(&docs, "Job", "switchboard-dist-init");
    let init_args = strings(&pod_spec(init)["initContainers"][0]["args"]);
    assert_eq!(
        flag(&init_args, "pool"),
        Some(pool),
        "dist init sets up another pool"
    );
    // The backlog per pod KEDA aims at is one queue of work per slot.
    let concurrency = flag(&args, "concurrency").expect("--concurrency");
    assert_eq!(meta["lagThreshold"].as_str(), Some(concurrency));
    assert_eq!(
        scaled["spec"]["scaleTargetRef"]["name"].as_str(),
        Some("switchboard-worker")
    );
}

/// A workload's `--drain-secs` and grace period, and its first container.
fn drain_and_grace<'a>(docs: &'a [(String, Yaml)], name: &str) -> (i64, i64, &'a Yaml) {
    let spec = pod_spec(named(docs, "Deployment", name));
    let args = strings(&spec["containers"][0]["args"]);
    let drain: i64 = flag(&args, "drain-secs")
        .expect("--drain-secs")
        .parse()
        .expect("a number");
    let grace = spec["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("a grace period");
    (drain, grace, &spec["containers"][0])
}

#[test]
fn the_worker_grace_period_covers_its_drain_and_hand_off() {
    let docs = documents();
    let (drain, grace, _) = drain_and_grace(&docs, "switchboard-worker");
    // The hand-off after the drain takes up to 10 s (dist::worker).
    assert!(
        grace >= drain + 10,
        "grace {grace} s < drain {drain} s + 10 s hand-off"
    );
    let (drain, grace, container) = drain_and_grace(&docs, "switchboard-gateway");
    assert!(grace > drain, "gateway grace {grace} s <= drain {drain} s");
    let probe = &container["readinessProbe"]["httpGet"]["path"];
    assert_eq!(probe.as_str(), Some("/readyz"));
}

#[test]
fn the_config_maps_hold_files_switchboard_reads() {
    let docs = documents();
    let agents = named(&docs, "ConfigMap", "switchboard-agents");
    let mut read = 0;
    for (key, value) in agents["data"].as_hash().expect("data") {
        let text = value.as_str().expect("a file");
        // As `agents push` checks it: the worker's secrets are not here.
        AgentDefinition::check_for_elsewhere(text)
            .unwrap_or_else(|e| panic!("{}: {e}", key.as_str().unwrap_or("?")));
        read += 1;
    }
    assert!(read >= 1);
    let gateway = named(&docs, "ConfigMap", "switchboard-gateway");
    let json = gateway["data"]["mcp.json"].as_str().expect("mcp.json");
    let fleet = FleetConfig::from_json_str(json).expect("the gateway's config reads");
    assert!(!fleet.servers.is_empty());
    // The worker's pushed definitions are the ones the Job mounts.
    let init = named(&docs, "Job", "switchboard-dist-init");
    let push = strings(&pod_spec(init)["containers"][0]["args"]);
    for (key, _) in agents["data"].as_hash().expect("data") {
        let file = format!("/etc/switchboard/agents/{}", key.as_str().unwrap_or(""));
        assert!(push.contains(&file), "agents push does not store {file}");
    }
}

#[test]
fn the_image_builds_a_profile_and_feature_the_crate_has() {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("Dockerfile");
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let build = dockerfile
        .lines()
        .find(|l| l.contains("cargo build"))
        .expect("a cargo build step");
    let profile = build
        .split("--profile ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next());
    let profile = profile.expect("a --profile");
    assert!(
        manifest.contains(&format!("[profile.{profile}]")),
        "no profile {profile}"
    );
    assert!(
        build.contains("--features distributed"),
        "the image lacks the NATS commands"
    );
    let rust = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM rust:"))
        .and_then(|t| t.split('-').next())
        .expect("a rust base image");
    // async-nats 0.51 needs 1.89 (Cargo.toml says so).
    let minor: u32 = rust
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .expect("1.N");
    assert!(
        minor >= 89,
        "rust {rust} is too old for the distributed feature"
    );
}
