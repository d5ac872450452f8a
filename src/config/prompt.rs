//! Asking for an input on the terminal: the description on stderr, the
//! answer read from stdin, without echo for a `password` input.

use std::io::{BufRead, IsTerminal, Write};

use super::inputs::InputSpec;

/// Asks for `input` on the terminal when stdin and stderr are both one;
/// `None` otherwise, or at the end of input. Shows the description (else
/// the id), a `pickString`'s options and the default (for a non-password
/// input); a `password` input is read with echo off. Use it with
/// [`super::LoadOptions::prompt`].
pub fn terminal_prompt(input: &InputSpec) -> Option<String> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return None;
    }
    let mut label = input
        .description
        .clone()
        .unwrap_or_else(|| format!("Value for input {:?}", input.id));
    if !input.options.is_empty() {
        label.push_str(&format!(" ({})", input.options.join(", ")));
    }
    if let (Some(d), false) = (&input.default, input.password) {
        label.push_str(&format!(" [{d}]"));
    }
    // Echo goes off before the question shows, so nothing typed after it
    // appears can be echoed.
    let quiet = if input.password {
        match echo::Off::new() {
            Some(guard) => Some(guard),
            // Never show a secret: without a way to hide it, don't ask.
            None => return None,
        }
    } else {
        None
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{label}: ");
    let _ = err.flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if quiet.is_some() {
        // The Enter was not echoed either.
        let _ = writeln!(err);
    }
    drop(quiet);
    match read {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

/// Puts the terminal back as it was if a prompt turned echo off and the
/// process must exit before the prompt ends (a signal). Does nothing
/// otherwise.
pub fn restore_terminal() {
    echo::restore();
}

#[cfg(unix)]
mod echo {
    use std::sync::Mutex;

    /// The settings to restore while echo is off.
    static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

    fn saved() -> std::sync::MutexGuard<'static, Option<libc::termios>> {
        SAVED.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Restores the saved settings, if echo is off.
    pub(super) fn restore() {
        if let Some(settings) = saved().take() {
            // SAFETY: restores the settings tcgetattr gave us on fd 0.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &settings);
            }
        }
    }

    /// Echo turned off on stdin's terminal until dropped.
    pub(super) struct Off;

    impl Off {
        /// `None` when stdin's terminal settings cannot be read or changed.
        pub(super) fn new() -> Option<Off> {
            // SAFETY: an all-zero termios is a valid value for tcgetattr to
            // overwrite; it is only used after tcgetattr returned 0.
            let mut original: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: fd 0 is open for the process's lifetime, and
            // `original` is a valid, writable termios.
            if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut original) } != 0 {
                return None;
            }
            let mut quiet = original;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK | libc::ECHONL);
            // Kept before echo goes off, so a signal can always restore it.
            *saved() = Some(original);
            // SAFETY: as above; `quiet` is a valid termios read from the
            // terminal with only local flags cleared. TCSANOW keeps input
            // already typed.
            if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) } != 0 {
                *saved() = None;
                return None;
            }
            Some(Off)
        }
    }

    impl Drop for Off {
        fn drop(&mut self) {
            restore();
        }
    }
}

#[cfg(not(unix))]
mod echo {
    /// No way to turn echo off here: a password is never asked.
    pub(super) struct Off;

    pub(super) fn restore() {}

    impl Off {
        pub(super) fn new() -> Option<Off> {
            None
        }
    }
}
