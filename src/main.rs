//! The `switchboard` command; everything lives in `switchboard::cli`.

fn main() -> std::process::ExitCode {
    switchboard::cli::main()
}
