//! `sipgate-rules`: check, try, publish and roll back rules documents.
//!
//! ```text
//! sipgate-rules check FILE [--json]
//! sipgate-rules simulate FILE --from N --to N --direction in|out [--at 2026-12-24T18:30]
//!                [--diversion N] [--user NAME]… [--user-id ID]… [--menu NAME --dtmf DIGITS [--try N]] [--json]
//! sipgate-rules publish FILE      [KV]
//! sipgate-rules versions          [KV]
//! sipgate-rules rollback [--to V] [KV]
//! sipgate-rules diff A B          [KV]   (A, B: version numbers or files)
//! sipgate-rules kill (--dial N… | --voicemail | --proceed | --reject [busy] | --off) [KV]
//! sipgate-rules calls [--number N] [--since T] [--until T] [--limit N] [--json] [KV]
//! sipgate-rules call CALLID [--json] [KV]
//! sipgate-rules hits [--since T] [--until T] [--json] [KV]
//!
//! KV: the local store by default (as `npm start` uses it); --persist-to DIR
//!     for another local store; --remote for the real namespace. The journal
//!     commands read the D1 database `JOURNAL` of the same place.
//! ```
//!
//! Reading and writing KV and D1 goes through wrangler (`node_modules/.bin/wrangler`,
//! or `$WRANGLER`), so the CLI uses exactly the credentials and local store
//! wrangler does.

use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() -> ExitCode {
    ExitCode::FAILURE
}
