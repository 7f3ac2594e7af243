//! The rules namespace through wrangler's `kv` commands, and the journal
//! through `d1 execute`.

use std::path::PathBuf;
use std::process::Command;

use sipgate_router::journal::sql::BINDING as JOURNAL_BINDING;
use sipgate_router::store;

/// Where the CLI reads and writes: the local store (optionally another
/// directory) or the real namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local { persist_to: Option<String> },
    Remote,
}

pub struct Wrangler {
    program: PathBuf,
    target: Target,
}

/// What `wrangler kv key get` prints, with exit status 0, for a missing key.
const NOT_FOUND: &str = "Value not found\n";

impl Wrangler {
    pub fn new(target: Target) -> Wrangler {
        let program = std::env::var_os("WRANGLER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("node_modules/.bin/wrangler"));
        Wrangler { program, target }
    }

    pub fn describe(&self) -> String {
        match &self.target {
            Target::Local { persist_to: None } => "the local KV (.wrangler/state)".to_owned(),
            Target::Local {
                persist_to: Some(dir),
            } => format!("the local KV in {dir}"),
            Target::Remote => "the remote KV namespace".to_owned(),
        }
    }

    /// `wrangler kv … --binding ROUTES`, on the target.
    pub fn describe_journal(&self) -> String {
        match &self.target {
            Target::Local { persist_to: None } => "the local journal (.wrangler/state)".to_owned(),
            Target::Local {
                persist_to: Some(dir),
            } => format!("the local journal in {dir}"),
            Target::Remote => "the remote journal".to_owned(),
        }
    }

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
                    command.args(["--persist-to", dir]);
                }
            }
            Target::Remote => {
                command.arg("--remote");
            }
        }
        command.env("WRANGLER_SEND_METRICS", "false");
        command
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        self.output(self.command(args), args)
    }

    fn output(&self, mut command: Command, args: &[&str]) -> Result<String, String> {
        let output = command.output().map_err(|error| {
            format!(
                "cannot run {}: {error} (run npm ci first)",
                self.program.display()
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

    /// Runs one SQL statement on the journal's D1 database
    /// (`wrangler d1 execute JOURNAL --json`) and returns its rows.
    pub fn d1_query(&self, sql: &str) -> Result<Vec<serde_json::Value>, String> {
        let args = ["d1", "execute", JOURNAL_BINDING, "--json", "--command", sql];
        let mut command = Command::new(&self.program);
        command.args(args);
        let stdout = self.output(self.on_target(command), &args)?;
        let results: Vec<serde_json::Value> = serde_json::from_str(&stdout)
            .map_err(|error| format!("wrangler d1 execute printed no JSON: {error}"))?;
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

    pub fn put(&self, key: &str, value: &str) -> Result<(), String> {
        let file = TempFile::new(value)?;
        self.run(&["key", "put", key, "--path", file.path()])
            .map(drop)
    }

    pub fn put_many(&self, entries: &[(String, String)]) -> Result<(), String> {
        // A bulk request takes at most 10,000 pairs and 100 MB.
        const MAX_PAIRS: usize = 10_000;
        const MAX_BYTES: usize = 80 * 1024 * 1024;
        let mut batch: Vec<serde_json::Value> = Vec::new();
        let mut bytes = 0;
        for (key, value) in entries {
            if batch.len() == MAX_PAIRS || (!batch.is_empty() && bytes + value.len() > MAX_BYTES) {
                self.bulk_put(&std::mem::take(&mut batch))?;
                bytes = 0;
            }
            bytes += key.len() + value.len();
            batch.push(serde_json::json!({ "key": key, "value": value }));
        }
        if !batch.is_empty() {
            self.bulk_put(&batch)?;
        }
        Ok(())
    }

    fn bulk_put(&self, pairs: &[serde_json::Value]) -> Result<(), String> {
        let file = TempFile::new(&serde_json::to_string(pairs).unwrap_or_default())?;
        self.run(&["bulk", "put", file.path()]).map(drop)
    }

    pub fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        if keys.is_empty() {
            return Ok(());
        }
        let file = TempFile::new(&serde_json::to_string(keys).unwrap_or_default())?;
        self.run(&["bulk", "delete", file.path(), "--force"])
            .map(drop)
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
