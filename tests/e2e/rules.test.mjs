// End to end: rules documents published with the CLI (through wrangler into
// a local KV) and real pushes to the built worker in workerd. The clock is
// fixed per request (x-test-now, see faulty-kv.mjs) so office hours can be
// tested on any day; KV reads are counted by the same wrapper.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, example, localStore, PROCEED, startWorker, XML_DECL } from "./harness.mjs";

/** Milliseconds since the epoch of a Berlin wall-clock time in winter (UTC+1). */
const berlin = (local) => Date.parse(`${local}:00+01:00`);
const MONDAY_10 = berlin("2026-11-30T10:00");
const MONDAY_LUNCH = berlin("2026-11-30T12:30");
const SATURDAY_10 = berlin("2026-11-28T10:00");
const CHRISTMAS = berlin("2026-12-25T10:00");

const call = (from, to, direction = "in") => `from=${from}&to=${to}&direction=${direction}&callId=c${Math.random().toString(16).slice(2)}`;

/** The onData URL of a Gather answer, as a path sipgate would post to. */
function onDataPath(xml) {
  const match = xml.match(/<Gather onData="([^"]+)"/);
  assert.ok(match, `no Gather in ${xml}`);
  const url = new URL(match[1].replaceAll("&amp;", "&"));
  return url.pathname + url.search;
}

