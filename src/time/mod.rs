//! Civil time for office hours: dates and wall clocks, and the IANA zones
//! that turn a push's UTC instant into them.
//!
//! * [`calendar`] — civil dates, weekdays, times of day.
//! * [`zone`] — IANA time zones by their current rule, from `zones_table`
//!   (generated from tzdata by `scripts/gen-zones.py`).

pub mod calendar;
pub mod zone;
mod zones_table;
