//! The commands of the `sipgate-rules` CLI (see `src/bin/sipgate-rules.rs` for usage).

mod diff;
mod journal;
mod wrangler;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::check::compile_action;
use sipgate_router::rules::problem::{parse_json, DocumentError, Problem};
use sipgate_router::rules::simulate::{simulate, CallInput};
use sipgate_router::rules::spec::{ActionSpec, DocumentSpec, RejectReasonSpec};
use sipgate_router::rules::{load, Checked};
use sipgate_router::store::{self, Index, Pointer, INDEX_KEY, LIVE_KEY};
use sipgate_router::time::calendar::LocalDateTime;

use wrangler::{Target, Wrangler};

const USAGE: &str = "usage:
  sipgate-rules check FILE [--json]
  sipgate-rules simulate FILE --from N --to N --direction in|out [--at 2026-12-24T18:30]
                 [--diversion N] [--user NAME]... [--user-id ID]... [--menu NAME --dtmf DIGITS [--try N]] [--json]
  sipgate-rules publish FILE       [--remote | --persist-to DIR]
  sipgate-rules versions           [--remote | --persist-to DIR]
  sipgate-rules rollback [--to V]  [--remote | --persist-to DIR]
  sipgate-rules diff A B           [--remote | --persist-to DIR]   (A, B: version numbers or files)
  sipgate-rules kill (--dial N... | --voicemail | --proceed | --reject | --busy | --hangup | --off)
                                    [--remote | --persist-to DIR]
  sipgate-rules calls [--number N] [--since T] [--until T] [--limit 50] [--json]
                                    [--remote | --persist-to DIR]   (T: 2026-11-30 or 2026-11-30T09:00, UTC)
  sipgate-rules call CALLID [--json] [--remote | --persist-to DIR]
  sipgate-rules hits [--since T] [--until T] [--json] [--remote | --persist-to DIR]";

/// Flags that take no value.
const SWITCHES: &[&str] = &[
    "json",
    "remote",
    "voicemail",
    "proceed",
    "reject",
    "busy",
    "hangup",
    "off",
    "help",
];

pub(crate) struct Args {
    pub(crate) positional: Vec<String>,
    values: HashMap<String, Vec<String>>,
}

