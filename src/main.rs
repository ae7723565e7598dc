//! The `colloquy` command: see `colloquy --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    colloquy_cli::run()
}

mod colloquy_cli {
    include!("cli.rs");
}
