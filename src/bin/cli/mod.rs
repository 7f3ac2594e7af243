//! The commands of the `sipgate-rules` CLI: the arguments (every flag
//! known, `--help` never acts), then one function per command. What a
//! command does to the store is the core's [`store::admin`]; where it does
//! it is a [`Place`].

mod api;
mod diff;
mod doctor;
mod journal;
mod output;
mod place;
mod sounds;
mod wrangler;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, Parser, Subcommand};
use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::expect;
use sipgate_router::rules::load;
use sipgate_router::rules::problem::parse_json;
use sipgate_router::rules::simulate::{simulate, Against, CallInput};
use sipgate_router::rules::spec::{ActionSpec, DocumentSpec, RejectReasonSpec};
use sipgate_router::store::layout::RulesFormat;
use sipgate_router::store::{self, AdminError};

use output::{Failure, Output};
use place::{Place, PublishOptions};

const EXIT_CODES: &str = "Exit codes:
  0  done (check: no errors; diff: the documents route identically)
  1  invalid, refused or different: a document with errors, a publish conflict,
     a version not kept, no draft, a promote refused (live changed since the draft),
     documents that differ (diff, like diff(1))
  2  usage: an unknown command or flag, a missing or extra argument, conflicting choices,
     a file that cannot be read, a --persist-to directory that does not exist (but for
     publish and kill, which make a new store there)
  3  the store cannot be reached: wrangler failed, the worker's admin API did not answer";