impl Args {
    fn parse(raw: &[String]) -> Result<Args, String> {
        let mut args = Args {
            positional: Vec::new(),
            values: HashMap::new(),
        };
        let mut iter = raw.iter();
        while let Some(arg) = iter.next() {
            match arg.strip_prefix("--") {
                Some(name) if SWITCHES.contains(&name) => {
                    args.values.entry(name.to_owned()).or_default();
                }
                Some(name) => {
                    let value = iter
                        .next()
                        .ok_or_else(|| format!("--{name} needs a value"))?;
                    args.values
                        .entry(name.to_owned())
                        .or_default()
                        .push(value.clone());
                }
                None => args.positional.push(arg.clone()),
            }
        }
        Ok(args)
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub(crate) fn one(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .and_then(|values| values.last().cloned())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn required(&self, name: &str) -> Result<String, String> {
        self.one(name)
            .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
    }

    fn file(&self, index: usize) -> Result<String, String> {
        self.positional
            .get(index)
            .cloned()
            .ok_or_else(|| format!("a FILE is required\n{USAGE}"))
    }

    pub(crate) fn kv(&self) -> Wrangler {
        Wrangler::new(if self.has("remote") {
            Target::Remote
        } else {
            Target::Local {
                persist_to: self.one("persist-to"),
            }
        })
    }
}

pub fn run(raw: &[String]) -> Result<ExitCode, String> {
    let Some((command, rest)) = raw.split_first() else {
        return Err(USAGE.to_owned());
    };
    let args = Args::parse(rest)?;
    match command.as_str() {
        "check" => check(&args),
        "simulate" => simulate_call(&args),
        "publish" => publish(&args),
        "versions" => versions(&args),
        "rollback" => rollback(&args),
        "diff" => diff::run(&args.positional, &args.kv()),
        "kill" => kill(&args),
        "calls" => journal::calls(&args),
        "call" => journal::call(&args),
        "hits" => journal::hits(&args),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))
}

fn print_problems(file: &str, kind: &str, problems: &[Problem]) {
    for problem in problems {
        eprintln!("{file}: {kind}: {problem}");
    }
}

/// Loads and checks a document, printing what is wrong; `None` on errors.
fn checked(file: &str, source: &str) -> Option<Checked> {
    match load(source) {
        Ok(checked) => {
            print_problems(file, "warning", &checked.warnings);
            Some(checked)
        }
        Err(error) => {
            print_problems(file, "error", error.problems());
            None
        }
    }
}

fn check(args: &Args) -> Result<ExitCode, String> {
    let file = args.file(0)?;
    let source = read(&file)?;
    let result = load(&source);
    if args.has("json") {
        let (errors, warnings) = match &result {
            Ok(checked) => (Vec::new(), checked.warnings.clone()),
            Err(error) => (error.problems().to_vec(), Vec::new()),
        };
        let as_json = |problems: &[Problem]| {
            problems
                .iter()
                .map(|problem| serde_json::json!({ "path": problem.path, "message": problem.message }))
                .collect::<Vec<_>>()
        };
        println!(
            "{}",
            serde_json::json!({ "errors": as_json(&errors), "warnings": as_json(&warnings) })
        );
        return Ok(if errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    match result {
        Ok(checked) => {
            print_problems(&file, "warning", &checked.warnings);
            let rules = &checked.rules;
            let count = rules.global.len()
                + rules.default.len()
                + rules.numbers.values().map(Vec::len).sum::<usize>();
            println!(
                "{file}: ok — {} numbers, {count} rules, {} menus, {} warnings",
                rules.numbers.len(),
                rules.menus.len(),
                checked.warnings.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            print_problems(&file, "error", error.problems());
            eprintln!("{file}: {} errors", error.problems().len());
            Ok(ExitCode::FAILURE)
        }
    }
}

pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

fn simulate_call(args: &Args) -> Result<ExitCode, String> {
    let file = args.file(0)?;
    let Some(checked) = checked(&file, &read(&file)?) else {
        return Ok(ExitCode::FAILURE);
    };
    let input = CallInput {
        from: args.required("from")?,
        to: args.required("to")?,
        direction: args.required("direction")?,
        at: args.one("at"),
        diversion: args.one("diversion"),
        users: args.all("user"),
        user_ids: args.all("user-id"),
        menu: args.one("menu"),
        dtmf: args.one("dtmf"),
        attempt: args
            .one("try")
            .map(|attempt| {
                attempt
                    .parse()
                    .map_err(|_| format!("--try must be a number, not {attempt:?}"))
            })
            .transpose()?,
    };
    let base = SelfUrl::from_request_url("https://router.example/")
        .ok_or("the example base URL is invalid")?;
    let trace = simulate(
        Some(&checked.rules),
        None,
        None,
        &input,
        &base,
        now_seconds(),
    )
    .map_err(|error| error.0)?;
    if args.has("json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&trace).map_err(|error| error.to_string())?
        );
    } else {
        print!("{}", trace.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn pointer(kv: &Wrangler) -> Result<Option<Pointer>, String> {
    kv.get(LIVE_KEY)?
        .map(|json| {
            Pointer::parse(&json).map_err(|error| format!("{LIVE_KEY} is corrupt: {error}"))
        })
        .transpose()
}

pub(crate) fn index(kv: &Wrangler) -> Result<Index, String> {
    match kv.get(INDEX_KEY)? {
        None => Ok(Index::default()),
        Some(json) => parse_json(&json)
            .map_err(|error: DocumentError| format!("{INDEX_KEY} is corrupt: {error}")),
    }
}

fn rfc3339(seconds: i64) -> String {
    let at = LocalDateTime::from_seconds_since_epoch(seconds);
    format!("{}T{}:{:02}Z", at.date, at.time, at.second)
}

fn publish(args: &Args) -> Result<ExitCode, String> {
    let file = args.file(0)?;
    let source = read(&file)?;
    if checked(&file, &source).is_none() {
        eprintln!("{file}: not published; nothing was written");
        return Ok(ExitCode::FAILURE);
    }
    let spec: DocumentSpec = parse_json(&source).map_err(|error| error.to_string())?;
    let kv = args.kv();
    let current = pointer(&kv)?;
    let plan = store::plan_publish(
        &source,
        &spec,
        &index(&kv)?,
        current.as_ref(),
        rfc3339(now_seconds()),
        Some(file.clone()),
    );
    if let Some(problem) = plan.too_large() {
        eprintln!("{file}: {problem}");
        eprintln!("{file}: not published; nothing was written");
        return Ok(ExitCode::FAILURE);
    }
    kv.put_many(&plan.writes)?;
    kv.put(&plan.pointer.0, &plan.pointer.1)?;
    kv.delete_many(&plan.deletes)?;
    let shards = plan.pointer_shards();
    println!(
        "published {file} as version {} ({} numbers, {shards} shard{}) to {}; it is live",
        plan.version,
        spec.numbers.len(),
        if shards == 1 { "" } else { "s" },
        kv.describe()
    );
    if let Some(previous) = current.filter(|pointer| pointer.version > 0) {
        println!("previous version {} stays for rollback", previous.version);
    }
    if !plan.deletes.is_empty() {
        println!(
            "removed {} keys of versions beyond the last {}",
            plan.deletes.len(),
            store::KEEP_VERSIONS
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn versions(args: &Args) -> Result<ExitCode, String> {
    let kv = args.kv();
    let live = pointer(&kv)?.unwrap_or_default();
    let index = index(&kv)?;
    if index.versions.is_empty() {
        println!("nothing published in {}", kv.describe());
    }
    for entry in &index.versions {
        println!(
            "{} {:>4}  {}  {:>7} numbers  {:>4} shards  {}",
            if entry.version == live.version {
                "live"
            } else {
                "    "
            },
            entry.version,
            entry.published_at,
            entry.numbers,
            entry.shards,
            entry.source.as_deref().unwrap_or("")
        );
    }
    if let Some(kill) = &live.kill {
        println!(
            "kill switch SET: {}",
            serde_json::to_string(kill).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn rollback(args: &Args) -> Result<ExitCode, String> {
    let kv = args.kv();
    let live = pointer(&kv)?.ok_or("nothing is published: there is nothing to roll back")?;
    let index = index(&kv)?;
    let target = match args.one("to") {
        Some(version) => {
            let version: u64 = version
                .parse()
                .map_err(|_| format!("--to must be a version number, not {version:?}"))?;
            index
                .versions
                .iter()
                .find(|entry| entry.version == version)
                .ok_or(format!(
                    "version {version} is not among the kept versions (see `versions`)"
                ))?
        }
        None => index
            .versions
            .iter()
            .find(|entry| entry.version < live.version)
            .ok_or(format!(
                "no version older than the live {} is kept",
                live.version
            ))?,
    };
    let first_shard = store::shard_key(target.version, 0);
    if kv.get(&first_shard)?.is_none() {
        return Err(format!(
            "{first_shard} is missing: version {} cannot be restored",
            target.version
        ));
    }
    let pointer = Pointer {
        version: target.version,
        shards: target.shards,
        kill: live.kill.clone(),
    };
    kv.put(LIVE_KEY, &pointer.to_json())?;
    println!(
        "rolled back {} from version {} to version {} (published {})",
        kv.describe(),
        live.version,
        target.version,
        target.published_at
    );
    Ok(ExitCode::SUCCESS)
}

fn kill(args: &Args) -> Result<ExitCode, String> {
    let action = if args.has("off") {
        None
    } else if args.has("dial") {
        Some(ActionSpec::Dial {
            numbers: args.all("dial"),
            caller_id: None,
            anonymous: None,
        })
    } else if args.has("voicemail") {
        Some(ActionSpec::Voicemail {})
    } else if args.has("proceed") {
        Some(ActionSpec::Proceed {})
    } else if args.has("busy") {
        Some(ActionSpec::Reject {
            reason: Some(RejectReasonSpec::Busy),
        })
    } else if args.has("reject") {
        Some(ActionSpec::Reject { reason: None })
    } else if args.has("hangup") {
        Some(ActionSpec::Hangup {})
    } else {
        return Err(format!("say what every call should get\n{USAGE}"));
    };
    if let Some(action) = &action {
        if let Err(problems) = compile_action(action, "kill") {
            print_problems("kill", "error", &problems);
            return Ok(ExitCode::FAILURE);
        }
    }
    let kv = args.kv();
    let mut pointer = pointer(&kv)?.unwrap_or_default();
    pointer.kill = action;
    kv.put(LIVE_KEY, &pointer.to_json())?;
    match &pointer.kill {
        Some(action) => println!(
            "kill switch set in {}: every call now gets {}",
            kv.describe(),
            serde_json::to_string(action).unwrap_or_default()
        ),
        None => println!(
            "kill switch off in {}: the rules of version {} decide again",
            kv.describe(),
            pointer.version
        ),
    }
    Ok(ExitCode::SUCCESS)
}
