// Fault injection in workerd: KV that errors, hangs past the time budget,
// returns garbage, or loses the pointer or the version's shard mid-run.
// Every push is still answered 200 with valid XML within the budget, from
// the last-known-good rules when the isolate has them, and the log says
// what happened.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { localStore, PROCEED, startWorker, XML_DECL } from "./harness.mjs";

const BUDGET_MS = 400;
const SEED = "from=492111234567&to=4921100000&direction=in";
const DIALED = `${XML_DECL}<Response><Dial><Number>4915790000001</Number></Dial></Response>`;
const RULES = { numbers: { "4921100000": [{ id: "dial", then: { dial: { numbers: ["4915790000001"] } } }] } };
let calls = 0;
const push = (worker, kv) =>
  worker.post(`${SEED}&callId=fault${++calls}`, { headers: kv ? { "x-test-kv": kv } : {} });

async function lineFor(worker, reply) {
  const callId = `fault${calls}`;
  const [line] = await worker.logLines((line) => line.callId === callId);
  assert.ok(line, `no log line for ${callId}`);
  return line;
}

/** 200, XML, and in time: the budget plus generous slack for a loaded machine. */
function assertAnswered(reply, body) {
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("content-type"), "application/xml; charset=utf-8");
  assert.equal(reply.body, body);
  assert.ok(reply.ms < BUDGET_MS + 1500, `answered after ${Math.round(reply.ms)} ms`);
}

describe("KV faults", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish(RULES);
  });
  after(() => store.dispose());

  const fresh = () => startWorker({ store, fault: "kv", vars: { KV_BUDGET_MS: String(BUDGET_MS) } });

  for (const fault of ["error", "hang", "garbage"]) {
    test(`${fault}: a cold isolate proceeds, a warm one answers from its last-known-good rules`, async () => {
      const worker = await fresh();
      try {
        const cold = await push(worker, fault);
        assertAnswered(cold, PROCEED);
        const coldLine = await lineFor(worker);
        assert.equal(coldLine.level, "error");
        assert.equal(coldLine.msg, "rules_unavailable");
        assert.match(coldLine.error, fault === "hang" ? /did not answer within 400 ms/ : fault === "error" ? /injected fault/ : /rules:live is not usable/);

        assertAnswered(await push(worker), DIALED); // KV healthy: the isolate learns the rules
        const warm = await push(worker, fault);
        assertAnswered(warm, DIALED);
        const warmLine = await lineFor(worker);
        assert.equal(warmLine.level, "error");
        assert.equal(warmLine.msg, "routed");
        assert.match(warmLine.error, /answered from the last-known-good rules \(version 1\)/);
      } finally {
        await worker.dispose();
      }
    });
  }

  test("a hanging KV never holds the answer past the budget, push after push", async () => {
    const worker = await fresh();
    try {
      assertAnswered(await push(worker), DIALED);
      const started = performance.now();
      for (let i = 0; i < 5; i++) assertAnswered(await push(worker, "hang"), DIALED);
      assert.ok(performance.now() - started < 5 * (BUDGET_MS + 500));
    } finally {
      await worker.dispose();
    }
  });
});

/** A worker over a store with RULES published, for a suite's tests: `suite.worker`, `suite.store`. */
function withPublishedWorker() {
  const suite = {};
  before(async () => {
    suite.store = localStore();
    suite.store.publish(RULES);
    suite.worker = await startWorker({ store: suite.store, vars: { KV_BUDGET_MS: String(BUDGET_MS) } });
  });
  after(async () => {
    await suite.worker.dispose();
    suite.store.dispose();
  });
  return suite;
}

