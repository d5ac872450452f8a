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

/// Runs `command` to its end or until a signal. On a signal its servers
/// are ended and the exit code is 128 + the signal. With
/// `handles_interrupt`, a first Ctrl-C is the command's own to act on: it
/// gets [`COMMAND_GRACE`] to finish (a second signal cuts that short).
pub async fn until_signal(command: impl Future<Output = u8>, handles_interrupt: bool) -> u8 {
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch for signals ({e}); Ctrl-C may leave servers running");
            return command.await;
        }
    };
    let mut command = Box::pin(command);
    let sig = tokio::select! {
        code = &mut command => return code,
        sig = signals.next() => sig,
    };
    if handles_interrupt && sig == libc::SIGINT {
        tokio::select! {
            _ = &mut command => {}
            _ = signals.next() => {}
            _ = tokio::time::sleep(COMMAND_GRACE) => {}
        }
    }
    tracing::debug!(signal = sig, "stopping: ending the servers");
    // SIGTERM first, while the clients still hold their servers; dropping
    // the command afterwards would SIGKILL them straight away.
    let _ = tokio::task::spawn_blocking(|| stdio::terminate_all(GRACE)).await;
    drop(command);
    128 + sig as u8
}

/// Writes human or JSON output to stdout. A closed stdout (the reader of a
/// pipe went away) ends the process quietly, servers first.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).is_err() {
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
    stdio::terminate_all(GRACE);
    std::process::exit(0)
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
