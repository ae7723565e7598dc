//! The `colloquy` command: see `colloquy --help`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
