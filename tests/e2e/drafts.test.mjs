// End to end: a staged rollout. A version published as the draft (by the
// CLI through wrangler, and through the admin API) answers its test callers
// on real pushes to the built worker in workerd while every other caller
// gets the live version; each push reads at most 2 KV keys (counted by the
// faulty-kv wrapper); promote and discard switch as the CLI says.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, example, localStore, runCli, startWorker } from "./harness.mjs";

const berlin = (local) => Date.parse(`${local}:00+01:00`);
const MONDAY_10 = berlin("2026-11-30T10:00");
const SATURDAY_10 = berlin("2026-11-28T10:00");
const TESTER = "4915790000123";
const call = (from, to = "4921100000") => `from=${from}&to=${to}&direction=in&callId=d${Math.random().toString(16).slice(2)}`;

/** The office example with business hours ringing 4921100009 first, and the after-hours menu's 2 dialing 4915790000098. */
function draftDocument() {
  const document = JSON.parse(JSON.stringify(example("office")).replaceAll("4921100001", "4921100009"));
  document.menus["after-hours"].options["2"] = { dial: { numbers: ["4915790000098"] } };
  // Its expectations say so too, or publish (draft or not) refuses it.
  const menuTwo = document.expectations.find((expectation) => expectation.call.dtmf === "2" && expectation.expect.action === "voicemail");
  menuTwo.expect.action = "dial 4915790000098";
  return document;
}

const ringsFirst = (body) => body.match(/<Number>(\d+)<\/Number>/)?.[1];