describe("keys lost mid-run", () => {
  const suite = withPublishedWorker();

  test("the version's shard vanishes: last-known-good rules, logged", async () => {
    assertAnswered(await push(suite.worker), DIALED);
    suite.store.publish({ numbers: { "4921100000": [{ id: "v2", then: { dial: { numbers: ["4915790000002"] } } }] } });
    await suite.worker.kv.delete("rules:v2:s0");
    assertAnswered(await push(suite.worker), DIALED);
    const line = await lineFor(suite.worker);
    assert.match(line.error, /rules:v2:s0 is missing; answered from the last-known-good rules \(version 1\)/);
  });

  test("the pointer vanishes: last-known-good rules, logged", async () => {
    await suite.worker.kv.delete("rules:live");
    assertAnswered(await push(suite.worker), DIALED);
    const line = await lineFor(suite.worker);
    assert.match(line.error, /rules:live is missing; answered from the last-known-good rules/);
  });

  test("a corrupt pointer: last-known-good rules, logged", async () => {
    await suite.worker.kv.put("rules:live", "{corrupt");
    assertAnswered(await push(suite.worker), DIALED);
    const line = await lineFor(suite.worker);
    assert.match(line.error, /rules:live is not usable/);
  });
});

// Mixed versions: a newer sipgate-rules published version 2 in a rules
// format this worker does not read, before its worker was deployed. The
// worker does not read the shard and answers from last-known-good.
describe("a rules format this worker does not know", () => {
  const suite = withPublishedWorker();

  test("the pointer names format 3: last-known-good rules, the error says what to deploy", async () => {
    assertAnswered(await push(suite.worker), DIALED);
    await suite.worker.kv.put("rules:v2:s0", "\u0003a shard in a format of the future");
    await suite.worker.kv.put("rules:live", JSON.stringify({ version: 2, shards: 1, kill: null, format: 3 }));
    const reply = await push(suite.worker);
    assertAnswered(reply, DIALED);
    const line = await lineFor(suite.worker);
    assert.equal(line.level, "error");
    assert.match(
      line.error,
      /^rules:live names version 2 in rules format 3, which this worker does not read \(it reads formats 1 and 2\): deploy the worker before publishing with a newer sipgate-rules; answered from the last-known-good rules \(version 1\)/,
    );
    assert.equal(line.version, 1);
  });

  test("a fresh isolate, nothing to fall back on: the call proceeds, said as an error", async () => {
    const fresh = await startWorker({ store: suite.store, vars: { KV_BUDGET_MS: String(BUDGET_MS) } });
    try {
      const reply = await push(fresh);
      assertAnswered(reply, PROCEED);
      const line = await lineFor(fresh);
      assert.equal(line.level, "error");
      assert.match(line.error, /rules format 3, which this worker does not read/);
    } finally {
      await fresh.dispose();
    }
  });
});

// What a publish writes: compiled shards (format 2) by default, the
// document's JSON with --rules-format 1 — for a worker deployed before
// format 2 — and this worker reads both.
describe("the rules formats a publish writes", () => {
  const suite = withPublishedWorker();

  test("format 2 by default; --rules-format 1 writes JSON shards and a pointer without a format", async () => {
    const first = JSON.parse(await suite.worker.kv.get("rules:live"));
    assert.equal(first.format, 2);
    assert.equal((await suite.worker.kv.get("rules:v1:s0")).charCodeAt(0), 2, "a compiled shard begins with its format");
    assertAnswered(await push(suite.worker), DIALED);

    const older = { numbers: { "4921100000": [{ id: "v2", then: { dial: { numbers: ["4915790000002"] } } }] } };
    const file = join(suite.store.dir, "older.json");
    writeFileSync(file, JSON.stringify(older));
    const published = suite.store.cli("publish", file, "--rules-format", "1");
    assert.equal(published.status, 0, published.stderr);
    const pointer = JSON.parse(await suite.worker.kv.get("rules:live"));
    assert.deepEqual(pointer, { version: 2, shards: 1, kill: null });
    assert.deepEqual(JSON.parse(await suite.worker.kv.get("rules:v2:s0")).numbers, older.numbers);
    assertAnswered(await push(suite.worker), `${XML_DECL}<Response><Dial><Number>4915790000002</Number></Dial></Response>`);

    // What an operator sees of it: which format is live, and each version's.
    assert.match(suite.store.cli("status").stdout, /live: version 2 — 1 number, 1 shard in rules format 1, published /);
    const versions = suite.store.cli("versions").stdout.split("\n");
    assert.match(versions.find((line) => line.startsWith("live ")), /^live +2 .* shards {2}format 1 /);
    assert.match(versions.find((line) => /^ +1 /.test(line)), / shards {2}format 2 /);
  });
});
