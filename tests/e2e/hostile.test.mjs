// The hostile-input corpus (tests/fixtures/hostile/corpus.json), end to end
// in workerd: wrong methods and content types, oversized and truncated
// bodies, invalid UTF-8 and percent-encoding, duplicate and conflicting
// fields, unknown events, thousands of user[], XML injection, CRLF, absurd
// dtmf and menu identifiers, paths that try to reach admin endpoints. Each
// request has its expected status and body; none may get a 5xx, and every
// 200 is well-formed XML. The office example is live and the clock is fixed
// to a Saturday morning, so answers are exact.
//
// The corpus runs twice: with every check off, and with the production
// configuration on (signature check with a test key, basic auth, the source
// allowlist, the journal, forwarding to a local receiver), each request then
// signed and sent as sipgate sends it — plus cases of header shapes only
// that configuration meets.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { XMLValidator } from "fast-xml-parser";
import { deployment, example, localStore, root, startWorker } from "./harness.mjs";

const corpus = JSON.parse(readFileSync(join(root, "tests", "fixtures", "hostile", "corpus.json"), "utf8"));
const SATURDAY_10 = Date.parse("2026-11-28T10:00:00+01:00");

/** A body as the corpus writes it: text, hex bytes, or prefix + repeated text. */
function body(spec) {
  if (spec === undefined) return undefined;
  if (typeof spec === "string") return spec;
  if (spec.hex !== undefined) return Buffer.from(spec.hex, "hex");
  return spec.prefix + spec.repeat.repeat(spec.times);
}

