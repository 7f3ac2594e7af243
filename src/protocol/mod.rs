//! sipgate.io's wire protocol: what sipgate sends and what it reads back.
//!
//! * [`form`] — strict `application/x-www-form-urlencoded` decoding.
//! * [`number`] — E.164 numbers and call parties (`anonymous`).
//! * [`url`] — absolute `http(s)` URLs, checked before sipgate sees them.
//! * [`push`] — the pushes sipgate sends: `newCall`, `answer`, `hangup`, `dtmf`.
//! * [`response`] — the typed answer: `Dial`, `Play`, `Gather`, `Reject`, `Hangup`.
//! * [`xml`] — writes a [`response::Response`] as sipgate's XML.
//! * [`wav`] — the sound files sipgate plays (16-bit PCM, 8,000 Hz, mono), read from their first bytes.

pub mod form;
pub mod number;
pub mod push;
pub mod response;
pub mod url;
pub mod wav;
pub mod xml;