describe("a draft for test callers", () => {
  let store;
  let worker;
  let draftFile;
  const push = (body, now = MONDAY_10, path = "/") => worker.post(body, { headers: { "x-test-now": String(now) }, path });
  before(async () => {
    store = localStore();
    store.publish(example("office"));
    store.migrateJournal();
    draftFile = join(store.dir, "draft.json");
    writeFileSync(draftFile, JSON.stringify(draftDocument()));
    worker = await startWorker({ store, fault: "clock,count", listen: true, journal: true });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("publish --draft needs test callers and refuses ones that are no test", () => {
    const bare = store.cli("publish", draftFile, "--draft");
    assert.equal(bare.status, 2, bare.stderr);
    assert.match(bare.stderr, /--test-caller/);
    const everyone = store.cli("publish", draftFile, "--draft", "--test-caller", "*");
    assert.equal(everyone.status, 1, everyone.stderr);
    assert.match(everyone.stderr, /callers\[0\]: "\*" is everyone: publish the version instead of drafting it/);
    const status = store.cli("status");
    assert.doesNotMatch(status.stdout, /draft/);
  });

  test("the draft answers its test callers on real pushes, live everyone else, at most 2 reads each", async () => {
    const published = store.cli("publish", draftFile, "--draft", "--test-caller", TESTER, "--test-caller", "+49301234*");
    assert.equal(published.status, 0, published.stderr);
    assert.match(published.stdout, /as draft version 2 .*: live only for the test callers 4915790000123, \+49301234\*/);
    assert.match(published.stdout, /everyone else keeps version 1/);
    for (const [caller, rings, version] of [
      [TESTER, "4921100009", 2],
      ["493012345678", "4921100009", 2],
      ["492111234567", "4921100001", 1],
      ["4915790000124", "4921100001", 1],
    ]) {
      const reply = await push(call(caller));
      assert.equal(ringsFirst(reply.body), rings, `${caller}: ${reply.body}`);
      const reads = Number(reply.headers.get("x-kv-reads"));
      assert.ok(reads >= 1 && reads <= 2, `${caller}: ${reply.headers.get("x-kv-keys")}`);
      assert.match(reply.headers.get("x-kv-keys"), new RegExp(`^rules:live(,rules:v${version}:s0)?$`));
    }
    const lines = await worker.logLines((line) => line.msg === "routed" && line.version === 2);
    assert.ok(lines.length >= 2, JSON.stringify(lines));
    assert.ok(lines.every((line) => line.draft === true));
    const live = await worker.logLines((line) => line.msg === "routed" && line.version === 1);
    assert.ok(live.length >= 2 && live.every((line) => !("draft" in line)), JSON.stringify(live));
    // The journal keeps the version that answered: the draft's for its test callers.
    await push(`event=newCall&from=${TESTER}&to=4921100000&direction=in&callId=journal-tester`);
    await push("event=newCall&from=492111234567&to=4921100000&direction=in&callId=journal-other");
    const deadline = Date.now() + 5000;
    let journaled = [];
    while (journaled.length < 2 && Date.now() < deadline) {
      ({ results: journaled } = await worker.d1.prepare("SELECT call_id, version FROM pushes WHERE call_id LIKE 'journal-%' ORDER BY call_id").all());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual(journaled, [
      { call_id: "journal-other", version: 1 },
      { call_id: "journal-tester", version: 2 },
    ]);
  });

  test("a test caller's menu comes back marked and is answered by the draft", async () => {
    const menu = await push(call(TESTER), SATURDAY_10);
    const onData = menu.body.match(/<Gather onData="([^"]+)"/)[1].replaceAll("&amp;", "&");
    const url = new URL(onData);
    assert.equal(url.search, "?menu=after-hours&try=0&draft=2");
    const digits = await push("event=dtmf&dtmf=2&callId=m1", SATURDAY_10, url.pathname + url.search);
    assert.match(digits.body, /<Dial><Number>4915790000098<\/Number><\/Dial><\/Response>$/);
    const others = await push(call("492111234567"), SATURDAY_10);
    assert.match(others.body, /menu=after-hours&amp;try=0"/);
  });

  test("status and versions show the draft and its test callers", () => {
    const status = store.cli("status");
    assert.match(status.stdout, /live: version 1 /);
    assert.match(status.stdout, /draft: version 2 for test callers 4915790000123, \+49301234\* \(published on version 1, /);
    const versions = store.cli("versions");
    assert.match(versions.stdout, /^draft {4}2 /m);
    assert.match(versions.stdout, /^live {5}1 /m);
    assert.match(versions.stdout, /draft 2 is live for the test callers 4915790000123, \+49301234\* \(published on version 1\)/);
    const json = JSON.parse(store.cli("versions", "--json").stdout);
    assert.deepEqual(json.draft, { version: 2, shards: 1, callers: [TESTER, "+49301234*"], base: 1, format: 2 });
  });

  test("promote is refused once live changed, forced it switches everyone; discard drops a draft", async () => {
    store.publish(example("office")); // version 3, published meanwhile
    const refused = store.cli("promote");
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /version 3 went live after draft 2 was published on version 1/);
    assert.equal(ringsFirst((await push(call("492111234567"))).body), "4921100001");
    const forced = store.cli("promote", "--force");
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /promoted draft version 2 .*: it is live for every caller \(version 3 stays for rollback\)/);
    assert.match(forced.stdout, /forced: it replaced version 3/);
    const everyone = await push(call("492111234567"));
    assert.equal(ringsFirst(everyone.body), "4921100009");
    assert.match(everyone.headers.get("x-kv-keys"), /^rules:live(,rules:v2:s0)?$/);
    assert.match(store.cli("status").stdout, /live: version 2 /);

    const again = store.cli("publish", join(store.dir, "document-0.json"), "--draft", "--test-caller", TESTER);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(ringsFirst((await push(call(TESTER))).body), "4921100001");
    const discarded = store.cli("discard");
    assert.equal(discarded.status, 0, discarded.stderr);
    assert.match(discarded.stdout, /discarded draft version 4 .*: its test callers \(4915790000123\) get the live version again/);
    assert.equal(ringsFirst((await push(call(TESTER))).body), "4921100009");
    const none = store.cli("discard");
    assert.equal(none.status, 1);
    assert.match(none.stderr, /there is no draft to discard/);
  });

  test("the admin API runs the same flow, and the CLI's --url with it", async () => {
    const api = (path, { method = "GET", body } = {}) =>
      worker.request(`/admin/api/${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
      });
    const drafted = await api(`draft?callers=${encodeURIComponent(TESTER)}`, { method: "PUT", body: JSON.stringify(example("office")) });
    assert.equal(drafted.status, 200, drafted.body);
    const version = JSON.parse(drafted.body).version;
    assert.equal(JSON.parse((await api("draft")).body).draft.version, version);
    assert.equal(ringsFirst((await push(call(TESTER))).body), "4921100001");
    assert.equal(ringsFirst((await push(call("492111234567"))).body), "4921100009");
    // The CLI's --url reads and changes the same draft through the running worker.
    const cli = (...args) => runCli([...args, "--url", worker.url.toString()], { env: { SIPGATE_ROUTER_TOKEN: ADMIN_TOKEN } });
    assert.match(cli("status").stdout, new RegExp(`draft: version ${version} for test callers ${TESTER} \\(published on version 2, .* by admin API \\(token\\)\\)`));
    const discarded = cli("discard");
    assert.equal(discarded.status, 0, discarded.stderr);
    assert.equal(ringsFirst((await push(call(TESTER))).body), "4921100009");
    const redrafted = cli("publish", join(store.dir, "document-0.json"), "--draft", "--test-caller", `+${TESTER}`);
    assert.equal(redrafted.status, 0, redrafted.stderr);
    assert.match(redrafted.stdout, /test callers \+4915790000123/);
    assert.equal(ringsFirst((await push(call(TESTER))).body), "4921100001", "a + in the caller survives the query");
    const promoted = await api("draft/promote", { method: "POST", body: "{}" });
    assert.equal(promoted.status, 200, promoted.body);
    assert.equal(ringsFirst((await push(call("492111234567"))).body), "4921100001");
    assert.equal((await api("draft")).status, 404);
  });
});
