-- The call journal (src/journal): one row per push sipgate.io sent, written
-- after the answer. Numbers of the other party are masked unless
-- JOURNAL_MASK_NUMBERS=off; users/user_ids/full_user_ids hold JSON lists.
CREATE TABLE pushes (
  id INTEGER PRIMARY KEY,
  -- A repeated push (same URL query and body) is stored once.
  dedup TEXT NOT NULL UNIQUE,
  at_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  call_id TEXT,
  orig_call_id TEXT,
  xcid TEXT,
  direction TEXT,
  from_number TEXT,
  to_number TEXT,
  users TEXT NOT NULL DEFAULT '[]',
  user_ids TEXT NOT NULL DEFAULT '[]',
  full_user_ids TEXT NOT NULL DEFAULT '[]',
  diversion TEXT,
  answering_number TEXT,
  cause TEXT,
  dtmf TEXT,
  -- The decision: rules version, rule id, menu step, action, XML, time taken.
  version INTEGER,
  rule TEXT,
  menu TEXT,
  step TEXT,
  answer TEXT,
  xml TEXT,
  decision_ms INTEGER
);
CREATE INDEX pushes_call_id ON pushes (call_id);
CREATE INDEX pushes_orig_call_id ON pushes (orig_call_id);
CREATE INDEX pushes_at ON pushes (at_ms);
CREATE INDEX pushes_rule ON pushes (rule, at_ms);
