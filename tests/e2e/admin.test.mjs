// End to end: the admin API of the built worker in workerd — every route
// authorised and not, bad input refused with a JSON error and nothing
// written, publish conflicts, the same KV contents as the CLI writes, and
// the CLI's --url against the running worker.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { accessTeam, ADMIN_TOKEN, example, localStore, root, runCli, startWorker } from "./harness.mjs";

const TARGET = "4921177777";
const dialing = (number) => ({ numbers: { [TARGET]: [{ id: `dial-${number}`, then: { dial: { numbers: [number] } } }] } });
const call = (from, to) => `from=${from}&to=${to}&direction=in&callId=a${Math.random().toString(16).slice(2)}`;
const berlin = (local) => Date.parse(`${local}:00+01:00`);
const SATURDAY_10 = berlin("2026-11-28T10:00");
const JSON_TYPE = { "content-type": "application/json" };
const bearer = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

/** Every key and value of a local store's ROUTES namespace, through wrangler. */
function kvDump(dir) {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  const run = (...args) => {
    const result = spawnSync(wrangler, ["kv", ...args, "--binding", "ROUTES", "--local", "--persist-to", dir], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };
  const keys = JSON.parse(run("key", "list")).map((entry) => entry.name).sort();
  return Object.fromEntries(keys.map((key) => [key, run("key", "get", key, "--text")]));
}

describe("the admin API", () => {
  let store;
  let worker;
  const api = (path, { method = "GET", body, headers = {}, token = ADMIN_TOKEN } = {}) =>
    worker.request(`/admin/api/${path}`, {
      method,
      headers: { ...(body !== undefined ? JSON_TYPE : {}), ...(token ? bearer(token) : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  const json = (reply) => JSON.parse(reply.body);
  const push = (body, now) => worker.post(body, { headers: { "x-test-now": String(now) } });
  before(async () => {
    store = localStore();
    store.migrateJournal();
    worker = await startWorker({ store, fault: "clock", journal: true, listen: true });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  test("without the token no route exists (404), and a wrong token is no token", async () => {
    const routes = [
      ["GET", "status"], ["GET", "rules"], ["PUT", "rules"], ["GET", "rules/versions"], ["GET", "rules/1"],
      ["POST", "rules/check"], ["POST", "rules/diff"], ["POST", "rules/rollback"], ["PUT", "kill"], ["DELETE", "kill"],
      ["POST", "simulate"], ["POST", "schedule"], ["GET", "calls"], ["GET", "calls/x"], ["GET", "hits"], ["GET", "nowhere"],
    ];
    for (const [method, path] of routes) {
      for (const token of [null, "wrong-token-0123456789abcdef-0123456789"]) {
        const reply = await api(path, { method, token, body: method === "GET" || method === "DELETE" ? undefined : dialing("4915790000001") });
        assert.equal(reply.status, 404, `${method} ${path} with ${token}`);
        assert.equal(reply.body, "not found\n");
      }
    }
    assert.deepEqual(kvDump(store.dir), {}, "an unauthorised request wrote");
  });

  test("status says plainly that no rules are published", async () => {
    const status = json(await api("status"));
    assert.equal(status.rulesPublished, false);
    assert.equal(status.liveVersion, 0);
    assert.equal(status.live, null);
    assert.equal(status.journal, true);
    assert.ok(Array.isArray(status.configuration));
    assert.equal((await api("rules")).status, 404);
    assert.match(json(await api("rules")).error, /no rules published/);
  });

  test("bad input is a 4xx with a JSON error and writes nothing", async () => {
    const cases = [
      [await api("rules", { method: "PUT", body: { numbers: { [TARGET]: [{ then: { dial: { numbers: [] } } }] } } }), 422, /errors/],
      [await api("rules", { method: "PUT", body: "{not json" }), 422, /error/],
      [await api("rules", { method: "PUT", body: "{}", headers: { "content-type": "text/plain" } }), 415, /not application\/json/],
      [await api("rules", { method: "PUT", body: "{}", headers: { "if-match": "seven" } }), 400, /If-Match "seven" is not a version|If-Match seven/],
      [await api("rules", { method: "POST", body: "{}" }), 405, /use GET, PUT/],
      [await api("nowhere"), 404, /no admin route nowhere/],
      [await api("rules/rollback", { method: "POST", body: { back: 1 } }), 400, /unknown field `back`/],
      [await api("rules/rollback", { method: "POST", body: {} }), 400, /nothing is published/],
      [await api("kill", { method: "PUT", body: { dial: { numbers: [] } } }), 422, /kill/],
      [await api("kill", { method: "PUT", body: { explode: {} } }), 422, /unknown variant/],
      [await api("calls?limit=0"), 400, /limit takes 1 to 1000/],
      [await api("hits?since=yesterday"), 400, /since takes 2026-11-30/],
      [await api("rules/diff?against=live", { method: "POST", body: dialing("4915790000001") }), 404, /no rules published/],
    ];
    for (const [reply, status, said] of cases) {
      assert.equal(reply.status, status, reply.body);
      assert.match(reply.headers.get("content-type"), /^application\/json/);
      assert.match(json(reply).error + JSON.stringify(json(reply).errors ?? ""), said);
    }
    const invalid = json(cases[0][0]);
    assert.equal(invalid.errors[0].path, `numbers.${TARGET}[0].then.dial.numbers`);
    assert.deepEqual(kvDump(store.dir), {}, "a refused request wrote");
  });

  test("publish, read back, conflict, check, diff, rollback — and every write is one admin line", async () => {
    const first = await api("rules", { method: "PUT", body: dialing("4915790000001"), headers: { "if-match": '"0"', "x-rules-source": "first.json" } });
    assert.equal(first.status, 200, first.body);
    assert.deepEqual([json(first).version, json(first).numbers, json(first).shards], [1, 1, 1]);
    assert.match((await push(call("492111234567", TARGET), SATURDAY_10)).body, /4915790000001/);

    const live = await api("rules");
    assert.equal(live.headers.get("etag"), '"1"');
    assert.deepEqual(JSON.parse(live.body), dialing("4915790000001"));
    const before = kvDump(store.dir);
    const conflict = await api("rules", { method: "PUT", body: dialing("4915790000002"), headers: { "if-match": '"0"' } });
    assert.equal(conflict.status, 409);
    assert.deepEqual([json(conflict).expected, json(conflict).live], [0, 1]);
    assert.deepEqual(kvDump(store.dir), before, "a conflicting publish wrote");
    const second = await api("rules", { method: "PUT", body: dialing("4915790000002"), headers: { "if-match": '"1"' } });
    assert.equal(json(second).version, 2, second.body);
    assert.equal(json(second).previous, 1);

    const versions = json(await api("rules/versions"));
    assert.equal(versions.live, 2);
    assert.deepEqual(versions.versions.map((entry) => [entry.version, entry.publishedBy]), [[2, "admin API (token)"], [1, "admin API (token)"]]);
    assert.equal(versions.versions[1].source, "first.json");
    assert.deepEqual(JSON.parse((await api("rules/1")).body), dialing("4915790000001"));
    assert.equal((await api("rules/9")).status, 404);

    const check = json(await api("rules/check", { method: "POST", body: { numbers: { [TARGET]: [{ then: { dail: {} } }] } } }));
    assert.equal(check.complete, false);
    assert.match(check.errors[0].message, /unknown variant `dail`/);
    const { expectations, ...officeCheck } = json(await api("rules/check", { method: "POST", body: example("office") }));
    assert.deepEqual(officeCheck, { errors: [], warnings: [], complete: true });
    assert.deepEqual(expectations.map((outcome) => outcome.passed), Array(13).fill(true));

    const diff = json(await api("rules/diff", { method: "POST", body: dialing("4915790000003") }));
    assert.equal(diff.from, 2);
    assert.deepEqual(diff.changes.find((change) => change.path.endsWith(".then.dial.numbers[0]")), {
      op: "changed", path: `numbers.${TARGET}[0].then.dial.numbers[0]`, before: "4915790000002", after: "4915790000003",
    });
    assert.equal(json(await api("rules/diff?against=1", { method: "POST", body: dialing("4915790000001") })).changes.length, 0);

    const rollback = json(await api("rules/rollback", { method: "POST", body: {} }));
    assert.deepEqual([rollback.from, rollback.to.version], [2, 1]);
    assert.match((await push(call("492111234567", TARGET), SATURDAY_10)).body, /4915790000001/);
    assert.equal((await api("rules/rollback", { method: "POST", body: { to: 9 } })).status, 400);
    assert.equal(json(await api("rules/rollback", { method: "POST", body: { to: 2 } })).to.version, 2);

    const lines = await worker.logLines((line) => line.msg === "admin");
    assert.deepEqual(lines.map((line) => [line.step, line.version, line.by]), [
      ["publish", 1, "admin API (token)"], ["publish", 2, "admin API (token)"], ["rollback", 1, "admin API (token)"], ["rollback", 2, "admin API (token)"],
    ]);
    for (const line of worker.logs.filter((line) => line.includes('"msg":"admin",'))) {
      assert.doesNotMatch(line, /4915790000|numbers/, "an admin line carries the document");
    }
    for (const line of worker.logs) assert.ok(!line.includes(ADMIN_TOKEN), "a log line carries the token");
  });

  test("the kill switch: set, answered by every push, refused when invalid, cleared", async () => {
    const set = await api("kill", { method: "PUT", body: { dial: { numbers: ["4915799999999"] } } });
    assert.equal(set.status, 200, set.body);
    assert.match((await push(call("492111234567", TARGET), SATURDAY_10)).body, /<Dial><Number>4915799999999<\/Number><\/Dial>/);
    assert.deepEqual(json(await api("status")).kill, { dial: { numbers: ["4915799999999"] } });
    const off = await api("kill", { method: "DELETE" });
    assert.equal(json(off).kill, null);
    assert.match((await push(call("492111234567", TARGET), SATURDAY_10)).body, /4915790000002/);
  });

  test("simulate answers the XML the real push gets, byte for byte, at /admin/api/simulate and at /simulate", async () => {
    await api("rules", { method: "PUT", body: example("office") });
    const asked = { from: "492111234567", to: "4921100000", direction: "in", at: "2026-11-28T10:00" };
    const real = (await push(`from=492111234567&to=4921100000&direction=in&callId=sim1`, SATURDAY_10)).body;
    assert.match(real, /<Gather onData="http:\/\/router\.test\/\?menu=after-hours/);
    for (const path of ["/admin/api/simulate", "/simulate"]) {
      const reply = await worker.request(path, { method: "POST", headers: { ...JSON_TYPE, ...bearer() }, body: JSON.stringify(asked) });
      assert.equal(reply.status, 200, reply.body);
      assert.equal(JSON.parse(reply.body).xml, real, path);
    }
  });

  test("expectations: check runs them, a publish refuses a failing one unless forced, and a forced one is logged and recorded", async () => {
    const failing = example("office");
    failing.numbers["4921100000"][2].then.dial.numbers[0] = "4921100009";
    const check = json(await api("rules/check", { method: "POST", body: failing }));
    assert.deepEqual(check.errors, []);
    const failed = check.expectations.filter((outcome) => !outcome.passed);
    assert.deepEqual(failed.map((outcome) => [outcome.path, outcome.name]), [["expectations[0]", "a weekday morning rings the office"]]);
    assert.equal(failed[0].got, "rule business-hours, dial 4921100009 4921100002 4921100003");
    assert.equal(failed[0].trace.matched, "business-hours");
    assert.match(failed[0].trace.xml, /<Number>4921100009<\/Number>/);

    const live = json(await api("status")).liveVersion;
    const refused = await api("rules", { method: "PUT", body: failing });
    assert.equal(refused.status, 422, refused.body);
    assert.match(json(refused).error, /^1 of the document's 13 expectations fail; "a weekday morning rings the office": expected rule business-hours, dial 4921100001/);
    assert.equal(json(refused).expectations.length, 13);
    assert.equal(json(await api("status")).liveVersion, live, "a refused publish changed what is live");
    assert.equal((await api("rules?force=everything", { method: "PUT", body: failing })).status, 400);

    const forced = await api("rules?force=expectations", { method: "PUT", body: failing });
    assert.equal(forced.status, 200, forced.body);
    assert.equal(json(forced).expectationsFailed, 1);
    const [line] = await worker.logLines((entry) => entry.msg === "admin" && entry.step === "publish_forced");
    assert.equal(line?.version, json(forced).version, "the forced publish is not logged as one");
    const versions = json(await api("rules/versions")).versions;
    assert.equal(versions.find((entry) => entry.version === json(forced).version).expectationsFailed, 1);
    assert.match((await push(call("492111234567", "4921100000"), berlin("2026-12-07T10:00"))).body, /<Number>4921100009<\/Number>/);
    const restored = await api("rules", { method: "PUT", body: example("office") });
    assert.equal(restored.status, 200, restored.body);
    assert.equal(json(restored).expectationsFailed, undefined);
  });

  test("schedule charts a number's week slice by slice, each slice the XML a real push in it gets", async () => {
    await api("rules", { method: "PUT", body: example("office") });
    const reply = await api("schedule", { method: "POST", body: { from: "492111234567", to: "4921100000", since: "2026-11-23", days: 7 } });
    assert.equal(reply.status, 200, reply.body);
    const chart = json(reply);
    assert.equal(chart.timezone, "Europe/Berlin");
    assert.deepEqual([chart.since, chart.until], ["2026-11-23T00:00:00", "2026-11-30T00:00:00"]);
    const tuesday = chart.slices.filter((slice) => slice.start.startsWith("2026-11-24"));
    assert.deepEqual(
      tuesday.map((slice) => [slice.start.slice(11, 16), slice.end.slice(11, 16), slice.rule, slice.answer]),
      [["08:00", "12:00", "business-hours", "dial"], ["12:00", "13:00", "lunch-break", "gather"], ["13:00", "17:00", "business-hours", "dial"], ["17:00", "08:00", "after-hours", "gather"]],
    );
    // Every slice's XML is what a push at its first instant gets.
    for (const slice of chart.slices) {
      const real = await push(`from=492111234567&to=4921100000&direction=in&callId=s${slice.startUtc}`, Date.parse(slice.startUtc));
      assert.equal(slice.xml, real.body, slice.start);
    }
    assert.equal(json(await api("schedule", { method: "POST", body: { from: "1", to: "4921100000", days: 40 } })).error, "days takes 1 to 31, not 40");
    assert.match(json(await api("schedule", { method: "POST", body: { to: "4921100000" } })).error, /from/);
    assert.equal((await api("schedule")).status, 405);
  });

  test("calls, one call and hits come from the journal", async () => {
    const now = SATURDAY_10;
    await push(`from=492111234567&to=4921100000&direction=in&callId=J1`, now);
    let calls;
    for (let tries = 0; tries < 40; tries++) {
      calls = json(await api("calls?since=2026-11-28&until=2026-11-29"));
      if (calls.calls.some((entry) => entry.callId === "J1")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(calls.calls.some((entry) => entry.callId === "J1"), JSON.stringify(calls));
    const one = json(await api("calls/J1"));
    assert.equal(one.legs[0].pushes[0].rule, "after-hours");
    const hits = json(await api("hits?since=2026-11-28&until=2026-11-29"));
    assert.ok(hits.hits.find((hit) => hit.rule === "after-hours").hits >= 1, JSON.stringify(hits));
    assert.equal(hits.hits.find((hit) => hit.rule === "business-hours").neverMatched, true);

    // The CLI's journal commands through the same routes (--url).
    const cli = (...args) => runCli([...args, "--url", worker.url.toString()], { env: { SIPGATE_ROUTER_TOKEN: ADMIN_TOKEN } });
    const listed = cli("calls", "--since", "2026-11-28", "--until", "2026-11-29", "--json");
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).some((entry) => entry.callId === "J1"));
    assert.match(cli("calls", "--since", "2026-11-28", "--until", "2026-11-29").stdout, /J1 .* after-hours/);
    const timeline = cli("call", "J1");
    assert.equal(timeline.status, 0, timeline.stderr);
    assert.match(timeline.stdout, /leg J1/);
    assert.equal(cli("call", "nobody").status, 1);
    assert.match(cli("hits", "--since", "2026-11-28", "--until", "2026-11-29").stdout, /after-hours\s+[1-9]/);
  });
});

describe("the admin API and the CLI write the same KV contents", () => {
  let byApi;
  let byCli;
  let worker;
  before(async () => {
    byApi = localStore();
    byCli = localStore();
    worker = await startWorker({ store: byApi, listen: true });
  });
  after(async () => {
    await worker.dispose();
    byApi.dispose();
    byCli.dispose();
  });

  test("one document published each way", async () => {
    const document = JSON.stringify(example("office"), null, 2);
    const file = join(byCli.dir, "office.json");
    writeFileSync(file, document);
    assert.equal(byCli.cli("publish", file).status, 0);
    const reply = await worker.request("/admin/api/rules", {
      method: "PUT",
      headers: { ...JSON_TYPE, ...bearer(), "x-rules-source": "office.json" },
      body: document,
    });
    assert.equal(reply.status, 200, reply.body);
    const normalise = (dump) => {
      const index = JSON.parse(dump["rules:index"]);
      for (const entry of index.versions) {
        entry.publishedAt = "(time)";
        entry.publishedBy = "(who)";
      }
      return { ...dump, "rules:index": index };
    };
    const api = normalise(kvDump(byApi.dir));
    const cli = normalise(kvDump(byCli.dir));
    assert.deepEqual(Object.keys(api), ["rules:index", "rules:live", "rules:v1:s0", "rules:v1:source:0"]);
    assert.deepEqual(api, cli);
  });

  test("the CLI's --url runs every store command through the running worker", () => {
    const env = { SIPGATE_ROUTER_TOKEN: ADMIN_TOKEN };
    const url = worker.url.toString();
    const cli = (...args) => runCli([...args, "--url", url], { env });
    const file = join(byApi.dir, "dial.json");
    writeFileSync(file, JSON.stringify(dialing("4915790000001")));
    const published = cli("publish", file, "--if-match", "1", "--json");
    assert.equal(published.status, 0, published.stderr);
    assert.equal(JSON.parse(published.stdout).version, 2);
    const conflict = cli("publish", file, "--if-match", "1");
    assert.equal(conflict.status, 1);
    assert.match(conflict.stderr, /version 2 is live, not 1/);
    assert.match(cli("status").stdout, /live: version 2 .* by admin API \(token\) from dial\.json/);
    assert.match(cli("versions").stdout, /^live\s+2 /m);
    assert.equal(cli("diff", "1", "live").status, 1);
    assert.equal(cli("diff", "live", file).status, 0);
    assert.equal(cli("kill", "--dial", "4915790000008", "4915790000009").status, 0);
    assert.deepEqual(JSON.parse(cli("status", "--json").stdout).kill, { dial: { numbers: ["4915790000008", "4915790000009"] } });
    assert.equal(cli("kill", "--off").status, 0);
    assert.match(cli("rollback").stdout, /from version 2 to version 1/);
    const wrong = runCli(["status", "--url", url], { env: { SIPGATE_ROUTER_TOKEN: "wrong-token-0123456789abcdef-0123456789" } });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /answered 404: the token is wrong/);
    const missing = runCli(["status", "--url", url], { env: { SIPGATE_ROUTER_TOKEN: "" } });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /SIPGATE_ROUTER_TOKEN is not set/);
    const down = runCli(["status", "--url", "http://127.0.0.1:9"], { env });
    assert.equal(down.status, 3, down.stderr);
  });
});

describe("Cloudflare Access sign-in", () => {
  const team = accessTeam();
  const { jwt, claims } = team;
  const now = () => Math.floor(Date.now() / 1000);
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  let store;
  let worker;
  let certRequests = 0;
  before(async () => {
    store = localStore();
    worker = await startWorker({
      store,
      // No ADMIN_TOKEN: Access alone opens the admin API.
      vars: { ADMIN_TOKEN: "", ...team.vars },
      outbound: (request) => {
        if (request.url !== team.certsUrl) return new Response("unexpected fetch", { status: 500 });
        certRequests++;
        return new Response(JSON.stringify(team.jwks), { headers: { "content-type": "application/json" } });
      },
    });
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });
  const status = (assertion) =>
    worker.request("/admin/api/status", { headers: assertion === undefined ? {} : { "cf-access-jwt-assertion": assertion } });

  test("a valid token is admitted, and its e-mail is who published", async () => {
    const reply = await status(jwt(claims()));
    assert.equal(reply.status, 200, reply.body);
    assert.equal(JSON.parse(reply.body).rulesPublished, false);
    const published = await worker.request("/admin/api/rules", {
      method: "PUT",
      headers: { ...JSON_TYPE, "cf-access-jwt-assertion": jwt(claims()) },
      body: JSON.stringify(dialing("4915790000001")),
    });
    assert.equal(published.status, 200, published.body);
    const versions = JSON.parse((await worker.request("/admin/api/rules/versions", { headers: { "cf-access-jwt-assertion": jwt(claims()) } })).body);
    assert.equal(versions.versions[0].publishedBy, "office@example.com");
    assert.equal(certRequests, 1, "the team's keys are fetched once and cached in the isolate");
  });

  test("expired, wrong audience, wrong issuer, wrong key, another algorithm, garbage: 404, each logged with its reason", async () => {
    const cases = [
      [jwt(claims({ exp: now() - 3600 })), /has expired/],
      [jwt(claims({ aud: ["another-application"] })), /another application/],
      [jwt(claims({ iss: "https://other.cloudflareaccess.com" })), /another team/],
      [jwt(claims(), { key: stranger.privateKey }), /signature does not match/],
      [jwt(claims(), { kid: "unknown-key" }), /no key of the team has/],
      [jwt(claims(), { alg: "HS256" }), /not RS256/],
      ["not.a.token", /malformed/],
    ];
    for (const [assertion, reason] of cases) {
      const reply = await status(assertion);
      assert.equal(reply.status, 404, `${reason}: ${reply.body}`);
      assert.equal(reply.body, "not found\n");
      const denied = await worker.logLines((line) => line.msg === "access_denied" && reason.test(line.error));
      assert.equal(denied.length, 1, `no access_denied line for ${reason}`);
    }
    assert.equal((await status()).status, 404, "no token at all");
    assert.equal((await worker.request("/admin/api/status", { headers: bearer() })).status, 404, "no ADMIN_TOKEN configured: a bearer opens nothing");
    for (const line of worker.logs) assert.ok(!line.includes("eyJ"), "a log line carries a token");
  });
});

describe("a table of 100,000 numbers through the admin API", () => {
  /** Like the benchmark's table: four rules per number, times and a menu (46 MiB). */
  function table(numbers, changed = -1) {
    const rules = {};
    for (let n = 0; n < numbers; n++) {
      rules[`4921${String(n).padStart(7, "0")}`] = [
        { id: `holidays-${n}`, when: { time: { dates: ["@holidays", "2026-12-24..2026-12-31"] } }, then: { menu: "after-hours" } },
        { id: `lunch-${n}`, when: { time: { weekdays: "mon-fri", hours: "12:00-13:00" } }, then: { voicemail: {} } },
        {
          id: `office-${n}`,
          when: { time: { weekdays: "mon-fri", hours: ["08:00-12:00", "13:00-17:00"] } },
          then: { dial: { numbers: [n === changed ? "4921100009" : "4921100001", "4921100002", "4921100003"], callerId: "4921100000" } },
        },
        { id: `after-${n}`, then: { menu: "after-hours" } },
      ];
    }
    return JSON.stringify({
      timezone: "Europe/Berlin",
      calendars: { holidays: ["01-01", "12-25", "12-26"] },
      menus: { "after-hours": { prompt: "https://sounds.example.com/a.wav", options: { 1: { voicemail: {} } }, noInput: { voicemail: {} }, invalid: { voicemail: {} } } },
      global: [{ id: "anonymous", when: { caller: "anonymous" }, then: { reject: { reason: "busy" } } }],
      numbers: rules,
      default: [{ id: "default", then: { proceed: {} } }],
    });
  }

  test("publishes in an isolate's memory, then routes, compares and counts hits", async () => {
    const store = localStore();
    store.migrateJournal();
    // A real socket: fetch sends the Content-Length a large body needs.
    const worker = await startWorker({ store, fault: "clock", journal: true, listen: true });
    try {
      const api = async (path, init = {}) => {
        const headers = { ...bearer(), ...(init.body ? JSON_TYPE : {}), ...init.headers };
        const reply = await fetch(new URL(`/admin/api/${path}`, worker.url), { ...init, headers });
        return { status: reply.status, body: await reply.text() };
      };
      const document = table(100_000);
      assert.ok(document.length > 40 * 1024 * 1024, `${document.length} bytes`);

      // Streamed without a length, a large body would be held twice while its buffer grows.
      // Just past 1 MiB is sent, and the rest held back until the answer
      // came: bytes still in flight to a server that answered early and
      // closed would reset the connection, and the answer with it.
      let answered;
      const held = new Promise((resolve) => (answered = resolve));
      let sent = false;
      const streamed = await api("rules", {
        method: "PUT",
        duplex: "half",
        body: new ReadableStream({
          async pull(controller) {
            if (!sent) {
              sent = true;
              controller.enqueue(new TextEncoder().encode(document.slice(0, 1024 * 1024 + 100 * 1024)));
              return;
            }
            await held;
            controller.close();
          },
        }),
      });
      answered();
      assert.equal(streamed.status, 411, streamed.body);
      assert.match(JSON.parse(streamed.body).error, /needs a Content-Length \(curl --data-binary @FILE sends one\)/);
      assert.equal((await worker.kv.list({ prefix: "rules:" })).keys.length, 0);

      const published = await api("rules", { method: "PUT", body: document });
      assert.equal(published.status, 200, published.body.slice(0, 500));
      assert.deepEqual(
        (({ version, numbers, shards }) => ({ version, numbers, shards }))(JSON.parse(published.body)),
        { version: 1, numbers: 100_000, shards: 782 },
      );
      // Every key written: 782 shards, 3 source chunks of 16 MiB, index, pointer.
      const keys = (await worker.kv.list({ prefix: "rules:", limit: 1000 })).keys.map((key) => key.name);
      assert.equal(keys.filter((key) => /^rules:v1:s\d+$/.test(key)).length, 782);
      assert.deepEqual(keys.filter((key) => !/^rules:v1:s\d+$/.test(key)).sort(), ["rules:index", "rules:live", "rules:v1:source:0", "rules:v1:source:1", "rules:v1:source:2"]);
      assert.equal((await api("rules")).body, document);

      const monday10 = berlin("2026-11-30T10:00");
      for (const number of ["49210000000", "49210099999"]) {
        const pushed = await worker.post(call("492111234567", number), { headers: { "x-test-now": String(monday10) } });
        assert.match(pushed.body, /<Dial callerId="4921100000"><Number>4921100001<\/Number>/, number);
      }

      // Two such tables do not fit an isolate together: refused, with the way that works.
      const both = await api("rules/diff", { method: "POST", body: table(100_000, 77_777) });
      assert.equal(both.status, 413, both.body.slice(0, 500));
      assert.match(JSON.parse(both.body).error, /more than the 67108864 a Worker can hold to compare: compare them with the CLI \(`npm run rules -- diff 1 FILE --remote`\)/);
      // A small draft against the table: the first 1,000 changes, and how many there are.
      const small = await api("rules/diff", { method: "POST", body: JSON.stringify(dialing("4915790000001")) });
      assert.equal(small.status, 200, small.body.slice(0, 500));
      const changes = JSON.parse(small.body);
      assert.equal(changes.changes.length, 1000);
      assert.ok(changes.total > 100_000, `${changes.total} changes`);

      const hits = await api(`hits?since=${monday10 - 1000}&until=${monday10 + 1000}`);
      assert.equal(hits.status, 200, hits.body.slice(0, 500));
      const counted = JSON.parse(hits.body);
      assert.equal(counted.hits.length, 400_002);
      assert.equal(counted.hits.find((row) => row.rule === "office-99999").hits, 1);

      // The isolate's wasm memory after each admin request answered (it
      // only grows): under 128 MB with room for the JavaScript side.
      const lines = await worker.logLines((line) => line.msg?.startsWith("admin") && line.memoryMib);
      assert.equal(lines.length, 4, JSON.stringify(lines)); // publish, GET rules, the small diff, hits
      const most = Math.max(...lines.map((line) => line.memoryMib));
      assert.ok(most <= 96, `the wasm grew to ${most} MiB: ${JSON.stringify(lines)}`);
    } finally {
      await worker.dispose();
      store.dispose();
    }
  });
});
