// The call journal and the fan-out, end to end: the built worker in workerd
// with a local D1 (migrated by wrangler, as `npm start` does), the rules
// CLI reading the journal back, a local receiver for forwarded pushes.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, example, localStore, startWorker } from "./harness.mjs";

// Monday 2026-11-30, 10:00 Berlin: the office number's business hours.
const MONDAY_10 = 1_796_029_200_000;
const OFFICE = "4921100000";
const CALLER = "492111234567";

/** The pushes of a call that is answered, transferred, and hung up. */
function transferredCall(first, second) {
  return [
    `event=newCall&from=${CALLER}&to=${OFFICE}&direction=in&callId=${first}&xcid=x-${first}&user[]=Office`,
    `event=answer&callId=${first}&user=Alice&from=${CALLER}&to=${OFFICE}&direction=in&answeringNumber=4921100001`,
    `event=newCall&from=${CALLER}&to=4921100002&direction=in&callId=${second}&origCallId=${first}&diversion=${OFFICE}`,
    `event=answer&callId=${second}&origCallId=${first}&user=Bob&from=${CALLER}&to=4921100002&direction=in&answeringNumber=4921100002`,
    `event=hangup&cause=forwarded&callId=${first}&from=${CALLER}&to=${OFFICE}&direction=in`,
    `event=hangup&cause=normalClearing&callId=${second}&origCallId=${first}&from=${CALLER}&to=4921100002&direction=in`,
  ];
}

