// End to end, with the production configuration on (signature check with a
// test key, basic auth, the source allowlist, the journal, forwarding to a
// local receiver): what a deployed router must never do. The password goes
// only to sipgate; a replayed push is one push; a receiver's redirect is a
// failed delivery; a huge or broken KV value is read once and logged short;
// a router that routes nothing, or refuses everything, says so loudly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, deployment, example, localStore, receiver, startWorker } from "./harness.mjs";

const SATURDAY_10 = Date.parse("2026-11-28T10:00:00+01:00");
const CALLER = "492111234567";
const OFFICE = "4921100000";
/** A password with characters a URL must percent-encode. */
const PASSWORD = "pa/ss+w0rd:Zq7";

async function rows(worker, sql, count, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { results } = await worker.d1.prepare(sql).all();
    if (results.length >= count || Date.now() > deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 400)); // writes after the answer

describe("a deployment with every check and feature on", () => {
  let deployed;
  let worker;
  let crm;
  let store;
  before(async () => {
    deployed = await deployment({ password: PASSWORD });
    ({ worker, crm, store } = deployed);
  });
  after(() => deployed?.dispose());

  /** A push as sipgate sends it to the deployment: signed, with credentials, from its address. */
  const fromSipgate = (body, { path = "/", at = SATURDAY_10 } = {}) => worker.post(body, { path, headers: deployed.headers(body, at) });

  test("the basic-auth password goes to sipgate in the answer and nowhere else", async () => {
    // Saturday: the office's after-hours menu, then a digit, then the call's end.
    const call = `event=newCall&from=${CALLER}&to=${OFFICE}&direction=in&callId=S1&user[]=Office`;
    const menu = await fromSipgate(call);
    assert.equal(menu.status, 200, menu.body);
    assert.ok(menu.body.includes(`sipgate:${deployed.inUrl}@router.test`), `sipgate needs it: ${menu.body}`);
    const onData = new URL(menu.body.match(/<Gather onData="([^"]+)"/)[1].replaceAll("&amp;", "&"));
    const digits = await fromSipgate("event=dtmf&dtmf=1&callId=S1", { path: onData.pathname + onData.search });
    assert.match(digits.body, /<Dial callerId="4921100000"><Number>4915790000099<\/Number><\/Dial>/);
    await fromSipgate(`event=answer&callId=S1&from=${CALLER}&to=${OFFICE}&direction=in&answeringNumber=4915790000099`);
    await fromSipgate(`event=hangup&cause=normalClearing&callId=S1&from=${CALLER}&to=${OFFICE}&direction=in`);

    const stored = await rows(worker, "SELECT * FROM pushes WHERE call_id = 'S1'", 4);
    assert.equal(stored.length, 4);
    assert.ok(stored.some((row) => row.xml.includes("sipgate:REDACTED@router.test")), "stored, redacted");
    const deliveries = await crm.waitFor(4);
    assert.equal(deliveries.length, 4);
    const calls = await worker.request("/calls/S1", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(calls.status, 200, calls.body);
    const cli = store.cli("call", "S1");
    const cliJson = store.cli("call", "S1", "--json");
    assert.equal(cli.status, 0, cli.stderr);
    const places = {
      "D1 rows": JSON.stringify(stored),
      "GET /calls": calls.body,
      "sipgate-rules call": cli.stdout + cli.stderr + cliJson.stdout + cliJson.stderr,
      "forwarded bodies and headers": JSON.stringify(deliveries),
      "log lines": worker.logs.join("\n"),
    };
    // Every form the password could leak in.
    const secrets = [PASSWORD, deployed.inUrl, deployed.authorization.slice("Basic ".length), encodeURIComponent(PASSWORD)];
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${place} holds ${secret}`);
    }
  });

  test("a signed push replayed under other query strings is stored once and delivered once", async () => {
    const hangup = `event=hangup&cause=normalClearing&callId=R1&from=${CALLER}&to=${OFFICE}&direction=in`;
    const before = crm.received.length;
    for (const path of ["/", "/", "/?replay=1", "/?replay=2", "/?menu=after-hours&try=0", "/?x=y#z"]) {
      const reply = await fromSipgate(hangup, { path });
      assert.equal(reply.status, 200, `${path}: ${reply.body}`);
    }
    await settle();
    const stored = await rows(worker, "SELECT event, dedup FROM pushes WHERE call_id = 'R1'", 1);
    assert.equal(stored.length, 1, JSON.stringify(stored));
    await crm.waitFor(before + 1);
    await settle();
    const delivered = crm.received.slice(before).filter((delivery) => JSON.parse(delivery.body).callId === "R1");
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].headers["x-router-event-id"], stored[0].dedup);
    assert.equal(JSON.parse(delivered[0].body).eventId, stored[0].dedup);
    const repeats = await worker.logLines((line) => line.msg === "duplicate_push" && line.callId === "R1");
    assert.equal(repeats.length, 5);
  });
});

describe("the fan-out", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish(example("office"));
  });
  after(() => store.dispose());

  test("without the journal, a repeated push is delivered with the same X-Router-Event-Id", async () => {
    const crm = await receiver();
    const worker = await startWorker({ store, vars: { FORWARD_URLS: crm.url() } });
    try {
      const body = `event=hangup&cause=busy&callId=E1&from=${CALLER}&to=${OFFICE}&direction=in`;
      await worker.post(body);
      await worker.post(body, { path: "/?again=1" });
      const [first, second] = await crm.waitFor(2);
      assert.match(first.headers["x-router-event-id"], /^[0-9a-f]{32}$/);
      assert.equal(second.headers["x-router-event-id"], first.headers["x-router-event-id"]);
      assert.equal(JSON.parse(first.body).eventId, first.headers["x-router-event-id"], "signed in the body too");
    } finally {
      await worker.dispose();
      await crm.close();
    }
  });

  test("a receiver that redirects is a failed delivery: the body never reaches the redirect's target", async () => {
    const elsewhere = await receiver({ host: "127.0.0.2" });
    const redirecting = await receiver({ respond: () => ({ status: 307, headers: { location: elsewhere.url("/x") } }) });
    const worker = await startWorker({ store, vars: { FORWARD_URLS: redirecting.url() } });
    try {
      await worker.post(`event=hangup&cause=busy&callId=X1&from=${CALLER}&to=${OFFICE}&direction=in`);
      await redirecting.waitFor(1);
      const [line] = await worker.logLines((line) => line.msg === "forward_failed" && line.callId === "X1");
      assert.ok(line, "logged");
      assert.equal(line.status, 307);
      await settle();
      assert.equal(elsewhere.received.length, 0, "followed the redirect");
    } finally {
      await worker.dispose();
      await redirecting.close();
      await elsewhere.close();
    }
  });
});

describe("a huge or broken value in KV", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish(example("office"));
  });
  after(() => store.dispose());

  for (const [label, value] of [
    // Parses as JSON, fails validation with a message quoting the zone name.
    ["1 MiB", `{"timezone":"${"x".repeat(1 << 20)}"}`],
    // Never parsed: over the size a shard may have.
    ["20 MiB", `{"timezone":"Europe/Berlin","global":[],"x":"${"y".repeat(20 << 20)}"}`],
  ]) {
    test(`a ${label} invalid shard is read once per isolate, and its log line stays short`, async () => {
      const worker = await startWorker({ store, fault: "count" });
      try {
        await worker.kv.put("rules:v1:s0", value);
        const first = await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=K1`);
        assert.equal(first.status, 200);
        assert.equal(first.headers.get("x-kv-keys"), "rules:live,rules:v1:s0");
        const second = await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=K2`);
        assert.equal(second.headers.get("x-kv-keys"), "rules:live", "the bad shard is not read again");
        const [line] = await worker.logLines((line) => line.callId === "K1");
        assert.equal(line.level, "error");
        assert.match(line.error, /^rules:v1:s0 is not usable: /);
        const raw = worker.logs.find((text) => text.includes('"callId":"K1"'));
        assert.ok(raw.length < 1000, `a log line of ${raw.length} characters`);
        assert.ok(worker.logs.every((text) => text.length < 2000), "no line grows with the value");
      } finally {
        await worker.dispose();
      }
    });
  }
});

describe("misconfiguration is loud", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish(example("office"));
  });
  after(() => store.dispose());

  test("a setting that makes the router refuse every push is an error line naming it, once per isolate", async () => {
    // The README's old Deploy steps: the password set, the user forgotten.
    const worker = await startWorker({ store, vars: { BASIC_AUTH_PASSWORD: "s3cret-but-alone" } });
    try {
      for (const n of [1, 2, 3]) {
        const reply = await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=M${n}`);
        assert.equal(reply.status, 403);
      }
      const lines = await worker.logLines((line) => line.msg === "config");
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0].level, "error");
      assert.equal(lines[0].error, "BASIC_AUTH_PASSWORD is set but BASIC_AUTH_USER is not: every push is refused (403)");
      assert.ok(!worker.logs.join("\n").includes("s3cret-but-alone"));
    } finally {
      await worker.dispose();
    }
  });

  test("an ADMIN_TOKEN too short to be secret turns the admin endpoints off, with an error line", async () => {
    const worker = await startWorker({ store, vars: { ADMIN_TOKEN: "x" } });
    try {
      const simulate = await worker.request("/simulate", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer x" },
        body: JSON.stringify({ from: CALLER, to: OFFICE, direction: "in" }),
      });
      assert.equal(simulate.status, 404);
      const [line] = await worker.logLines((line) => line.msg === "config");
      assert.equal(line.level, "error");
      assert.match(line.error, /^ADMIN_TOKEN has 1 characters, fewer than the 32 required/);
    } finally {
      await worker.dispose();
    }
  });

  test("with PUBLIC_URL, callbacks and menus point there, whatever host the request names", async () => {
    const vars = { JOURNAL_RECORDING: "on", FORWARD_URLS: "http://127.0.0.1:9/unused", PUBLIC_URL: "https://router.example.com/sipgate" };
    const worker = await startWorker({ store, fault: "clock", vars });
    try {
      const reply = await worker.request("http://evil.example/anything", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-test-now": String(SATURDAY_10) },
        body: `from=${CALLER}&to=${OFFICE}&direction=in&callId=P1`,
      });
      assert.match(reply.body, /onAnswer="https:\/\/router\.example\.com\/sipgate" onHangup="https:\/\/router\.example\.com\/sipgate"/);
      assert.match(reply.body, /onData="https:\/\/router\.example\.com\/sipgate\?menu=after-hours&amp;try=0"/);
      assert.ok(!reply.body.includes("evil.example"), reply.body);
    } finally {
      await worker.dispose();
    }
  });
});
