//! `FileTokenStore` shared by many writers: store instances on one path in
//! one process, and real processes on one file, never lose each other's
//! entries nor leave the file corrupt; a corrupt file is moved aside, a
//! planted symlink is never followed, and a file others can write is
//! refused.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use switchboard::auth::{FileTokenStore, StoreKey, StoredAuth, TokenStore, Tokens};

/// Every wait in this file ends by then.
const DEADLINE: Duration = Duration::from_secs(60);

/// Set in a child process: the store path the `child_writer` test writes to.
const WRITER_PATH: &str = "SWITCHBOARD_TEST_TOKEN_STORE_PATH";
/// Set in a child process: which writer it is.
const WRITER_ID: &str = "SWITCHBOARD_TEST_TOKEN_STORE_WRITER";
const SAVES_PER_PROCESS: usize = 40;

fn key(name: &str) -> StoreKey {
    StoreKey {
        issuer: format!("https://{name}.example"),
        resource: "https://mcp.example.com/mcp".into(),
    }
}

fn entry(token: &str) -> StoredAuth {
    let mut e = StoredAuth::default();
    e.tokens = Some(Tokens::bearer(token));
    e
}

fn token_of(store: &FileTokenStore, name: &str) -> Option<String> {
    store
        .load(&key(name))
        .expect("load")
        .and_then(|e| e.tokens)
        .map(|t| t.access_token)
}

/// The store file parses as JSON and lists `n` entries.
fn assert_valid_with(path: &Path, n: usize) {
    let text = std::fs::read_to_string(path).expect("read the store");
    let v: serde_json::Value = serde_json::from_str(&text).expect("the store is valid JSON");
    let entries = v["entries"].as_array().expect("an entries list");
    assert_eq!(entries.len(), n, "entries in the file");
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn many_store_instances_on_one_path_keep_every_key() {
    const THREADS: usize = 8;
    const SAVES: usize = 50;
    const REMOVED: usize = 10;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let (done, results) = mpsc::channel();
    for t in 0..THREADS {
        let path = path.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let run = || -> switchboard::Result<()> {
                let store = FileTokenStore::new(&path);
                for i in 0..SAVES {
                    store.save(&key(&format!("t{t}-{i}")), &entry(&format!("tok-{t}-{i}")))?;
                }
                // Removes merge too: each thread forgets its first keys.
                for i in 0..REMOVED {
                    store.remove(&key(&format!("t{t}-{i}")))?;
                }
                Ok(())
            };
            let _ = done.send((t, run()));
        });
    }
    drop(done);
    let end = Instant::now() + DEADLINE;
    for _ in 0..THREADS {
        let left = end.saturating_duration_since(Instant::now());
        let (t, result) = results
            .recv_timeout(left)
            .expect("every writer thread finishes in time");
        if let Err(e) = result {
            panic!("writer {t} failed: {e}");
        }
    }
    assert_valid_with(&path, THREADS * (SAVES - REMOVED));
    let store = FileTokenStore::new(&path);
    for t in 0..THREADS {
        for i in 0..SAVES {
            let want = (i >= REMOVED).then(|| format!("tok-{t}-{i}"));
            assert_eq!(token_of(&store, &format!("t{t}-{i}")), want, "t{t}-{i}");
        }
    }
    // No temporary file is left behind: the store and its lock file only.
    for name in names_in(dir.path()) {
        assert!(
            name == "tokens.json" || name == "tokens.json.lock",
            "left behind: {name}"
        );
    }
}

/// Not a test on its own: the body of the child processes of
/// `processes_writing_one_file_keep_every_entry` (a no-op otherwise).
#[test]
fn child_writer() {
    let (Ok(path), Ok(id)) = (std::env::var(WRITER_PATH), std::env::var(WRITER_ID)) else {
        return;
    };
    let store = FileTokenStore::new(path);
    for i in 0..SAVES_PER_PROCESS {
        store
            .save(
                &key(&format!("p{id}-{i}")),
                &entry(&format!("tok-{id}-{i}")),
            )
            .unwrap_or_else(|e| panic!("writer {id}, save {i}: {e}"));
    }
}

