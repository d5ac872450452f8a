//! How a command ends when it is told to: SIGINT, SIGTERM or SIGHUP, or a
//! closed stdout. Either way the stdio servers it started are ended first
//! (their process groups get none of the terminal's signals), within
//! [`GRACE`] for SIGTERM and then SIGKILL.
//!
//! Exit codes follow the shell's convention: 128 + the signal (130 for
//! Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). A closed stdout (`| head`)
//! ends the command quietly with 0.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::transport::stdio;

/// How long servers get between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// How long a command that handles Ctrl-C itself (an agent run, which
/// reports what it did so far) may take to finish after it.
const COMMAND_GRACE: Duration = Duration::from_secs(10);

struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal's number.
    async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.int.recv() => libc::SIGINT,
            _ = self.term.recv() => libc::SIGTERM,
            _ = self.hup.recv() => libc::SIGHUP,
        }
    }
}

/// Which signals a command acts on itself before it is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handles {
    /// None: the first signal stops it.
    Nothing,
    /// A first Ctrl-C (an agent run reports what it did so far); it gets
    /// [`COMMAND_GRACE`] to finish.
    Interrupt,
    /// Any stop signal (the gateway drains); it gets this long to finish.
    Stop(Duration),
}

/// Runs `command` to its end or until a signal. On a signal its servers
/// are ended and the process exits with 128 + the signal, unless the
/// command [`Handles`] that signal: then it gets its grace to finish (a
/// second signal cuts that short), and exits with 128 + the signal.
///
/// The signals are watched from a task of their own, so a command blocked
/// on the calling thread (a terminal prompt waiting for a line) is still
/// stopped.
pub async fn until_signal(command: impl Future<Output = u8>, handles: Handles) -> u8 {
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch for signals ({e}); Ctrl-C may leave servers running");
            return command.await;
        }
    };
    let interrupted = Arc::new(AtomicI32::new(0));
    let watcher = tokio::spawn(watch(signals, handles, interrupted.clone()));
    let code = command.await;
    watcher.abort();
    match interrupted.load(Ordering::SeqCst) {
        0 => code,
        sig => exit_code(sig),
    }
}

async fn watch(mut signals: Signals, handles: Handles, interrupted: Arc<AtomicI32>) {
    let sig = signals.next().await;
    interrupted.store(sig, Ordering::SeqCst);
    let grace = match handles {
        Handles::Interrupt if sig == libc::SIGINT => Some(COMMAND_GRACE),
        Handles::Stop(grace) => Some(grace),
        _ => None,
    };
    if let Some(grace) = grace {
        tokio::select! {
            _ = signals.next() => {}
            _ = tokio::time::sleep(grace) => {}
        }
    }
    stop(exit_code(sig));
}

fn exit_code(sig: i32) -> u8 {
    u8::try_from(128 + sig).unwrap_or(u8::MAX)
}

/// Ends the servers and the process, now.
fn stop(code: u8) -> ! {
    crate::config::restore_terminal();
    tracing::debug!(code, "stopping: ending the servers");
    stdio::terminate_all(GRACE);
    std::process::exit(i32::from(code))
}

/// Whether stdout carries `--json` (exact bytes) rather than human text.
static JSON_OUTPUT: AtomicBool = AtomicBool::new(false);

/// Says stdout carries `--json`: nothing is escaped in it.
pub fn set_json_output(json: bool) {
    JSON_OUTPUT.store(json, Ordering::Relaxed);
}

/// Writes human or JSON output to stdout. Human text has its control
/// characters escaped ([`super::output::terminal_safe`]): a server's text
/// must not drive the terminal. A closed stdout (the reader of a pipe
/// went away) ends the process quietly, servers first.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = if JSON_OUTPUT.load(Ordering::Relaxed) {
        out.write_fmt(args)
    } else {
        let text = args.to_string();
        out.write_all(super::output::terminal_safe(&text).as_bytes())
    };
    if written.is_err() {
        stdout_closed();
    }
}

/// Writes a line of human output as it is: its control characters are
/// the CLI's own (colour), so every piece of a server's text in it must
/// have been escaped already ([`super::output::terminal_safe`]).
pub(super) fn write_stdout_styled(line: &str) {
    let mut out = std::io::stdout().lock();
    if out
        .write_all(line.as_bytes())
        .and_then(|_| out.write_all(b"\n"))
        .is_err()
    {
        stdout_closed();
    }
}

/// Like [`write_stdout`], for output that must reach the reader now (text
/// streamed as it comes).
pub fn flush_stdout() {
    if std::io::stdout().lock().flush().is_err() {
        stdout_closed();
    }
}

fn stdout_closed() -> ! {
    stop(0)
}

/// `print!` to stdout that ends the process quietly when stdout is closed.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::shutdown::write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout that ends the process quietly when stdout is closed.
macro_rules! outln {
    () => { $crate::cli::shutdown::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::shutdown::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