describe("the office example", () => {
  let store;
  let worker;
  const push = (body, now, path = "/") => worker.post(body, { headers: { "x-test-now": String(now) }, path });
  before(async () => {
    store = localStore();
    store.publish(example("office"));
    worker = await startWorker({ store, fault: "clock,count" });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("business hours ring three phones in parallel with a fixed callerId", async () => {
    const reply = await push(call("492111234567", "4921100000"), MONDAY_10);
    assert.equal(reply.status, 200);
    assert.match(reply.body, /<Dial callerId="4921100000"><Number>4921100001<\/Number><Number>4921100002<\/Number><Number>4921100003<\/Number><\/Dial>/);
  });

  test("the lunch break plays a message, then voicemail", async () => {
    const reply = await push(call("492111234567", "4921100000"), MONDAY_LUNCH);
    assert.match(reply.body, /<Play><Url>https:\/\/sounds.example.com\/office\/lunch-break.wav<\/Url><\/Play>/);
    const after = await push("event=dtmf&dtmf=&callId=lunch1", MONDAY_LUNCH, onDataPath(reply.body));
    assert.equal(after.body, `${XML_DECL}<Response><Dial><Voicemail/></Dial></Response>`);
  });

  test("after hours: the IVR round trip newCall → Gather → dtmf → Dial", async () => {
    const menu = await push(call("492111234567", "4921100000"), SATURDAY_10);
    assert.match(menu.body, /after-hours.wav/);
    const path = onDataPath(menu.body);
    assert.equal(path, "/?menu=after-hours&try=0");
    const dialed = await push("event=dtmf&dtmf=1&callId=ivr1&origCallId=ivr1", SATURDAY_10, path);
    assert.equal(dialed.body, `${XML_DECL}<Response><Dial callerId="4921100000"><Number>4915790000099</Number></Dial></Response>`);
    const voicemail = await push("event=dtmf&dtmf=2&callId=ivr2", SATURDAY_10, path);
    assert.equal(voicemail.body, `${XML_DECL}<Response><Dial><Voicemail/></Dial></Response>`);
    // A wrong digit plays the menu again, until the retries are used up.
    const again = await push("event=dtmf&dtmf=7&callId=ivr3", SATURDAY_10, path);
    assert.equal(onDataPath(again.body), "/?menu=after-hours&try=1");
    const last = await push("event=dtmf&dtmf=7&callId=ivr3", SATURDAY_10, "/?menu=after-hours&try=2");
    assert.equal(last.body, `${XML_DECL}<Response><Dial><Voicemail/></Dial></Response>`);
  });

  test("public holidays go to the after-hours menu", async () => {
    const reply = await push(call("492111234567", "4921100000"), CHRISTMAS);
    assert.match(reply.body, /menu=after-hours/);
    const [line] = await worker.logLines((line) => line.rule === "holidays");
    assert.equal(line.msg, "routed");
  });

  test("anonymous callers get busy, the block list is rejected, outgoing calls proceed", async () => {
    assert.equal((await push(call("anonymous", "4921100000"), MONDAY_10)).body, `${XML_DECL}<Response><Reject reason="busy"/></Response>`);
    assert.equal((await push(call("4990012345678", "4921100000"), MONDAY_10)).body, `${XML_DECL}<Response><Reject/></Response>`);
    assert.equal((await push(call("4921100000", "4930123456", "out"), MONDAY_10)).body, PROCEED);
  });

  test("a warm isolate answers from its cache: only the pointer is read", async () => {
    const reply = await push(call("492111234567", "4921100000"), MONDAY_10);
    assert.equal(reply.headers.get("x-kv-keys"), "rules:live");
  });
});

describe("the hotline example: a two-level menu", () => {
  let store;
  let worker;
  const push = (body, path = "/") => worker.post(body, { headers: { "x-test-now": String(MONDAY_10) }, path });
  before(async () => {
    store = localStore();
    store.publish(example("hotline"));
    worker = await startWorker({ store, fault: "clock" });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("main menu → support → 42 dials", async () => {
    const main = await push(call("492111234567", "4930200000000"));
    assert.equal(onDataPath(main.body), "/?menu=main&try=0");
    const support = await push("event=dtmf&dtmf=2&callId=h1", onDataPath(main.body));
    assert.match(support.body, /hotline\/support.wav/);
    assert.equal(onDataPath(support.body), "/?menu=support&try=0");
    const dialed = await push("event=dtmf&dtmf=42&callId=h1", onDataPath(support.body));
    assert.equal(dialed.body, `${XML_DECL}<Response><Dial><Number>4915790000042</Number></Dial></Response>`);
    const back = await push("event=dtmf&dtmf=9&callId=h1", onDataPath(support.body));
    assert.equal(onDataPath(back.body), "/?menu=main&try=0");
  });
});

describe("publishing, rollback and the kill switch", () => {
  let store;
  let worker;
  const push = (body) => worker.post(body, { headers: { "x-test-now": String(MONDAY_10) } });
  const TARGET = "4921177777";
  const dialing = (number) => ({ numbers: { [TARGET]: [{ id: `dial-${number}`, then: { dial: { numbers: [number] } } }] } });
  before(async () => {
    store = localStore();
    worker = await startWorker({ store, fault: "clock" });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("pushes follow each published version, and the old one after rollback", async () => {
    assert.equal((await push(call("492111234567", TARGET))).body, PROCEED, "nothing published yet");
    assert.match(store.publish(dialing("4915790000001")), /as version 1 .*it is live/);
    assert.match((await push(call("492111234567", TARGET))).body, /4915790000001/);
    assert.match(store.publish(dialing("4915790000002")), /as version 2/);
    assert.match((await push(call("492111234567", TARGET))).body, /4915790000002/);

    const versions = store.cli("versions");
    assert.match(versions.stdout, /^live\s+2 /m);
    assert.match(versions.stdout, /^\s+1 /m);
    const diff = store.cli("diff", "1", "2");
    assert.equal(diff.status, 1, "documents that differ: exit 1, like diff(1)");
    assert.match(diff.stdout, /~ numbers\.4921177777\[0\]\.id: "dial-4915790000001" → "dial-4915790000002"/);

    const rollback = store.cli("rollback");
    assert.equal(rollback.status, 0, rollback.stderr);
    assert.match(rollback.stdout, /from version 2 to version 1/);
    assert.match((await push(call("492111234567", TARGET))).body, /4915790000001/);
  });

  test("an invalid document is refused with its JSON path and changes nothing", async () => {
    const before = store.cli("versions").stdout;
    const invalid = {
      menus: { m: { prompt: "sounds/menu.wav" } },
      numbers: { [TARGET]: [{ then: { dial: { numbers: ["491", "492", "493", "494", "495", "496"] } } }, { then: { menu: "missing" } }] },
    };
    const file = `${store.dir}/invalid.json`;
    (await import("node:fs")).writeFileSync(file, JSON.stringify(invalid));
    const publish = store.cli("publish", file);
    assert.equal(publish.status, 1);
    assert.match(publish.stderr, /numbers\.4921177777\[0\]\.then\.dial\.numbers: has 6 numbers, but sipgate rings at most 5 in parallel/);
    assert.match(publish.stderr, /numbers\.4921177777\[1\]\.then\.menu: "missing" is not a menu in `menus`/);
    assert.match(publish.stderr, /menus\.m\.prompt: "sounds\/menu.wav" is not an absolute URL/);
    assert.match(publish.stderr, /not published; nothing was written/);
    assert.equal(store.cli("versions").stdout, before);
    assert.match((await push(call("492111234567", TARGET))).body, /4915790000001/);
    const check = store.cli("check", file);
    assert.equal(check.status, 1);
  });

  test("the kill switch overrides everything until it is switched off", async () => {
    const set = store.cli("kill", "--dial", "4915799999999");
    assert.equal(set.status, 0, set.stderr);
    for (const body of [call("492111234567", TARGET), call("anonymous", "4930000000"), "event=dtmf&dtmf=1&callId=k"]) {
      const path = body.startsWith("event=dtmf") ? "/?menu=anything" : "/";
      const reply = await worker.post(body, { headers: { "x-test-now": String(MONDAY_10) }, path });
      assert.equal(reply.body, `${XML_DECL}<Response><Dial><Number>4915799999999</Number></Dial></Response>`, body);
    }
    assert.equal(store.cli("kill", "--proceed").status, 0);
    assert.equal((await push(call("492111234567", TARGET))).body, PROCEED);
    assert.equal(store.cli("kill", "--off").status, 0);
    assert.match((await push(call("492111234567", TARGET))).body, /4915790000001/);
  });
});

describe("POST /simulate", () => {
  let store;
  let worker;
  let closed;
  before(async () => {
    store = localStore();
    store.publish(example("office"));
    worker = await startWorker({ store });
    closed = await startWorker({ store, vars: { ADMIN_TOKEN: "" } });
  });
  after(async () => {
    await worker.dispose();
    await closed.dispose();
    store.dispose();
  });

  const simulate = (target, body, token = ADMIN_TOKEN) =>
    target.request("/simulate", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  test("answers the trace of a call as JSON, Saturday and Monday differ", async () => {
    const saturday = await simulate(worker, { from: "492111234567", to: "4921100000", direction: "in", at: "2026-11-28T10:00" });
    assert.equal(saturday.status, 200, saturday.body);
    const trace = JSON.parse(saturday.body);
    assert.equal(trace.version, 1);
    assert.equal(trace.matched, "after-hours");
    assert.equal(trace.at.weekday, "sat");
    assert.deepEqual(
      trace.rules.map((step) => [step.rule, step.matched]),
      [["outgoing", false], ["block-list", false], ["anonymous-busy", false], ["holidays", false], ["lunch-break", false], ["business-hours", false], ["after-hours", true]],
    );
    assert.equal(trace.rules[5].why, "sat 2026-11-28 10:00 Europe/Berlin is outside the time window");
    const monday = JSON.parse((await simulate(worker, { from: "492111234567", to: "4921100000", direction: "in", at: "2026-11-30T10:00" })).body);
    assert.equal(monday.matched, "business-hours");
    assert.match(monday.xml, /<Number>4921100003<\/Number>/);
    const digits = JSON.parse((await simulate(worker, { from: "492111234567", to: "4921100000", direction: "in", menu: "after-hours", dtmf: "1" })).body);
    assert.equal(digits.menu.step, "option");
  });

  test("has no side effects: the rules and their version are unchanged", async () => {
    const before = store.cli("versions").stdout;
    await simulate(worker, { from: "492111234567", to: "4921100000", direction: "in" });
    assert.equal(store.cli("versions").stdout, before);
  });

  test("does not exist without the token or without ADMIN_TOKEN configured", async () => {
    const call = { from: "1", to: "4921100000", direction: "in" };
    assert.equal((await simulate(worker, call, null)).status, 404);
    assert.equal((await simulate(worker, call, "wrong-token")).status, 404);
    assert.equal((await simulate(closed, call)).status, 404);
    assert.equal((await simulate(closed, call, "")).status, 404);
  });
});

describe("100,000 numbers", () => {
  let store;
  let publishOutput;
  const NUMBERS = 100_000;
  const number = (n) => `4930${String(n).padStart(7, "0")}`;
  before(() => {
    store = localStore();
    const document = example("office");
    const [officeRules] = Object.values(document.numbers);
    for (let n = 0; n < NUMBERS; n++) {
      document.numbers[number(n)] = [{ id: `n${n}`, then: { dial: { numbers: [`4915${String(n).padStart(9, "0")}`] } } }];
    }
    document.numbers["4921100000"] = officeRules;
    publishOutput = store.publish(document);
  });
  after(() => store.dispose());

  test("publishes", () => {
    assert.match(publishOutput, /as version 1 \(100001 numbers, 782 shards\)/);
  });

  test("a push for any of them reads at most 2 KV keys, and none when warm", async () => {
    for (const n of [0, 1, 31_337, 77_777, NUMBERS - 1]) {
      // A fresh worker is a fresh isolate: nothing cached.
      const worker = await startWorker({ store, fault: "count", vars: { RULES_CACHE_SECONDS: "60" } });
      try {
        const cold = await worker.post(call("492111234567", number(n)));
        assert.equal(cold.body, `${XML_DECL}<Response><Dial><Number>4915${String(n).padStart(9, "0")}</Number></Dial></Response>`);
        assert.ok(Number(cold.headers.get("x-kv-reads")) <= 2, cold.headers.get("x-kv-keys"));
        assert.match(cold.headers.get("x-kv-keys"), /^rules:live,rules:v1:s\d+$/);
        const warm = await worker.post(call("492111234567", number(n)));
        assert.equal(warm.headers.get("x-kv-reads"), "0");
      } finally {
        await worker.dispose();
      }
    }
  });
});