/** Status, content type, well-formed XML: what every answer must be. */
function assertShape(entry, reply, status) {
  assert.ok(reply.status < 500, `a ${reply.status}`);
  assert.equal(reply.status, status, reply.body);
  if (reply.status === 200) {
    assert.equal(reply.headers.get("content-type"), "application/xml; charset=utf-8");
    assert.equal(XMLValidator.validate(reply.body), true, reply.body);
  } else if (entry.method !== "HEAD") {
    assert.equal(reply.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.ok(reply.body.length > 1, "a refusal says why");
  }
}

function assertBody(entry, body) {
  if (entry.body_is !== undefined) assert.equal(body, entry.body_is);
  if (entry.body_matches !== undefined) assert.match(body, new RegExp(entry.body_matches));
}

describe("with every check off", () => {
  let store;
  let worker;
  before(async () => {
    store = localStore();
    store.publish(example("office"));
    worker = await startWorker({ store, fault: "clock" });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("the corpus has at least 50 requests", () => {
    assert.ok(corpus.length >= 50, `${corpus.length}`);
  });

  for (const entry of corpus) {
    test(entry.name, async () => {
      const reply = await worker.request(entry.path, {
        method: entry.method,
        headers: { "x-test-now": String(SATURDAY_10), ...(entry.headers ?? {}) },
        body: body(entry.body),
      });
      assertShape(entry, reply, entry.status);
      assertBody(entry, reply.body);
    });
  }
});

describe("with the production configuration", () => {
  const PASSWORD = "hostile/pass+word";
  let deployed;
  let worker;
  before(async () => {
    deployed = await deployment({ password: PASSWORD });
    worker = deployed.worker;
  });
  after(() => deployed?.dispose());

  /** Headers as sipgate sends them; the entry's own win (they are its test). */
  const asSipgate = (entry, payload) => ({ ...deployed.headers(payload, SATURDAY_10), ...(entry.headers ?? {}) });

  /**
   * The answer as the corpus expects it with every check off: the journal's
   * callbacks to the router itself removed, the credentials out of its URLs.
   */
  const withoutDeployment = (xml) => {
    const own = `http://sipgate:${deployed.inUrl}@router.test`;
    return xml
      .replace(new RegExp(` onAnswer="${own}[^"]*" onHangup="${own}[^"]*"`), "")
      .replaceAll(own, "http://router.test");
  };

  for (const entry of corpus) {
    test(entry.name, async () => {
      const payload = body(entry.body);
      const reply = await worker.request(entry.path, { method: entry.method, headers: asSipgate(entry, payload), body: payload });
      const status = entry.production_status ?? entry.status;
      assertShape(entry, reply, status);
      if (status === entry.status) assertBody(entry, withoutDeployment(reply.body));
    });
  }

  const SEED = "from=492111234567&to=4930123456&direction=in";
  const base64 = (bytes) => Buffer.from(bytes).toString("base64");
  for (const [name, headers, status] of [
    ["a lowercase basic scheme", { authorization: (d) => `basic ${d.authorization.slice(6)}` }, 200],
    ["an uppercase BASIC scheme", { authorization: (d) => `BASIC ${d.authorization.slice(6)}` }, 200],
    ["credentials that are not UTF-8", { authorization: `Basic ${base64([0x73, 0x3a, 0xff, 0xfe])}` }, 401],
    ["credentials with a password that is not UTF-8", { authorization: `Basic ${base64(Buffer.concat([Buffer.from(`sipgate:${PASSWORD}`), Buffer.from([0xff])]))}` }, 401],
    ["a bearer token instead of basic credentials", { authorization: `Bearer ${PASSWORD}` }, 401],
    ["two signature headers", { "x-sipgate-signature": (d) => [d.headers(SEED)["x-sipgate-signature"], d.headers(SEED)["x-sipgate-signature"]] }, 403],
    ["an IPv4-mapped IPv6 client address", { "cf-connecting-ip": (d) => `::ffff:${d.source}` }, 200],
    ["a client address with a port", { "cf-connecting-ip": (d) => `${d.source}:443` }, 403],
    ["a client address list", { "cf-connecting-ip": (d) => `${d.source}, 198.51.100.1` }, 403],
    ["no client address", { "cf-connecting-ip": "" }, 403],
  ]) {
    test(`header shape: ${name}`, async () => {
      const all = { "content-type": "application/x-www-form-urlencoded", ...asSipgate({}, SEED), ...headers };
      const init = new Headers();
      for (const [header, value] of Object.entries(all)) {
        const given = typeof value === "function" ? value(deployed) : value;
        for (const one of [given].flat()) if (one !== "") init.append(header, one);
      }
      const reply = await worker.request("/", { method: "POST", headers: init, body: SEED });
      assertShape({ method: "POST" }, reply, status);
    });
  }

  test("no answer, row, delivery or log line of the whole run holds the password", async () => {
    await new Promise((resolve) => setTimeout(resolve, 500)); // the writes after the answers
    const { results } = await worker.d1.prepare("SELECT * FROM pushes").all();
    assert.ok(results.length > 10, `${results.length} rows`);
    assert.ok(deployed.crm.received.length > 10, `${deployed.crm.received.length} deliveries`);
    const kept = JSON.stringify(results) + JSON.stringify(deployed.crm.received) + worker.logs.join("\n");
    for (const secret of [PASSWORD, deployed.inUrl, deployed.authorization.slice(6)]) assert.ok(!kept.includes(secret), secret);
  });
});

describe("allowlists as people write them", () => {
  let store;
  before(() => {
    store = localStore();
    store.publish({ default: [{ id: "proceed", then: { proceed: {} } }] });
  });
  after(() => store.dispose());

  for (const [list, client, status] of [
    ["  212.9.46.32 ,,  217.116.118.254  ", "217.116.118.254", 200],
    ["212.9.46.32\n217.116.118.254", "212.9.46.32", 200],
    ["::ffff:212.9.46.32", "212.9.46.32", 200],
    ["212.9.46.0/24", "212.9.46.200", 200],
    ["212.9.46.32:443", "212.9.46.32", 403],
    ["212.9.46.0/+24", "212.9.46.32", 403],
    [", ,", "212.9.46.32", 403],
  ]) {
    test(`ALLOWED_SOURCES=${JSON.stringify(list)}, client ${client}: ${status}`, async () => {
      const worker = await startWorker({ store, vars: { ALLOWED_SOURCES: list } });
      try {
        const reply = await worker.post("from=1&to=4930123456&direction=in", { headers: { "cf-connecting-ip": client } });
        assert.equal(reply.status, status, reply.body);
        if (status === 403) {
          const [line] = await worker.logLines((line) => line.msg === "config");
          assert.match(line.error, /^ALLOWED_SOURCES: /);
        }
      } finally {
        await worker.dispose();
      }
    });
  }
});
