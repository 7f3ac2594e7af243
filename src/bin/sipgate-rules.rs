//! `sipgate-rules`: check, try, publish and roll back rules documents, and
//! read the journal. `sipgate-rules --help` lists the commands,
//! `sipgate-rules COMMAND --help` each one's flags; docs/cli.md has the
//! reference with exit codes.
//!
//! Reading and writing KV and D1 goes through wrangler (the project's
//! `node_modules/.bin/wrangler`, or `$WRANGLER`), so the CLI uses exactly the
//! credentials and local store wrangler does; `--url` goes through a
//! deployed worker's admin API instead.

use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() -> ExitCode {
    ExitCode::FAILURE
}
