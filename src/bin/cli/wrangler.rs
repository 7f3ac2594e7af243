//! The rules namespace through wrangler's `kv` commands, and the journal
//! through `d1 execute`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use sipgate_router::journal::sql::BINDING as JOURNAL_BINDING;
use sipgate_router::store::{self, Kv, KvWrite, StoreError};

use super::output::Failure;

/// Where the CLI reads and writes: the local store (optionally another
/// directory) or the real namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local { persist_to: Option<PathBuf> },
    Remote,
}

pub struct Wrangler {
    program: PathBuf,
    /// The project's root: wrangler runs there, so `wrangler.toml` and the
    /// local store are the project's, whatever the working directory.
    root: PathBuf,
    target: Target,
}

/// What `wrangler kv key get` prints, with exit status 0, for a missing key.
const NOT_FOUND: &str = "Value not found\n";

/// How often a local write is tried while `npm start`'s workerd holds the
/// store's SQLite lock (`SQLITE_BUSY`), and the pause before each retry.
const BUSY_TRIES: u32 = 20;
const BUSY_PAUSE: Duration = Duration::from_millis(250);

/// Runs a future that never waits: wrangler is called synchronously, so
/// the core's async store functions complete on their first poll.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// The nearest directory from `start` upwards holding `wrangler.toml`.
fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("wrangler.toml").is_file())
        .map(Path::to_path_buf)
}

impl Wrangler {
    /// Finds the project from the working directory (or `$SIPGATE_ROUTER_ROOT`)
    /// and its wrangler (or `$WRANGLER`).
    pub fn new(target: Target) -> Result<Wrangler, Failure> {
        let cwd = std::env::current_dir()
            .map_err(|error| Failure::Usage(format!("no working directory: {error}")))?;
        let root = std::env::var_os("SIPGATE_ROUTER_ROOT")
            .map(PathBuf::from)
            .or_else(|| project_root(&cwd))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{} is not inside the sipgate-router project (no wrangler.toml in it or above): \
                     run the CLI in the project, or use --url to reach a deployed worker",
                    cwd.display()
                ))
            })?;
        let program = std::env::var_os("WRANGLER")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("node_modules/.bin/wrangler"));
        // A relative --persist-to means relative to where the command was typed.
        let target = match target {
            Target::Local {
                persist_to: Some(dir),
            } => Target::Local {
                persist_to: Some(cwd.join(dir)),
            },
            other => other,
        };
        Ok(Wrangler {
            program,
            root,
            target,
        })
    }

    pub fn describe(&self) -> String {
        match &self.target {
            Target::Local { persist_to: None } => "the local KV (.wrangler/state)".to_owned(),
            Target::Local {
                persist_to: Some(dir),
            } => format!("the local KV in {}", dir.display()),
            Target::Remote => "the remote KV namespace".to_owned(),
        }
    }

    pub fn describe_journal(&self) -> String {
        match &self.target {
            Target::Local { persist_to: None } => "the local journal (.wrangler/state)".to_owned(),
            Target::Local {
                persist_to: Some(dir),
            } => format!("the local journal in {}", dir.display()),
            Target::Remote => "the remote journal".to_owned(),
        }
    }

    /// `wrangler kv … --binding ROUTES`, on the target.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(["kv"])
            .args(args)
            .args(["--binding", store::ROUTES_BINDING]);
        self.on_target(command)
    }

    fn on_target(&self, mut command: Command) -> Command {
        match &self.target {
            Target::Local { persist_to } => {
                command.arg("--local");
                if let Some(dir) = persist_to {
                    command.arg("--persist-to").arg(dir);
                }
            }
            Target::Remote => {
                command.arg("--remote");
            }
        }
        command
            .current_dir(&self.root)
            .env("WRANGLER_SEND_METRICS", "false");
        command
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut tries = 0;
        loop {
            match self.output(self.command(args), args) {
                // workerd (npm start) holds the local store's lock for a
                // moment while it reads: wait for it, briefly.
                Err(message)
                    if message.contains("SQLITE_BUSY")
                        && matches!(self.target, Target::Local { .. })
                        && tries + 1 < BUSY_TRIES =>
                {
                    tries += 1;
                    std::thread::sleep(BUSY_PAUSE);
                }
                other => return other,
            }
        }
    }

    fn output(&self, mut command: Command, args: &[&str]) -> Result<String, String> {
        let output = command.output().map_err(|error| {
            format!(
                "cannot run {}: {error} (run npm ci in {} first)",
                self.program.display(),
                self.root.display()
            )
        })?;
        if !output.status.success() {
            // wrangler says what went wrong on stderr, or as JSON on stdout.
            let said = [output.stderr.as_slice(), output.stdout.as_slice()]
                .map(|text| String::from_utf8_lossy(text).trim().to_owned())
                .join("\n");
            return Err(format!(
                "wrangler {} failed: {}",
                args.iter().take(2).copied().collect::<Vec<_>>().join(" "),
                said.trim()
            ));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| "wrangler printed something that is not UTF-8".to_owned())
    }

    /// The project's `wrangler.toml`, as text.
    pub fn config_text(&self) -> Result<String, String> {
        std::fs::read_to_string(self.root.join("wrangler.toml"))
            .map_err(|error| format!("cannot read wrangler.toml: {error}"))
    }

    pub fn is_remote(&self) -> bool {
        self.target == Target::Remote
    }

    /// Any wrangler command, run in the project; `on_target` adds
    /// `--local`/`--persist-to` or `--remote`. Its stdout, or why it failed.
    pub fn wrangler(&self, args: &[&str], on_target: bool) -> Result<String, String> {
        let mut command = Command::new(&self.program);
        command.args(args);
        let command = if on_target {
            self.on_target(command)
        } else {
            command
                .current_dir(&self.root)
                .env("WRANGLER_SEND_METRICS", "false");
            command
        };
        self.output(command, args)
    }

    /// Runs one SQL statement on the journal's D1 database
    /// (`wrangler d1 execute JOURNAL --json`) and returns its rows.
    pub fn d1_query(&self, sql: &str) -> Result<Vec<serde_json::Value>, Failure> {
        let args = ["d1", "execute", JOURNAL_BINDING, "--json", "--command", sql];
        let mut command = Command::new(&self.program);
        command.args(args);
        let stdout = self
            .output(self.on_target(command), &args)
            .map_err(Failure::Unreachable)?;
        let results: Vec<serde_json::Value> = serde_json::from_str(&stdout).map_err(|error| {
            Failure::Unreachable(format!("wrangler d1 execute printed no JSON: {error}"))
        })?;
        Ok(results
            .into_iter()
            .flat_map(|result| match result.get("results") {
                Some(serde_json::Value::Array(rows)) => rows.clone(),
                _ => Vec::new(),
            })
            .collect())
    }

    pub fn get(&self, key: &str) -> Result<Option<String>, String> {
        let value = self.run(&["key", "get", key, "--text"])?;
        Ok((value != NOT_FOUND).then_some(value))
    }

    fn bulk_put(&self, pairs: &[serde_json::Value]) -> Result<(), String> {
        let file = TempFile::new(&serde_json::to_string(pairs).unwrap_or_default())?;
        self.run(&["bulk", "put", file.path()]).map(drop)
    }
}

