//! What the CLI prints: text for people, or with `--json` one JSON value on
//! stdout — for failures too — and the exit code of every outcome.

use std::io::IsTerminal;
use std::process::ExitCode;

use serde::Serialize;
use sipgate_router::rules::check::Report;
use sipgate_router::rules::problem::{DocumentError, Problem};
use sipgate_router::rules::{load, Checked};
use sipgate_router::store::shards::check_source;

/// Why a command did not do what it was asked; each has its exit code.
#[derive(Debug)]
pub enum Failure {
    /// 1: a document with errors, each problem with the document's name;
    /// and what did not happen because of them.
    Invalid(Vec<(String, Problem)>, &'static str),
    /// 1: refused (a conflict, a version not kept, documents that differ).
    Failed(String),
    /// 2: the command cannot be run as given (a file that cannot be read).
    Usage(String),
    /// 3: wrangler failed, or the admin API did not answer.
    Unreachable(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Invalid(..) | Failure::Failed(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Unreachable(_) => 3,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Invalid(problems, consequence) => {
                let count = problems.len();
                format!(
                    "{count} error{}: {consequence}",
                    if count == 1 { "" } else { "s" }
                )
            }
            Failure::Failed(message) | Failure::Usage(message) => message.clone(),
            Failure::Unreachable(message) => format!("the store cannot be reached: {message}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    /// Progress lines are for a person at a terminal.
    pub fn progress(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    pub fn json_line<T: Serialize>(&self, value: &T) {
        println!("{}", serde_json::to_string(value).unwrap_or_default());
    }

    pub fn json_pretty<T: Serialize>(&self, value: &T) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }

    /// Reports a failure (stderr, and stdout as JSON with `--json`).
    pub fn fail(&self, failure: &Failure) -> ExitCode {
        if let Failure::Invalid(problems, _) = failure {
            for (name, problem) in problems {
                eprintln!("{name}: error: {problem}");
            }
        }
        eprintln!("error: {}", failure.message());
        if self.json {
            let problems: Vec<&Problem> = match failure {
                Failure::Invalid(problems, _) => {
                    problems.iter().map(|(_, problem)| problem).collect()
                }
                _ => Vec::new(),
            };
            self.json_line(&serde_json::json!({
                "error": failure.message(),
                "errors": problems,
                "exitCode": failure.code(),
            }));
        }
        ExitCode::from(failure.code())
    }
}

/// What `check` found (the core's [`Report`], printed as JSON with
/// `--json`), and the compiled rules when there were no errors.
pub struct CheckReport {
    pub report: Report,
    pub checked: Option<Checked>,
}

impl CheckReport {
    pub fn of(result: Result<Checked, DocumentError>) -> CheckReport {
        CheckReport {
            report: Report::of(&result),
            checked: result.ok(),
        }
    }

    /// Checks `source` as a publish does, shard by shard (so several shape
    /// errors can be found in one run), then compiles it whole for the
    /// summary when it passed.
    pub fn check(source: &str) -> CheckReport {
        let report = check_source(source).report;
        let checked = if report.errors.is_empty() {
            load(source).ok()
        } else {
            None
        };
        CheckReport { report, checked }
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.report.errors.is_empty() && self.report.failed_expectations() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    pub fn into_problems(self, name: &str) -> Vec<(String, Problem)> {
        self.report
            .errors
            .into_iter()
            .map(|problem| (name.to_owned(), problem))
            .collect()
    }

    pub fn print(&self, name: &str) {
        for warning in &self.report.warnings {
            eprintln!("{name}: warning: {warning}");
        }
        for error in &self.report.errors {
            eprintln!("{name}: error: {error}");
        }
        if !self.report.complete {
            eprintln!(
                "{name}: a shape error (a field unknown or of the wrong type, a number written twice) stops the reading of \
                 the part of the document it is in, so the checks after it did not run there; fix \
                 it and check again"
            );
        }
        for outcome in self
            .report
            .expectations
            .iter()
            .filter(|outcome| !outcome.passed)
        {
            eprintln!(
                "{name}: expectation failed: {} {:?}: expected {}, got {}",
                outcome.path, outcome.name, outcome.expected, outcome.got
            );
            if let Some(trace) = &outcome.trace {
                for line in trace.to_text().lines() {
                    eprintln!("    {line}");
                }
            }
        }
        match &self.checked {
            Some(checked) => {
                let rules = &checked.rules;
                let count = rules.global.len()
                    + rules.default.len()
                    + rules.numbers.values().map(Vec::len).sum::<usize>();
                let expectations = match (
                    self.report.expectations.len(),
                    self.report.failed_expectations(),
                ) {
                    (0, _) => String::new(),
                    (all, 0) => format!(", {all} expectations pass"),
                    (all, failed) => format!(", {failed} of {all} expectations FAIL"),
                };
                let verdict = if self.report.failed_expectations() == 0 {
                    "ok"
                } else {
                    "rules ok"
                };
                let plural = |count: usize, one: &str, many: &str| {
                    format!("{count} {}", if count == 1 { one } else { many })
                };
                println!(
                    "{name}: {verdict} — {}, {}, {}, {}{expectations}",
                    plural(rules.numbers.len(), "number", "numbers"),
                    plural(count, "rule", "rules"),
                    plural(rules.menus.len(), "menu", "menus"),
                    plural(self.report.warnings.len(), "warning", "warnings")
                );
            }
            None => {
                let count = self.report.errors.len();
                eprintln!("{name}: {count} error{}", if count == 1 { "" } else { "s" })
            }
        }
    }
}
