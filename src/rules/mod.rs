//! The rules document: how a sipgate customer routes calls, in one JSON file.
//!
//! * [`spec`] — the document's JSON shapes.
//! * [`problem`] — errors and warnings at JSON paths.
//! * [`check`] — validation and compilation into a [`RuleSet`].
//! * [`compact`] — a compiled [`RuleSet`] as stored for the worker (rules format 2).
//! * [`model`] — the compiled rules: [`RuleSet`], [`Rule`], [`Outcome`], [`Menu`].
//! * [`pattern`] — number patterns and named lists.
//! * [`condition`] — `when`: direction, caller, called, diversion, users, time.
//! * [`menu`] — IVR menus whose state travels in the `onData` URL.
//! * [`evaluate`] — the first matching rule, with a trace of the others.
//! * [`decision`] — the decision on a push, which log, journal and trace are read from.
//! * [`raw`] — a document as slices of its source, for the parts-at-a-time work on large tables.
//! * [`diff`] — what changed between two documents, path by path.
//! * [`expect`] — expectations: calls and what they must get, checked with the document.
//! * [`sounds`] — every sound a document makes sipgate play, for `check --sounds`.
//! * [`simulate`] — dry runs with a trace, for the CLI and `POST /simulate`.
//! * [`schedule`] — a number's outcomes slice by slice over days, for the console's week view.

pub mod check;
pub mod compact;
pub mod condition;
pub mod decision;
pub mod diff;
pub mod evaluate;
pub mod expect;
pub mod menu;
pub mod model;
pub mod path;
pub mod pattern;
pub mod problem;
pub mod raw;
pub mod schedule;
pub mod simulate;
pub mod sounds;
pub mod spec;

pub use check::{compile, compile_action, load, Checked};
pub use model::{Menu, Outcome, Rule, RuleSet};
pub use problem::{DocumentError, Problem};

#[cfg(test)]
mod tests;