/// Waits for `child` until `end`; kills it then.
fn wait_until(child: &mut Child, end: Instant) -> std::process::ExitStatus {
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a writer process did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn processes_writing_one_file_keep_every_entry() {
    const PROCESSES: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let exe = std::env::current_exe().expect("the test binary");
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|id| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1", "--nocapture"])
                .env(WRITER_PATH, &path)
                .env(WRITER_ID, id.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn a writer process")
        })
        .collect();
    let end = Instant::now() + DEADLINE;
    let statuses: Vec<_> = children.iter_mut().map(|c| wait_until(c, end)).collect();
    for (id, status) in statuses.iter().enumerate() {
        assert!(status.success(), "writer process {id}: {status}");
    }
    assert_valid_with(&path, PROCESSES * SAVES_PER_PROCESS);
    let store = FileTokenStore::new(&path);
    for id in 0..PROCESSES {
        for i in 0..SAVES_PER_PROCESS {
            assert_eq!(
                token_of(&store, &format!("p{id}-{i}")),
                Some(format!("tok-{id}-{i}")),
                "p{id}-{i}"
            );
        }
    }
}

#[test]
fn a_corrupt_store_is_moved_aside_and_replaced_by_valid_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let garbage = b"{\"entries\": [{\"issuer\": \"https://a.example\", \"access_tok";
    std::fs::write(&path, garbage).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let store = FileTokenStore::new(&path);
    assert_eq!(store.load(&key("a")).expect("a corrupt store loads"), None);
    // The bad bytes are kept aside, not lost.
    let aside: Vec<PathBuf> = names_in(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("tokens.json.corrupt-"))
        .map(|n| dir.path().join(n))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", names_in(dir.path()));
    assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage);
    let mode = std::fs::metadata(&aside[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the copy aside stays private");

    store
        .save(&key("b"), &entry("tok-b"))
        .expect("save after recovery");
    assert_valid_with(&path, 1);
    assert_eq!(token_of(&store, "b"), Some("tok-b".into()));

    // Corruption found by a save (not a load) is recovered the same way.
    std::fs::write(&path, b"\0\0\0").unwrap();
    store
        .save(&key("c"), &entry("tok-c"))
        .expect("save over garbage");
    assert_valid_with(&path, 1);
    assert_eq!(token_of(&store, "c"), Some("tok-c".into()));
    let aside = names_in(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("tokens.json.corrupt-"))
        .count();
    assert_eq!(aside, 2);
}

#[test]
fn a_symlink_planted_at_a_temp_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = dir.path().join("tokens.json");
    // The old fixed name and the other names a writer might predict.
    for name in [
        "tokens.tmp",
        "tokens.json.tmp",
        ".tokens.json.tmp",
        "tokens.json.new",
        "tokens.json~",
    ] {
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
    }
    let store = FileTokenStore::new(&path);
    store.save(&key("a"), &entry("tok-a")).expect("save");
    store.save(&key("b"), &entry("tok-b")).expect("save");
    assert_eq!(token_of(&store, "a"), Some("tok-a".into()));
    let check_victim = || {
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "the victim's mode is unchanged");
    };
    check_victim();
    assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
    assert_valid_with(&path, 2);

    // A symlink at the lock file's name is refused too (the save fails,
    // the victim is untouched).
    let other = dir.path().join("other.json");
    std::os::unix::fs::symlink(&victim, dir.path().join("other.json.lock")).unwrap();
    let result = FileTokenStore::new(&other).save(&key("a"), &entry("tok-a"));
    assert!(result.is_err(), "followed a symlinked lock file");
    check_victim();
}

#[test]
fn a_store_others_can_write_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileTokenStore::new(&path);
    store.save(&key("a"), &entry("tok-a")).unwrap();
    let shown = path.display().to_string();
    for mode in [0o666, 0o620, 0o602] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = store.load(&key("a")).expect_err("a writable store loads");
        assert_eq!(
            err.as_auth().map(|a| a.kind),
            Some(switchboard::AuthErrorKind::Store),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&shown) && msg.contains("chmod 600"),
            "mode {mode:o}: {msg}"
        );
        let err = store
            .save(&key("b"), &entry("tok-b"))
            .expect_err("a save merges into a writable store");
        assert!(err.to_string().contains(&shown), "{err}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(token_of(&store, "a"), Some("tok-a".into()));
    assert_eq!(
        token_of(&store, "b"),
        None,
        "the refused save wrote nothing"
    );

    // Someone else's file (only checkable where we may chown: as root).
    if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
        let err = store
            .load(&key("a"))
            .expect_err("another user's store loads");
        let msg = err.to_string();
        assert!(msg.contains(&shown) && msg.contains("owned by"), "{msg}");
    }
}
