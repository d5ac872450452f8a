//! A fleet's servers started in parallel, with one line on stderr per
//! server as it connects or fails (on a terminal only; see
//! [`super::style::live`]).

use std::io::Write;
use std::time::Instant;

use futures_util::future::join_all;

use super::style::{paint, stderr_colour, Paint};
use crate::Fleet;

/// Starts `names` of `fleet` at once; with `live`, prints a line for each
/// as it is done. A failure is kept in the fleet's health (and retried on
/// use), as for any start.
pub(super) async fn start(fleet: &Fleet, names: &[String], live: bool) {
    if names.is_empty() {
        return;
    }
    let colour = live && stderr_colour();
    if live {
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            paint(
                &format!("connecting {} server(s)...", names.len()),
                Paint::Dim,
                colour
            )
        );
    }
    let started = Instant::now();
    join_all(names.iter().map(|name| async move {
        let outcome = fleet.client(name).await;
        if !live {
            return;
        }
        let ms = started.elapsed().as_millis();
        let line = match outcome {
            Ok(client) => {
                let version = client.protocol_version().map(|v| v.as_str()).unwrap_or("?");
                format!(
                    "  {} {name} ready in {ms} ms ({version})",
                    paint("✓", Paint::Green, colour)
                )
            }
            Err(e) => format!(
                "  {} {name} failed after {ms} ms: {}",
                paint("✗", Paint::Red, colour),
                super::output::terminal_safe(&super::output::first_line(Some(&e.to_string())))
            ),
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }))
    .await;
}
