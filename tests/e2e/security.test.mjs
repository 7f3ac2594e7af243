// End to end: who may talk to the worker, in workerd, with real RSA
// signatures (a test key pair configured as SIPGATE_PUBLIC_KEY), basic auth
// and the source allowlist — each on or off, each right, wrong or missing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, localStore, signer, startWorker, XML_DECL } from "./harness.mjs";

const SEED = "from=492111234567&to=4921100000&direction=in";
const DIALED = `${XML_DECL}<Response><Dial><Number>4915790000001</Number></Dial></Response>`;
const RULES = { numbers: { "4921100000": [{ id: "dial", then: { dial: { numbers: ["4915790000001"] } } }] } };
const SIPGATE = "212.9.46.32";

const { pem: PEM, signature } = signer();
const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

let store;
before(() => {
  store = localStore();
  store.publish(RULES);
});
after(() => store.dispose());

describe("sipgate signatures", () => {
  let testKey;
  let sipgateKey;
  before(async () => {
    testKey = await startWorker({ store, vars: { SIGNATURE_CHECK: "on", SIPGATE_PUBLIC_KEY: PEM } });
    sipgateKey = await startWorker({ store, vars: { SIGNATURE_CHECK: "on" } });
  });
  after(async () => {
    await testKey.dispose();
    await sipgateKey.dispose();
  });

  test("a push signed with the configured key is accepted", async () => {
    const reply = await testKey.post(SEED, { headers: { "x-sipgate-signature": signature(SEED) } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, DIALED);
  });

  test("any one-byte change to the body is refused", async () => {
    const signed = signature(SEED);
    for (let position = 0; position < SEED.length; position++) {
      const bytes = Buffer.from(SEED);
      bytes[position] ^= 0x01;
      const reply = await testKey.post(bytes, { headers: { "x-sipgate-signature": signed } });
      assert.equal(reply.status, 403, `byte ${position}`);
      assert.equal(reply.body, "forbidden: X-Sipgate-Signature does not match the body\n");
    }
    // So is a body with a byte added or removed.
    for (const changed of [`${SEED}&`, SEED.slice(0, -1)]) {
      assert.equal((await testKey.post(changed, { headers: { "x-sipgate-signature": signed } })).status, 403);
    }
  });

  test("a missing or malformed signature is refused, and logged without the body", async () => {
    const missing = await testKey.post(`${SEED}&callId=nosig`);
    assert.equal(missing.status, 403);
    assert.equal(missing.body, "forbidden: missing X-Sipgate-Signature\n");
    const malformed = await testKey.post(SEED, { headers: { "x-sipgate-signature": "not*base64" } });
    assert.equal(malformed.body, "forbidden: X-Sipgate-Signature is not base64\n");
    const [line] = await testKey.logLines((line) => line.msg === "denied" && line.error === "forbidden: missing X-Sipgate-Signature");
    assert.equal(line.status, 403);
    assert.ok(!JSON.stringify(line).includes("492111234567"), "no body in the log");
  });

  test("with sipgate's own key (the default), our signatures are refused", async () => {
    assert.equal((await sipgateKey.post(SEED, { headers: { "x-sipgate-signature": signature(SEED) } })).status, 403);
    assert.equal((await sipgateKey.post(SEED)).status, 403);
  });
});

describe("the auth matrix: signature × basic auth × allowlist", () => {
  // Each check on or off: 8 workers. Against each, every combination of
  // right, wrong and missing credentials for the checks that are on.
  const configs = [];
  for (const signatureOn of [false, true]) {
    for (const basicOn of [false, true]) {
      for (const sourcesOn of [false, true]) configs.push({ signatureOn, basicOn, sourcesOn });
    }
  }
  const workers = new Map();
  before(async () => {
    for (const config of configs) {
      const vars = { SIGNATURE_CHECK: config.signatureOn ? "on" : "off", SIPGATE_PUBLIC_KEY: PEM };
      if (config.basicOn) Object.assign(vars, { BASIC_AUTH_USER: "sipgate", BASIC_AUTH_PASSWORD: "s3cret-pw" });
      if (config.sourcesOn) vars.ALLOWED_SOURCES = "217.116.118.254, 212.9.46.32";
      workers.set(config, await startWorker({ store, vars }));
    }
  });
  after(async () => {
    for (const worker of workers.values()) await worker.dispose();
  });

  test("every request gets through exactly when every check that is on passes — 0 bypasses", async () => {
    let requests = 0;
    const bypasses = [];
    for (const [config, worker] of workers) {
      for (const sig of config.signatureOn ? ["right", "wrong", "missing"] : ["missing"]) {
        for (const auth of config.basicOn ? ["right", "wrong", "missing"] : ["missing"]) {
          for (const source of config.sourcesOn ? ["right", "wrong", "missing"] : ["missing"]) {
            const headers = {};
            if (sig === "right") headers["x-sipgate-signature"] = signature(SEED);
            if (sig === "wrong") headers["x-sipgate-signature"] = signature(`${SEED}&x=1`);
            if (auth === "right") headers.authorization = basic("sipgate", "s3cret-pw");
            if (auth === "wrong") headers.authorization = basic("sipgate", "s3cret-pW");
            if (source === "right") headers["cf-connecting-ip"] = SIPGATE;
            if (source === "wrong") headers["cf-connecting-ip"] = "198.51.100.7";
            // X-Forwarded-For proves nothing, even when it names sipgate.
            headers["x-forwarded-for"] = SIPGATE;
            const reply = await worker.post(SEED, { headers });
            requests++;
            const passes = (on, given) => !on || given === "right";
            const expected = !passes(config.sourcesOn, source)
              ? 403
              : !passes(config.basicOn, auth)
                ? 401
                : !passes(config.signatureOn, sig)
                  ? 403
                  : 200;
            const label = `${JSON.stringify(config)} signature ${sig}, basic ${auth}, source ${source}`;
            if (reply.status === 200 && expected !== 200) bypasses.push(label);
            assert.equal(reply.status, expected, label);
            if (expected === 200) assert.equal(reply.body, DIALED, label);
            if (expected === 401) assert.equal(reply.headers.get("www-authenticate"), 'Basic realm="sipgate-router", charset="UTF-8"', label);
          }
        }
      }
    }
    assert.deepEqual(bypasses, []);
    assert.equal(requests, 1 + 3 + 3 + 9 + 3 + 9 + 9 + 27);
  });

  test("the admin token is its own check: /simulate answers only to it, whatever else is configured", async () => {
    for (const worker of workers.values()) {
      const simulate = (authorization) =>
        worker.request("/simulate", {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ from: "492111234567", to: "4921100000", direction: "in" }),
        });
      assert.equal((await simulate(`Bearer ${ADMIN_TOKEN}`)).status, 200);
      assert.equal((await simulate(`bearer ${ADMIN_TOKEN}`)).status, 200, "schemes are case-insensitive");
      for (const wrong of [null, `Bearer ${ADMIN_TOKEN.slice(0, -1)}N`, "Bearer ", basic("sipgate", "s3cret-pw"), ADMIN_TOKEN]) {
        assert.equal((await simulate(wrong)).status, 404, String(wrong));
      }
    }
  });
});

describe("a configuration that cannot be understood fails closed", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ store, vars: { SIGNATURE_CHECK: "off", ALLOWED_SOURCES: "212.9.46.32, not-an-ip" } });
  });
  after(() => worker.dispose());

  test("every push is refused, and the log says why", async () => {
    const reply = await worker.post(SEED, { headers: { "cf-connecting-ip": SIPGATE } });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, "forbidden: the router's access configuration is invalid\n");
    const [line] = await worker.logLines((line) => line.msg === "denied" && line.level === "error");
    assert.match(line.error, /ALLOWED_SOURCES: "not-an-ip" is not an IP address or CIDR range/);
  });
});