impl Kv for Wrangler {
    async fn get(&self, key: &str, _cache_ttl: u32) -> Result<Option<String>, StoreError> {
        Wrangler::get(self, key).map_err(StoreError)
    }
}

impl KvWrite for Wrangler {
    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let file = TempFile::new(value).map_err(StoreError)?;
        self.run(&["key", "put", key, "--path", file.path()])
            .map(drop)
            .map_err(StoreError)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run(&["key", "delete", key])
            .map(drop)
            .map_err(StoreError)
    }

    /// One bulk request per 10,000 pairs or 80 MB.
    async fn put_many(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        const MAX_PAIRS: usize = 10_000;
        const MAX_BYTES: usize = 80 * 1024 * 1024;
        let mut batch: Vec<serde_json::Value> = Vec::new();
        let mut bytes = 0;
        for (key, value) in entries {
            if batch.len() == MAX_PAIRS || (!batch.is_empty() && bytes + value.len() > MAX_BYTES) {
                self.bulk_put(&std::mem::take(&mut batch))
                    .map_err(StoreError)?;
                bytes = 0;
            }
            bytes += key.len() + value.len();
            batch.push(serde_json::json!({ "key": key, "value": value }));
        }
        if !batch.is_empty() {
            self.bulk_put(&batch).map_err(StoreError)?;
        }
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let file =
            TempFile::new(&serde_json::to_string(keys).unwrap_or_default()).map_err(StoreError)?;
        self.run(&["bulk", "delete", file.path(), "--force"])
            .map(drop)
            .map_err(StoreError)
    }
}

/// A file for wrangler to read, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str) -> Result<TempFile, String> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "sipgate-router-{}-{}.json",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        Ok(TempFile(path))
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