/// Check, try, publish and roll back the routing rules of sipgate-router.
///
/// Where a command reads or writes: the local store by default (as `npm
/// start` uses it, found from any directory of the project), `--persist-to
/// DIR` for another local store (made by the first `publish` or `kill`
/// there), `--remote` for the production namespace
/// through wrangler, or `--url URL` for a deployed worker's admin API with
/// the token in an environment variable (no wrangler login needed).
#[derive(Debug, Parser)]
#[command(name = "sipgate-rules", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a rules document: every problem with its JSON path
    Check {
        /// The rules document (JSON)
        file: PathBuf,
        /// Also fetch every prompt and play URL (the first bytes, 4 at a time) and check that
        /// sipgate can play it: WAV, 16-bit PCM, 8,000 Hz, mono (unreachable is a warning)
        #[arg(long)]
        sounds: bool,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Route one call through a document and show why it went where it went
    Simulate(SimulateArgs),
    /// Check a document and make it the live rules (keys first, pointer last)
    Publish {
        /// The rules document (JSON)
        file: PathBuf,
        /// Publish only if this version is live now (0: nothing is); refused otherwise
        #[arg(long, value_name = "VERSION")]
        if_match: Option<u64>,
        /// Publish even if expectations of the document fail (the index records how many did)
        #[arg(long)]
        force_expectations: bool,
        /// Publish as the draft: live only for the --test-caller numbers, everyone else keeps the
        /// live version (replaces an earlier draft; `promote` or `discard` it later)
        #[arg(long, requires = "test_caller")]
        draft: bool,
        /// A caller who gets the draft: a number (4915790000123) or a prefix (49157900001*);
        /// repeatable
        #[arg(long = "test-caller", value_name = "N", requires = "draft")]
        test_caller: Vec<String>,
        /// The rules format of the shards: 2, compiled, which a push only decodes (the default);
        /// 1, the document's JSON, for a worker deployed before format 2 (deploy, then publish
        /// again). Through --url the worker writes its own
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2), conflicts_with = "url")]
        rules_format: Option<u32>,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Make the draft live for everyone (refused when another version went live after the draft
    /// was published, unless --force)
    Promote {
        /// Promote even though another version went live after the draft was published (the
        /// draft replaces it)
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Drop the draft: its test callers get the live version again (the version stays kept)
    Discard {
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// What is live: version, who published it and when, kill switch
    Status {
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// The kept versions, newest first
    Versions {
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Make a kept version live again (the kill switch stays as it is)
    Rollback {
        /// The version to go back to; default: the newest older than the live one
        #[arg(long, value_name = "VERSION")]
        to: Option<u64>,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// What changed between two documents: version numbers, `live`, or files (exit 1 when they differ)
    Diff {
        /// A version number, `live`, or a file
        a: String,
        /// A version number, `live`, or a file
        b: String,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// Answer every call the same way without reading the rules, or turn that off
    Kill(KillArgs),
    /// Check a deployed worker end to end: admin API, settings, push protection, rules, kill
    /// switch, journal, webhook — one line per check, with the fix (exit 1 on any failure)
    ///
    /// With --url: the deployed worker, through its admin API and its webhook. With --remote (or
    /// the local store): wrangler.toml, the login and the secrets, the journal's migrations and the
    /// rules, through wrangler.
    Doctor {
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// The latest calls in the journal
    Calls {
        /// Only calls from or to this number
        #[arg(long, value_name = "N")]
        number: Option<String>,
        /// From this time, UTC: 2026-11-30 or 2026-11-30T09:00 (default: 7 days before --until)
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Until this time, UTC (default: now)
        #[arg(long, value_name = "T")]
        until: Option<String>,
        /// At most this many calls
        #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// One call's timeline: every push of its legs
    Call {
        /// The call's id as sipgate sends it (callId)
        call_id: String,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
    /// How often each rule decided a call; rules that never did
    Hits {
        /// From this time, UTC: 2026-11-30 or 2026-11-30T09:00 (default: 7 days before --until)
        #[arg(long, value_name = "T")]
        since: Option<String>,
        /// Until this time, UTC (default: now)
        #[arg(long, value_name = "T")]
        until: Option<String>,
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        output: JsonFlag,
    },
}

#[derive(Debug, Args, Clone, Copy)]
struct JsonFlag {
    /// Print JSON on stdout (also for failures), no progress
    #[arg(long)]
    json: bool,
}

/// Where a command reads and writes the rules.
#[derive(Debug, Args, Clone)]
struct PlaceArgs {
    #[command(flatten)]
    kv: KvPlaceArgs,
    /// A deployed worker's admin API, e.g. https://router.example.com (no wrangler login needed)
    #[arg(long, value_name = "URL", conflicts_with_all = ["remote", "persist_to"])]
    url: Option<String>,
    /// The environment variable holding the admin token for --url
    #[arg(long, value_name = "VAR", requires = "url", conflicts_with_all = ["remote", "persist_to"])]
    token_env: Option<String>,
}

/// Where wrangler reads and writes.
#[derive(Debug, Args, Clone)]
struct KvPlaceArgs {
    /// The production namespace and database, through wrangler (needs `wrangler login`)
    #[arg(long, conflicts_with = "persist_to")]
    remote: bool,
    /// Another local store than the project's .wrangler/state
    #[arg(long, value_name = "DIR")]
    persist_to: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// The rules document (JSON)
    file: PathBuf,
    /// The caller's number
    #[arg(long, value_name = "N")]
    from: String,
    /// The called number
    #[arg(long, value_name = "N")]
    to: String,
    /// in: a call to the sipgate number in --to; out: a call from the one in --from
    #[arg(long, value_parser = ["in", "out"])]
    direction: String,
    /// Local time in the document's zone (2026-12-24T18:30) or RFC 3339; default: now
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// The number the call was diverted from
    #[arg(long, value_name = "N")]
    diversion: Option<String>,
    /// A sipgate user the call is for (repeatable)
    #[arg(long, value_name = "NAME")]
    user: Vec<String>,
    /// A sipgate user id the call is for (repeatable)
    #[arg(long, value_name = "ID")]
    user_id: Vec<String>,
    /// The menu the digits answer
    #[arg(long, value_name = "NAME", requires = "dtmf")]
    menu: Option<String>,
    /// The digits pressed in --menu
    #[arg(long, value_name = "DIGITS", requires = "menu")]
    dtmf: Option<String>,
    /// Which attempt at the menu this is (0: the first)
    #[arg(long = "try", value_name = "N", requires = "menu")]
    attempt: Option<u32>,
    #[command(flatten)]
    output: JsonFlag,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("action").required(true).multiple(false)))]
struct KillArgs {
    /// Ring these numbers at once (all of them: --dial A B C)
    #[arg(long, value_name = "N", num_args = 1.., group = "action")]
    dial: Vec<String>,
    /// Send every call to voicemail
    #[arg(long, group = "action")]
    voicemail: bool,
    /// Let sipgate route every call as if the router were not there
    #[arg(long, group = "action")]
    proceed: bool,
    /// Reject every call
    #[arg(long, group = "action")]
    reject: bool,
    /// Reject every call as busy
    #[arg(long, group = "action")]
    busy: bool,
    /// Hang up every call
    #[arg(long, group = "action")]
    hangup: bool,
    /// Turn the kill switch off: the rules decide again
    #[arg(long, group = "action")]
    off: bool,
    #[command(flatten)]
    place: PlaceArgs,
    #[command(flatten)]
    output: JsonFlag,
}

/// Parses the arguments (printing help, the version or a usage error with
/// exit code 2 as clap does) and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.json();
    let out = Output::new(json);
    match run(cli.command, &out) {
        Ok(code) => code,
        Err(failure) => out.fail(&failure),
    }
}

impl Command {
    fn json(&self) -> bool {
        let flag = match self {
            Command::Check { output, .. }
            | Command::Publish { output, .. }
            | Command::Promote { output, .. }
            | Command::Doctor { output, .. }
            | Command::Discard { output, .. }
            | Command::Status { output, .. }
            | Command::Versions { output, .. }
            | Command::Rollback { output, .. }
            | Command::Diff { output, .. }
            | Command::Calls { output, .. }
            | Command::Call { output, .. }
            | Command::Hits { output, .. } => output,
            Command::Simulate(args) => &args.output,
            Command::Kill(args) => &args.output,
        };
        flag.json
    }
}

fn run(command: Command, out: &Output) -> Result<ExitCode, Failure> {
    match command {
        Command::Check { file, sounds, .. } => check(&file, sounds, out),
        Command::Simulate(args) => simulate_call(&args, out),
        Command::Publish {
            file,
            if_match,
            force_expectations,
            draft,
            test_caller,
            rules_format,
            place,
            ..
        } => publish(
            &file,
            PublishOptions {
                if_match,
                force_expectations,
                draft: draft.then_some(test_caller),
                format: rules_format.map_or(RulesFormat::WRITTEN, RulesFormat),
            },
            &place.open(Opening::MayCreate)?,
            out,
        ),
        Command::Promote { force, place, .. } => {
            promote(force, &place.open(Opening::Existing)?, out)
        }
        Command::Discard { place, .. } => discard(&place.open(Opening::Existing)?, out),
        Command::Doctor { place, .. } => match &place.url {
            Some(url) => {
                let variable = place.token_env.as_deref().unwrap_or(api::TOKEN_ENV);
                doctor::doctor(&api::Api::new(url, variable)?, variable, out)
            }
            None => doctor::doctor_store(&place.kv.open(Opening::Existing)?, out),
        },
        Command::Status { place, .. } => place.open(Opening::Existing)?.status(out),
        Command::Versions { place, .. } => versions(&place.open(Opening::Existing)?, out),
        Command::Rollback { to, place, .. } => rollback(to, &place.open(Opening::Existing)?, out),
        Command::Diff { a, b, place, .. } => {
            diff::run(&a, &b, &place.open(Opening::Existing)?, out)
        }
        Command::Kill(args) => kill(&args, out),
        Command::Calls {
            number,
            since,
            until,
            limit,
            place,
            ..
        } => journal::calls(
            &place.open(Opening::Existing)?,
            number,
            journal::period(since.as_deref(), until.as_deref())?,
            limit,
            out,
        ),
        Command::Call { call_id, place, .. } => {
            journal::call(&place.open(Opening::Existing)?, &call_id, out)
        }
        Command::Hits {
            since,
            until,
            place,
            ..
        } => journal::hits(
            &place.open(Opening::Existing)?,
            journal::period(since.as_deref(), until.as_deref())?,
            out,
        ),
    }
}

/// Whether a command may start a new local store in a `--persist-to`
/// directory that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// It writes rules (`publish`, `kill`): a new directory is a new store.
    MayCreate,
    /// It reads the store or changes what is in it: a directory that does
    /// not exist is a mistyped path, refused before wrangler would create
    /// it and report an empty store.
    Existing,
}

impl PlaceArgs {
    fn open(&self, opening: Opening) -> Result<Place, Failure> {
        match &self.url {
            Some(url) => {
                let variable = self.token_env.as_deref().unwrap_or(api::TOKEN_ENV);
                Ok(Place::Api(api::Api::new(url, variable)?))
            }
            None => Ok(Place::Kv(self.kv.open(opening)?)),
        }
    }
}

impl KvPlaceArgs {
    fn open(&self, opening: Opening) -> Result<wrangler::Wrangler, Failure> {
        let target = if self.remote {
            wrangler::Target::Remote
        } else {
            if let Some(dir) = &self.persist_to {
                if opening == Opening::Existing && !dir.is_dir() {
                    return Err(Failure::Usage(format!(
                        "--persist-to {}: no such directory (a local store is made by the first \
                         `publish --persist-to DIR`)",
                        dir.display()
                    )));
                }
            }
            wrangler::Target::Local {
                persist_to: self.persist_to.clone(),
            }
        };
        wrangler::Wrangler::new(target)
    }
}

fn read(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|error| Failure::Usage(format!("cannot read {}: {error}", path.display())))
}

fn check(file: &std::path::Path, with_sounds: bool, out: &Output) -> Result<ExitCode, Failure> {
    let name = file.display().to_string();
    let source = read(file)?;
    let report = output::CheckReport::check(&source);
    // A document that cannot be read has no sounds to name; its errors say why.
    let sounds = with_sounds
        .then(|| parse_json::<DocumentSpec>(&source).ok())
        .flatten()
        .map(|spec| sounds::check_sounds(&spec));
    if out.json {
        let mut json = serde_json::to_value(&report.report).unwrap_or_default();
        if let (Some(sounds), Some(object)) = (&sounds, json.as_object_mut()) {
            object.insert(
                "sounds".to_owned(),
                serde_json::to_value(sounds).unwrap_or_default(),
            );
        }
        out.json_line(&json);
    } else {
        report.print(&name);
        for sound in sounds.iter().flatten() {
            match (sound.status, &sound.message) {
                ("ok", _) => println!("{name}: sound ok: {} {}", sound.path, sound.url),
                ("unplayable", Some(message)) => {
                    eprintln!("{name}: error: {}: {} {message}", sound.path, sound.url)
                }
                (_, message) => eprintln!(
                    "{name}: warning: {}: {} cannot be fetched here: {}",
                    sound.path,
                    sound.url,
                    message.as_deref().unwrap_or("")
                ),
            }
        }
    }
    let unplayable = sounds
        .iter()
        .flatten()
        .any(sipgate_router::rules::sounds::Sound::is_error);
    Ok(if unplayable {
        ExitCode::FAILURE
    } else {
        report.exit_code()
    })
}

pub(crate) fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

fn simulate_call(args: &SimulateArgs, out: &Output) -> Result<ExitCode, Failure> {
    let name = args.file.display().to_string();
    let report = output::CheckReport::of(load(&read(&args.file)?));
    let Some(checked) = report.checked else {
        return Err(Failure::Invalid(
            report.into_problems(&name),
            "the call was not simulated",
        ));
    };
    let input = CallInput {
        from: args.from.clone(),
        to: args.to.clone(),
        direction: args.direction.clone(),
        at: args.at.clone(),
        diversion: args.diversion.clone(),
        users: args.user.clone(),
        user_ids: args.user_id.clone(),
        menu: args.menu.clone(),
        dtmf: args.dtmf.clone(),
        attempt: args.attempt,
    };
    let base = SelfUrl::from_request_url("https://router.example/")
        .ok_or_else(|| Failure::Failed("the example base URL is invalid".to_owned()))?;
    let trace = simulate(
        &Against::document(&checked.rules, &base),
        &input,
        now_seconds(),
    )
    .map_err(|error| Failure::Usage(error.0))?;
    if out.json {
        out.json_pretty(&trace);
    } else {
        print!("{}", trace.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(
    file: &std::path::Path,
    options: PublishOptions,
    place: &Place,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let source = read(file)?;
    let published = place
        .publish(&source, &name, &options, out)
        .map_err(|error| Failure::admin(error, &name, "not published; nothing was written"))?;
    if out.json {
        out.json_line(&published);
        return Ok(ExitCode::SUCCESS);
    }
    for warning in &published.warnings {
        eprintln!("{name}: warning: {warning}");
    }
    if let Some(failed) = published.expectations_failed {
        eprintln!(
            "{name}: warning: published although {failed} of its expectations fail \
             (--force-expectations; the index records it)"
        );
    }
    let shards = format!(
        "{} number{}, {} shard{}",
        published.numbers,
        if published.numbers == 1 { "" } else { "s" },
        published.shards,
        if published.shards == 1 { "" } else { "s" }
    );
    match &published.draft {
        Some(callers) => {
            println!(
                "published {name} as draft version {} ({shards}) to {}: live only for the test callers {}",
                published.version,
                place.describe(),
                callers.join(", ")
            );
            match published.previous {
                Some(live) => println!("everyone else keeps version {live}"),
                None => println!("everyone else: no rules published (calls proceed unrouted)"),
            }
            println!("next: call from a test caller, then `promote` (or `discard`) the draft");
        }
        None => {
            println!(
                "published {name} as version {} ({shards}) to {}; it is live",
                published.version,
                place.describe()
            );
            if let Some(previous) = published.previous {
                println!("previous version {previous} stays for rollback");
            }
        }
    }
    if published.removed_keys > 0 {
        println!(
            "removed {} keys of versions beyond the last {}",
            published.removed_keys,
            store::KEEP_VERSIONS
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn versions(place: &Place, out: &Output) -> Result<ExitCode, Failure> {
    let (live, index) = place.versions()?;
    if out.json {
        out.json_pretty(&serde_json::json!({
            "live": live.version,
            "kill": live.kill,
            "draft": live.draft,
            "versions": index.versions,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if index.versions.is_empty() {
        println!("nothing published in {}", place.describe());
    }
    for entry in &index.versions {
        println!(
            "{} {:>4}  {}  {:>7} numbers  {:>4} shards  format {}  {}{}{}",
            if entry.version == live.version {
                "live "
            } else if live
                .draft
                .as_ref()
                .is_some_and(|draft| draft.version == entry.version)
            {
                "draft"
            } else {
                "     "
            },
            entry.version,
            entry.published_at,
            entry.numbers,
            entry.shards,
            entry.format.0,
            entry.source.as_deref().unwrap_or(""),
            entry
                .published_by
                .as_deref()
                .map(|by| format!("  by {by}"))
                .unwrap_or_default(),
            entry
                .expectations_failed
                .map(|failed| format!(
                    "  forced past {failed} failing expectation{}",
                    if failed == 1 { "" } else { "s" }
                ))
                .unwrap_or_default(),
        );
    }
    if let Some(draft) = &live.draft {
        println!(
            "draft {} is live for the test callers {} (published {})",
            draft.version,
            draft.callers.join(", "),
            match draft.base {
                0 => "when nothing was live".to_owned(),
                base => format!("on version {base}"),
            }
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

fn rollback(to: Option<u64>, place: &Place, out: &Output) -> Result<ExitCode, Failure> {
    let done = place
        .rollback(to)
        .map_err(|error| Failure::admin(error, "rollback", "nothing was changed"))?;
    if out.json {
        out.json_line(&done);
    } else {
        println!(
            "rolled back {} from version {} to version {} (published {})",
            place.describe(),
            done.from,
            done.to.version,
            done.to.published_at
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn promote(force: bool, place: &Place, out: &Output) -> Result<ExitCode, Failure> {
    let done = place
        .promote(force)
        .map_err(|error| Failure::admin(error, "promote", "nothing was changed"))?;
    if out.json {
        out.json_line(&done);
    } else {
        println!(
            "promoted draft version {} in {}: it is live for every caller{}",
            done.to.version,
            place.describe(),
            match done.from {
                0 => String::new(),
                from => format!(" (version {from} stays for rollback)"),
            }
        );
        if let Some(replaced) = done.replaced {
            println!("forced: it replaced version {replaced}, which went live after the draft was published");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn discard(place: &Place, out: &Output) -> Result<ExitCode, Failure> {
    let draft = place
        .discard()
        .map_err(|error| Failure::admin(error, "discard", "nothing was changed"))?;
    if out.json {
        out.json_line(&serde_json::json!({ "discarded": draft }));
    } else {
        println!(
            "discarded draft version {} in {}: its test callers ({}) get the live version again; \
             the version stays among the kept ones",
            draft.version,
            place.describe(),
            draft.callers.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn kill(args: &KillArgs, out: &Output) -> Result<ExitCode, Failure> {
    let action = if args.off {
        None
    } else if !args.dial.is_empty() {
        Some(ActionSpec::Dial {
            numbers: args.dial.clone(),
            caller_id: None,
            anonymous: None,
        })
    } else if args.voicemail {
        Some(ActionSpec::Voicemail {})
    } else if args.proceed {
        Some(ActionSpec::Proceed {})
    } else if args.busy {
        Some(ActionSpec::Reject {
            reason: Some(RejectReasonSpec::Busy),
        })
    } else if args.reject {
        Some(ActionSpec::Reject { reason: None })
    } else {
        // The argument group requires exactly one choice.
        Some(ActionSpec::Hangup {})
    };
    let place = args.place.open(Opening::MayCreate)?;
    let pointer = place
        .kill(action)
        .map_err(|error| Failure::admin(error, "kill", "the kill switch was not changed"))?;
    if out.json {
        out.json_line(&serde_json::json!({ "version": pointer.version, "kill": pointer.kill }));
        return Ok(ExitCode::SUCCESS);
    }
    match &pointer.kill {
        Some(action) => println!(
            "kill switch set in {}: every call now gets {}",
            place.describe(),
            serde_json::to_string(action).unwrap_or_default()
        ),
        None => println!(
            "kill switch off in {}: the rules of version {} decide again",
            place.describe(),
            pointer.version
        ),
    }
    Ok(ExitCode::SUCCESS)
}

impl Failure {
    /// A refused change, its problems named after `what`.
    fn admin(error: AdminError, what: &str, consequence: &'static str) -> Failure {
        match error {
            AdminError::Invalid(problems) => Failure::Invalid(
                problems
                    .into_iter()
                    .map(|problem| (what.to_owned(), problem))
                    .collect(),
                consequence,
            ),
            AdminError::ExpectationsFailed(outcomes) => Failure::Invalid(
                expect::failures(&outcomes)
                    .into_iter()
                    .map(|problem| (what.to_owned(), problem))
                    .collect(),
                "not published; nothing was written (`check` shows each failure's trace; \
                 --force-expectations publishes it anyway, and the index records that)",
            ),
            AdminError::Store(error) => Failure::Unreachable(error.0),
            other => Failure::Failed(format!("{other}: {consequence}")),
        }
    }
}
