// The hostile-input corpus (tests/fixtures/hostile/corpus.json), end to end
// in workerd: wrong methods and content types, oversized and truncated
// bodies, invalid UTF-8 and percent-encoding, duplicate and conflicting
// fields, unknown events, thousands of user[], XML injection, CRLF, absurd
// dtmf and menu identifiers, paths that try to reach admin endpoints. Each
// request has its expected status and body; none may get a 5xx, and every
// 200 is well-formed XML. The office example is live and the clock is fixed
// to a Saturday morning, so answers are exact.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { XMLValidator } from "fast-xml-parser";
import { example, localStore, root, startWorker } from "./harness.mjs";

const corpus = JSON.parse(readFileSync(join(root, "tests", "fixtures", "hostile", "corpus.json"), "utf8"));
const SATURDAY_10 = Date.parse("2026-11-28T10:00:00+01:00");

/** A body as the corpus writes it: text, hex bytes, or prefix + repeated text. */
function body(spec) {
  if (spec === undefined) return undefined;
  if (typeof spec === "string") return spec;
  if (spec.hex !== undefined) return Buffer.from(spec.hex, "hex");
  return spec.prefix + spec.repeat.repeat(spec.times);
}

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
    assert.ok(reply.status < 500, `a ${reply.status}`);
    assert.equal(reply.status, entry.status, reply.body);
    if (entry.body_is !== undefined) assert.equal(reply.body, entry.body_is);
    if (entry.body_matches !== undefined) assert.match(reply.body, new RegExp(entry.body_matches));
    if (reply.status === 200) {
      assert.equal(reply.headers.get("content-type"), "application/xml; charset=utf-8");
      assert.equal(XMLValidator.validate(reply.body), true, reply.body);
    } else if (entry.method !== "HEAD") {
      assert.equal(reply.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.ok(reply.body.length > 1, "a refusal says why");
    }
  });
}
