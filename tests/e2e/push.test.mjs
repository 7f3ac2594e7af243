// End to end: the built worker in workerd with a local KV, spoken to over
// HTTP exactly as sipgate.io does (form-encoded POSTs, XML back).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fixture, localStore, PROCEED, startWorker, XML_DECL } from "./harness.mjs";

const SEED = fixture("new-call-seed");
const OFFICE = {
  id: "office",
  then: { dial: { numbers: ["4921100001", "4921100002"], callerId: "4921100000" } },
  onAnswer: "https://crm.example.com/events",
  onHangup: "https://crm.example.com/events",
};
const OFFICE_XML =
  `${XML_DECL}<Response onAnswer="https://crm.example.com/events" onHangup="https://crm.example.com/events">` +
  `<Dial callerId="4921100000"><Number>4921100001</Number><Number>4921100002</Number></Dial></Response>`;
const VOICEMAIL_XML = `${XML_DECL}<Response><Dial><Voicemail/></Dial></Response>`;

function assertXml(reply, body) {
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("content-type"), "application/xml; charset=utf-8");
  assert.equal(reply.body, body);
}

function assertRefused(reply, status, reason) {
  assert.equal(reply.status, status, reply.body);
  assert.equal(reply.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(reply.body, `${reason}\n`);
}

const RULES = {
  numbers: {
    "4915791234567": [OFFICE],
    "4921100030": [{ then: { reject: { reason: "busy" } } }],
  },
  default: [{ id: "fallback", then: { voicemail: {} } }],
};

describe("pushes answered from the published rules", () => {
  let store;
  let worker;
  before(async () => {
    store = localStore();
    store.publish(RULES);
    worker = await startWorker({ store });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("the seed's curl request is routed by the called number", async () => {
    // curl -X POST --data "from=492111234567&to=4915791234567&direction=in"
    assertXml(await worker.post(SEED, { contentType: "application/x-www-form-urlencoded" }), OFFICE_XML);
  });

  test("the documented newCall of a group call with two user[]", async () => {
    assertXml(await worker.post(fixture("new-call-group")), OFFICE_XML);
    const [line] = await worker.logLines((line) => line.callId === "123456" && line.event === "newCall");
    assert.deepEqual(line, {
      level: "info",
      msg: "routed",
      status: 200,
      event: "newCall",
      callId: "123456",
      version: 1,
      reads: 1, // the pointer; the shard is cached since the first push
      rule: "office",
      answer: "dial",
    });
  });

  test("an anonymous caller is routed by the called number", async () => {
    assertXml(await worker.post(fixture("new-call-anonymous")), OFFICE_XML);
  });

  test("an outgoing call is routed by the calling number", async () => {
    assertXml(await worker.post("from=4921100030&to=492111234567&direction=out"), `${XML_DECL}<Response><Reject reason="busy"/></Response>`);
  });

  test("a number without rules takes the default rules", async () => {
    assertXml(await worker.post("from=492111234567&to=4930123456&direction=in"), VOICEMAIL_XML);
  });

  test("answer, hangup and dtmf pushes are answered with an empty Response", async () => {
    for (const name of ["answer", "hangup", "dtmf"]) {
      assertXml(await worker.post(fixture(name)), PROCEED);
    }
  });
});

describe("nothing published", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ store: null });
  });
  after(() => worker.dispose());

  test("calls proceed, and the isolate's first push logs an error that says routing is off", async () => {
    assertXml(await worker.post(`${SEED}&callId=none1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "none1");
    assert.equal(line.msg, "no_rules");
    assert.equal(line.level, "error");
    assert.match(line.error, /^no rules published: rules:live is missing in the KV namespace ROUTES/);
    // Once per isolate: later pushes are not errors.
    assertXml(await worker.post(`${SEED}&callId=none2`), PROCEED);
    const [later] = await worker.logLines((line) => line.callId === "none2");
    assert.equal(later.level, "info");
    assert.equal(later.error, undefined);
  });
});

describe("corrupt and invalid rules in KV", () => {
  let store;
  let worker;
  before(async () => {
    store = localStore();
    store.publish(RULES);
    worker = await startWorker({ store });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("a shard that is not JSON answers <Response/> and logs why", async () => {
    await worker.kv.put("rules:live", JSON.stringify({ version: 7, shards: 1 }));
    await worker.kv.put("rules:v7:s0", '{"numbers": {');
    assertXml(await worker.post(`${SEED}&callId=corrupt1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "corrupt1");
    assert.equal(line.level, "error");
    assert.equal(line.msg, "rules_unavailable");
    assert.equal(line.key, "rules:v7:s0");
    assert.match(line.error, /EOF while parsing/);
  });

  test("a damaged compiled shard (rules format 2) answers <Response/> and logs where", async () => {
    await worker.kv.put("rules:live", JSON.stringify({ version: 9, shards: 1, kill: null, format: 2 }));
    // The format's mark, then a zone name longer than what follows.
    await worker.kv.put("rules:v9:s0", "\u0002\u003fEurope/Berlin");
    assertXml(await worker.post(`${SEED}&callId=compact1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "compact1");
    assert.equal(line.msg, "rules_unavailable");
    assert.equal(line.key, "rules:v9:s0");
    assert.match(line.error, /^rules:v9:s0 is not usable: not a compiled shard: at byte 2: a count is larger than what follows/);
  });

  test("an invalid shard answers <Response/> and logs the JSON path", async () => {
    await worker.kv.put("rules:live", JSON.stringify({ version: 8, shards: 1 }));
    const six = ["1", "2", "3", "4", "5", "6"].map((n) => `491579000000${n}`);
    await worker.kv.put("rules:v8:s0", JSON.stringify({ default: [{ then: { dial: { numbers: six } } }] }));
    assertXml(await worker.post(`${SEED}&callId=invalid1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "invalid1");
    assert.equal(line.msg, "rules_unavailable");
    assert.match(line.error, /default\[0\]\.then\.dial\.numbers: has 6 numbers, but sipgate rings at most 5 in parallel/);
  });

  test("a corrupt pointer answers <Response/>", async () => {
    await worker.kv.put("rules:live", "not json");
    assertXml(await worker.post(`${SEED}&callId=pointer1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "pointer1");
    assert.equal(line.key, "rules:live");
  });

  // Last: its rules become the isolate's last-known-good.
  test("a version an older sipgate-rules published (format 1, JSON shards) is still read", async () => {
    await worker.kv.put("rules:live", JSON.stringify({ version: 10, shards: 1, kill: null }));
    await worker.kv.put("rules:v10:s0", JSON.stringify({ default: [{ id: "old", then: { dial: { numbers: ["4915790000001"] } } }] }));
    assertXml(
      await worker.post(`${SEED}&callId=format1`),
      `${XML_DECL}<Response><Dial><Number>4915790000001</Number></Dial></Response>`,
    );
    const [line] = await worker.logLines((line) => line.callId === "format1");
    assert.equal(line.rule, "old");
  });
});

describe("KV failing", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ fault: "error" });
  });
  after(() => worker.dispose());

  test("a KV error answers 200 <Response/> and logs a structured error", async () => {
    assertXml(await worker.post(`${SEED}&callId=kvdown1`), PROCEED);
    const [line] = await worker.logLines((line) => line.callId === "kvdown1");
    assert.equal(line.level, "error");
    assert.equal(line.msg, "rules_unavailable");
    assert.equal(line.key, "rules:live");
    assert.match(line.error, /injected fault/);
  });
});

describe("bad input", () => {
  let store;
  let worker;
  before(async () => {
    store = localStore();
    store.publish({ default: [{ then: { hangup: {} } }] });
    worker = await startWorker({ store });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("a method other than POST gets 405 with Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const reply = await worker.request("/", { method });
      assertRefused(reply, 405, `method ${method} not allowed: sipgate.io pushes are POST requests`);
      assert.equal(reply.headers.get("allow"), "POST");
    }
    const head = await worker.request("/", { method: "HEAD" });
    assert.equal(head.status, 405);
    assert.equal(head.headers.get("allow"), "POST");
  });

  test("a body that is not form-encoded gets 415", async () => {
    assertRefused(
      await worker.post('{"to":"4915791234567"}', { contentType: "application/json" }),
      415,
      "Content-Type application/json is not application/x-www-form-urlencoded",
    );
    // fetch labels a string body text/plain; bytes go without a Content-Type.
    assertRefused(await worker.post(SEED, { contentType: null }), 415, "Content-Type text/plain is not application/x-www-form-urlencoded");
    assertRefused(
      await worker.post(new TextEncoder().encode(SEED), { contentType: null }),
      415,
      "missing Content-Type: send application/x-www-form-urlencoded",
    );
    assertRefused(
      await worker.post(SEED, { contentType: "application/x-www-form-urlencoded; charset=ISO-8859-1" }),
      415,
      "charset ISO-8859-1 is not supported: send UTF-8",
    );
  });

  test("a body over 16 KiB gets 413, declared or streamed", async () => {
    const big = `${SEED}&pad=${"x".repeat(16 * 1024)}`;
    assertRefused(await worker.post(big), 413, "body larger than 16384 bytes: a push is a few hundred bytes");
    // Chunked: no Content-Length, the cap while reading refuses it.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const streamed = await worker.request("/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: chunks,
      duplex: "half",
    });
    assert.equal(streamed.status, 413);
    // Exactly at the limit is fine.
    const exact = `${SEED}&pad=`.padEnd(16 * 1024, "x");
    assert.equal((await worker.post(exact)).status, 200);
  });

  test("a newCall without to or direction gets 400 naming the field", async () => {
    assertRefused(await worker.post("from=492111234567&direction=in"), 400, "missing field `to`");
    assertRefused(await worker.post("from=492111234567&to=4915791234567"), 400, "missing field `direction`");
    assertRefused(await worker.post(""), 400, "missing field `to`");
    const [line] = await worker.logLines((line) => line.status === 400);
    assert.equal(line.level, "warn");
    assert.equal(line.msg, "refused");
  });

  test("unknown extra parameters are ignored", async () => {
    assertXml(await worker.post(`${SEED}&foo=bar&x-sipgate-new=1`), `${XML_DECL}<Response><Hangup/></Response>`);
  });
});