/** Rows of the journal, once `count` are there (writes happen after the answer). */
async function rows(worker, sql, count, { timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { results } = await worker.d1.prepare(sql).all();
    if (results.length >= count || Date.now() > deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("the journal", () => {
  let store;
  let worker;

  before(async () => {
    store = localStore();
    store.publish(example("office"));
    store.migrateJournal();
    worker = await startWorker({ store, journal: true, fault: "clock" });
  });
  after(async () => {
    await worker?.dispose();
    store?.dispose();
  });

  const post = (body, at = MONDAY_10) => worker.post(body, { headers: { "x-test-now": String(at) } });

  test("a transferred call is recorded whole, and `call` prints its linked timeline with the deciding rules", async () => {
    for (const [index, body] of transferredCall("T1", "T2").entries()) {
      const reply = await post(body, MONDAY_10 + index * 1000);
      assert.equal(reply.status, 200, body);
    }
    const stored = await rows(worker, "SELECT * FROM pushes WHERE call_id IN ('T1', 'T2')", 6);
    assert.equal(stored.length, 6);
    for (const leg of ["T1", "T2"]) {
      const result = store.cli("call", leg);
      assert.equal(result.status, 0, result.stderr);
      const text = result.stdout;
      assert.match(text, /^call T[12]: 2 legs, 6 pushes$/m);
      assert.match(text, /^leg T1$/m);
      assert.match(text, /^leg T2 \(transferred or forwarded from T1\)$/m);
      assert.match(text, /2026-11-30 09:00:00\.000Z {2}newCall {2}49211\*{5}67 → 4921100000 \(in\), users Office; rule business-hours \(v1\) → dial/);
      assert.match(text, /09:00:01\.000Z {2}answer {3}49211\*{5}67 → 4921100000 \(in\), users Alice, answered by 4921100001/);
      assert.match(text, /09:00:02\.000Z {2}newCall .*diverted from 4921100000; rule other-numbers \(v1\) → proceed/);
      assert.match(text, /09:00:04\.000Z {2}hangup {3}.*cause forwarded/);
      assert.match(text, /09:00:05\.000Z {2}hangup {3}.*cause normalClearing/);
      // T1's pushes come before T2's.
      assert.ok(text.indexOf("leg T1") < text.indexOf("leg T2"));
    }
    const json = JSON.parse(store.cli("call", "T2", "--json").stdout);
    assert.deepEqual(json.legs.map((leg) => leg.pushes.map((push) => push.event)), [
      ["newCall", "answer", "hangup"],
      ["newCall", "answer", "hangup"],
    ]);
    assert.match(json.legs[0].pushes[0].xml, /<Dial callerId="4921100000">/);
  });

  test("GET /calls/{callId} answers the same timeline as JSON, for the admin token only", async () => {
    for (const body of transferredCall("G1", "G2")) await post(body);
    await rows(worker, "SELECT * FROM pushes WHERE call_id IN ('G1', 'G2')", 6);
    const reply = await worker.request("/calls/G2", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(reply.status, 200, reply.body);
    const timeline = JSON.parse(reply.body);
    assert.equal(timeline.callId, "G2");
    assert.deepEqual(timeline.legs.map((leg) => leg.callId), ["G1", "G2"]);
    assert.equal(timeline.legs[0].pushes[0].rule, "business-hours");
    assert.equal((await worker.request("/calls/G2", {})).status, 404);
    const unknown = await worker.request("/calls/nope", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, "no pushes recorded for call nope\n");
  });

  test("calls the router answers come back to it, unless the rule names its own URLs", async () => {
    // No rules for this number: the default proceeds, watched.
    const watched = await post(`from=${CALLER}&to=4930123456&direction=in&callId=W1`);
    assert.equal(
      watched.body,
      '<?xml version="1.0" encoding="UTF-8"?><Response onAnswer="http://router.test/" onHangup="http://router.test/"/>',
    );
    // business-hours sets the CRM's URLs: kept.
    const own = await post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=W2`);
    assert.match(own.body, /onAnswer="https:\/\/crm\.example\.com\/sipgate\/events"/);
    // A menu's answer to digits too: sipgate sends hangup only if the latest answer asked.
    const digits = await worker.post("event=dtmf&dtmf=1&callId=W3", {
      path: "/?menu=after-hours&try=0",
      headers: { "x-test-now": String(MONDAY_10) },
    });
    assert.equal(
      digits.body,
      '<?xml version="1.0" encoding="UTF-8"?><Response onAnswer="http://router.test/" onHangup="http://router.test/"><Dial callerId="4921100000"><Number>4915790000099</Number></Dial></Response>',
    );
  });

  test("a repeated push is stored once", async () => {
    const body = `event=newCall&from=${CALLER}&to=${OFFICE}&direction=in&callId=D1`;
    await post(body);
    await post(body);
    await post(`event=hangup&cause=normalClearing&callId=D1&from=${CALLER}&to=${OFFICE}&direction=in`);
    const stored = await rows(worker, "SELECT event FROM pushes WHERE call_id = 'D1'", 2);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a late duplicate would show by now
    const again = await rows(worker, "SELECT event FROM pushes WHERE call_id = 'D1'", 2);
    assert.deepEqual(stored.map((row) => row.event).sort(), ["hangup", "newCall"]);
    assert.equal(again.length, 2);
  });

  test("`calls` lists calls by number and `hits` counts each rule, flagging rules that never matched", async () => {
    await post(`from=anonymous&to=${OFFICE}&direction=in&callId=H1`);
    await rows(worker, "SELECT * FROM pushes WHERE call_id = 'H1'", 1);
    const calls = store.cli("calls", "--number", OFFICE, "--since", "2026-11-30", "--until", "2026-12-01");
    assert.equal(calls.status, 0, calls.stderr);
    assert.match(calls.stdout, /T1 +49211\*{5}67 → 4921100000 \(in\) {2}business-hours → dial, ended: forwarded/);
    assert.match(calls.stdout, /H1 +anonymous → 4921100000 \(in\) {2}anonymous-busy → reject/);
    assert.doesNotMatch(calls.stdout, /W1/); // another number
    const hits = store.cli("hits", "--since", "2026-11-30", "--until", "2026-12-01");
    assert.equal(hits.status, 0, hits.stderr);
    assert.match(hits.stdout, /^business-hours +[1-9]\d* +2026-11-30 09:00:00\.000Z$/m);
    assert.match(hits.stdout, /^anonymous-busy +1 /m);
    assert.match(hits.stdout, /^lunch-break +0 +– +← never matched$/m);
    const json = JSON.parse(store.cli("hits", "--since", "2026-11-30", "--until", "2026-12-01", "--json").stdout);
    assert.equal(json.find((row) => row.rule === "holidays").neverMatched, true);
  });

  test("the other party's number is masked, the office's own is not", async () => {
    const [row] = await rows(worker, "SELECT from_number, to_number, users FROM pushes WHERE call_id = 'T1' AND event = 'newCall'", 1);
    assert.deepEqual(row, { from_number: "49211*****67", to_number: OFFICE, users: '["Office"]' });
  });
});

describe("journal settings", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish(example("office"));
    store.migrateJournal();
  });
  after(() => store?.dispose());

  test("JOURNAL_MASK_NUMBERS=off stores numbers as sent", async () => {
    const worker = await startWorker({ store, journal: true, vars: { JOURNAL_MASK_NUMBERS: "off" } });
    try {
      await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=M1`);
      const [row] = await rows(worker, "SELECT from_number FROM pushes WHERE call_id = 'M1'", 1);
      assert.equal(row.from_number, CALLER);
    } finally {
      await worker.dispose();
    }
  });

  test("the scheduled run deletes what is older than JOURNAL_RETENTION_DAYS and keeps the rest", async () => {
    const worker = await startWorker({ store, journal: true, vars: { JOURNAL_RETENTION_DAYS: "10" } });
    try {
      const day = 86_400_000;
      const insert = worker.d1.prepare("INSERT INTO pushes (dedup, at_ms, event, call_id) VALUES (?1, ?2, 'newCall', ?3)");
      await worker.d1.batch([
        insert.bind("old", Date.now() - 11 * day, "R-old"),
        insert.bind("recent", Date.now() - 9 * day, "R-recent"),
      ]);
      const scheduled = await (await worker.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
      assert.equal(scheduled.outcome, "ok");
      const left = await worker.d1.prepare("SELECT call_id FROM pushes WHERE call_id LIKE 'R-%'").all();
      assert.deepEqual(left.results.map((row) => row.call_id), ["R-recent"]);
      const [line] = await worker.logLines((line) => line.msg === "journal_retention");
      assert.ok(line.deleted >= 1, JSON.stringify(line));
    } finally {
      await worker.dispose();
    }
  });

  test("a journal that cannot be written changes no answer and is logged", async () => {
    const unmigrated = localStore();
    unmigrated.publish(example("office"));
    const worker = await startWorker({ store: unmigrated, journal: true });
    try {
      const reply = await worker.post(`from=${CALLER}&to=4930123456&direction=in&callId=F1`);
      assert.equal(reply.status, 200);
      assert.match(reply.body, /<Response onAnswer=/);
      const [line] = await worker.logLines((line) => line.msg === "journal_failed");
      assert.equal(line.callId, "F1");
      assert.match(line.error, /no such table: pushes/);
    } finally {
      await worker.dispose();
      unmigrated.dispose();
    }
  });

  test("JOURNAL_RECORDING=off pauses recording with the database bound; what was recorded stays readable", async () => {
    const paused = await startWorker({ store, journal: true, vars: { JOURNAL_RECORDING: "off" } });
    try {
      const reply = await paused.post(`from=${CALLER}&to=4930123456&direction=in&callId=P1`);
      assert.equal(reply.body, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      await new Promise((resolve) => setTimeout(resolve, 300)); // a write would have happened by now
      const stored = await paused.d1.prepare("SELECT COUNT(*) AS n FROM pushes WHERE call_id = 'P1'").all();
      assert.equal(stored.results[0].n, 0);
      // Recorded before the pause.
      await paused.d1.prepare("INSERT INTO pushes (dedup, at_ms, event, call_id) VALUES ('p0', ?1, 'newCall', 'P0')").bind(MONDAY_10).run();
      const calls = await paused.request("/calls/P0", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(calls.status, 200, calls.body);
      assert.equal(JSON.parse(calls.body).legs[0].pushes.length, 1);
    } finally {
      await paused.dispose();
    }
    const typo = await startWorker({ store, journal: true, vars: { JOURNAL_RECORDING: "of" } });
    try {
      const reply = await typo.post(`from=${CALLER}&to=4930123456&direction=in&callId=P2`);
      assert.match(reply.body, /<Response onAnswer=/); // still recording
      const [line] = await typo.logLines((line) => line.msg === "config");
      assert.equal(line.level, "warn");
      assert.equal(line.error, 'JOURNAL_RECORDING="of" is neither on nor off: recording');
    } finally {
      await typo.dispose();
    }
  });

  test("without a JOURNAL binding there is no journal: answers unchanged, /calls says so", async () => {
    const worker = await startWorker({ store });
    try {
      const reply = await worker.post(`from=${CALLER}&to=4930123456&direction=in&callId=N1`);
      assert.equal(reply.body, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      const calls = await worker.request("/calls/N1", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(calls.status, 404);
      assert.equal(calls.body, "the journal is off: no D1 binding JOURNAL\n");
    } finally {
      await worker.dispose();
    }
  });
});

describe("the fan-out", () => {
  let store;
  let receiver;
  const received = [];
  let behaviour = "ok";

  before(async () => {
    store = localStore();
    store.publish(example("office"));
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ headers: request.headers, body, path: request.url });
        if (behaviour === "hang") return; // never answers
        response.writeHead(behaviour === "fail" ? 502 : 204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    store?.dispose();
  });

  const receiverUrl = () => `http://127.0.0.1:${receiver.address().port}/events`;
  async function nextReceived(count, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (received.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    return received[count - 1];
  }

  test("every push reaches the receiver as signed JSON with the decision and the numbers as sent", async () => {
    const secret = "fan-out-secret";
    const worker = await startWorker({
      store,
      fault: "clock",
      vars: { FORWARD_URLS: receiverUrl(), FORWARD_SECRET: secret },
    });
    try {
      behaviour = "ok";
      const reply = await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=FW1`, {
        headers: { "x-test-now": String(MONDAY_10) },
      });
      assert.equal(reply.status, 200);
      const delivery = await nextReceived(1);
      assert.ok(delivery, "the receiver got the push");
      assert.equal(delivery.path, "/events");
      assert.equal(delivery.headers["content-type"], "application/json");
      const push = JSON.parse(delivery.body);
      assert.equal(push.event, "newCall");
      assert.equal(push.callId, "FW1");
      assert.equal(push.from, CALLER);
      assert.equal(push.rule, "business-hours");
      assert.equal(push.answer, "dial");
      assert.equal(push.xml, reply.body);
      // The receiver's check: HMAC-SHA256 over "timestamp.body".
      const timestamp = delivery.headers["x-router-timestamp"];
      const expected = createHmac("sha256", secret).update(`${timestamp}.${delivery.body}`).digest("hex");
      assert.equal(delivery.headers["x-router-signature"], `v1=${expected}`);
    } finally {
      await worker.dispose();
    }
  });

  test("a failing or silent receiver changes no answer and is logged", async () => {
    const worker = await startWorker({
      store,
      vars: { FORWARD_URLS: receiverUrl(), FORWARD_TIMEOUT_MS: "300" },
    });
    try {
      for (const [mode, expected] of [
        ["fail", (line) => line.status === 502],
        ["hang", (line) => /no answer within 300 ms/.test(line.error)],
      ]) {
        behaviour = mode;
        const before = received.length;
        const started = Date.now();
        const reply = await worker.post(`from=${CALLER}&to=4930123456&direction=in&callId=FX-${mode}`);
        assert.equal(reply.status, 200);
        assert.ok(Date.now() - started < 300, "the answer does not wait for the receiver");
        await nextReceived(before + 1);
        const lines = await worker.logLines((line) => line.msg === "forward_failed" && line.callId === `FX-${mode}`);
        assert.equal(lines.length, 1, mode);
        assert.ok(expected(lines[0]), JSON.stringify(lines[0]));
        assert.equal(lines[0].receiver, receiverUrl());
      }
    } finally {
      behaviour = "ok";
      await worker.dispose();
    }
  });

  test("receivers that are not HTTPS are refused when the worker starts, and logged", async () => {
    const worker = await startWorker({ store, vars: { FORWARD_URLS: "http://crm.example.com/plain" } });
    try {
      const reply = await worker.post(`from=${CALLER}&to=4930123456&direction=in&callId=FP1`);
      // Nothing is watched: the answer is the plain one.
      assert.equal(reply.body, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      const [line] = await worker.logLines((line) => line.msg === "config");
      assert.match(line.error, /http:\/\/crm\.example\.com\/plain.*https/);
    } finally {
      await worker.dispose();
    }
  });
});
