// `sipgate-rules doctor --url`: against the built worker in workerd,
// configured as a deployment should be — every check green — and then with
// one setting broken at a time: each is red (or a warning) with its fix, and
// the exit code says so.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, example, localStore, runCli, signer, startWorker } from "./harness.mjs";

/** Every setting a deployment should have, as bindings (the test's own signing key). */
const DEPLOYED = {
  SIGNATURE_CHECK: "on",
  SIPGATE_PUBLIC_KEY: signer().pem,
  BASIC_AUTH_USER: "sipgate",
  BASIC_AUTH_PASSWORD: "a-password-of-the-test-0123456789",
  PUBLIC_URL: "https://router.example.com/",
};

/** Runs doctor against `worker` (with `token`), returns {status, stdout, lines: {name: [mark, detail, fix]}}. */
function doctor(worker, { token = ADMIN_TOKEN } = {}) {
  const result = runCli(["doctor", "--url", worker.url.toString()], { env: { SIPGATE_ROUTER_TOKEN: token } });
  const json = runCli(["doctor", "--url", worker.url.toString(), "--json"], { env: { SIPGATE_ROUTER_TOKEN: token } });
  const report = JSON.parse(json.stdout || "{}");
  return { ...result, report, verdict: (name) => report.checks?.filter((check) => check.name === name) ?? [] };
}

describe("doctor --url", () => {
  let published;
  let unmigrated;
  let empty;
  const workers = [];
  const start = async (store, vars, options = {}) => {
    // A setting given as undefined is one the deployment does not have.
    const settings = Object.fromEntries(Object.entries({ ...DEPLOYED, ...vars }).filter(([, value]) => value !== undefined));
    const worker = await startWorker({ store, listen: true, journal: options.journal ?? true, vars: settings });
    workers.push(worker);
    return worker;
  };
  before(() => {
    published = localStore();
    published.publish(example("office"));
    published.migrateJournal();
    unmigrated = localStore();
    unmigrated.publish(example("office"));
    empty = localStore();
    empty.migrateJournal();
  });
  after(async () => {
    for (const worker of workers) await worker.dispose();
    for (const store of [published, unmigrated, empty]) store?.dispose();
  });

  test("a worker set up as docs/deploy.md says: every check passes, one line each", async () => {
    const worker = await start(published, {});
    const result = doctor(worker);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^✓ admin API +http:\/\/127\.0\.0\.1:\d+ answers \(signed in with \$SIPGATE_ROUTER_TOKEN\)$/m);
    for (const name of ["configuration", "signature check", "basic auth", "public URL", "rules", "kill switch", "journal", "webhook", "routing"]) {
      assert.match(result.stdout, new RegExp(`^✓ ${name} `, "m"), `${name}:\n${result.stdout}`);
    }
    assert.match(result.stdout, /✓ rules +version 1: 1 number, no errors, 13 expectations hold/);
    assert.match(result.stdout, /✓ routing +a call to 4921100000 now: rule [\w-]+, \w+ \(version 1\)/);
    assert.match(result.stdout, /^all checks passed$/m);
    // The --json run is a second run: when it alone finds something, say what.
    const notOk = (result.report.checks ?? []).filter((check) => check.verdict !== "ok");
    assert.equal(result.report.ok, true, `the --json run: ${JSON.stringify(notOk)}`);
    assert.doesNotMatch(result.stdout + JSON.stringify(result.report), /a-password-of-the-test|BEGIN PUBLIC KEY/, "doctor shows no secret");
  });

  test("each broken setting is red with its fix, and doctor exits 1", async () => {
    const cases = [
      {
        broken: "a password without its user",
        worker: () => start(published, { BASIC_AUTH_USER: undefined }),
        name: "configuration",
        detail: /BASIC_AUTH_PASSWORD is set but BASIC_AUTH_USER is not: every push is refused \(403\)/,
        fix: /correct the setting/,
      },
      {
        broken: "the signature check off",
        worker: () => start(published, { SIGNATURE_CHECK: "off" }),
        name: "signature check",
        detail: /SIGNATURE_CHECK is off/,
        fix: /SIGNATURE_CHECK = "on"/,
      },
      {
        broken: "the journal's migrations not applied",
        worker: () => start(unmigrated, {}),
        name: "journal",
        detail: /its table does not exist/,
        fix: /npx wrangler d1 migrations apply JOURNAL --remote/,
      },
      {
        broken: "no rules published",
        worker: () => start(empty, {}),
        name: "rules",
        detail: /no rules published: every call proceeds unrouted/,
        fix: /npm run rules -- publish/,
      },
      {
        broken: "an unprotected webhook",
        worker: () => start(published, { SIGNATURE_CHECK: "off", BASIC_AUTH_USER: undefined, BASIC_AUTH_PASSWORD: undefined }),
        name: "webhook",
        detail: /answered a push not signed by sipgate, without credentials/,
        fix: /docs\/deploy\.md/,
        verdict: "warn",
      },
    ];
    for (const { broken, worker, name, detail, fix, verdict = "fail" } of cases) {
      const result = doctor(await worker());
      assert.equal(result.status, 1, `${broken}: exit ${result.status}\n${result.stdout}`);
      const [found] = result.verdict(name);
      assert.ok(found, `${broken}: no ${name} check\n${result.stdout}`);
      assert.equal(found.verdict, verdict, `${broken}: ${JSON.stringify(found)}`);
      assert.match(found.detail, detail, broken);
      assert.match(found.fix ?? "", fix, broken);
      assert.match(result.stdout, new RegExp(`^${verdict === "fail" ? "✗" : "⚠"} ${name} `, "m"), broken);
      assert.match(result.stdout, /^\s+fix: /m, broken);
      assert.match(result.stdout, /\d+ checks? failed$/m, broken);
    }
  });

  test("warnings alone exit 0: the kill switch set, no journal, no basic auth, no PUBLIC_URL", async () => {
    const killed = localStore();
    try {
      killed.publish(example("office"));
      assert.equal(killed.cli("kill", "--voicemail").status, 0);
      const worker = await start(killed, { BASIC_AUTH_USER: undefined, BASIC_AUTH_PASSWORD: undefined, PUBLIC_URL: undefined }, { journal: false });
      const result = doctor(worker);
      assert.equal(result.status, 0, result.stdout);
      for (const name of ["kill switch", "journal", "basic auth", "public URL"]) {
        assert.equal(result.verdict(name)[0]?.verdict, "warn", `${name}:\n${result.stdout}`);
      }
      assert.match(result.stdout, /⚠ kill switch +SET: every call gets \{"voicemail":\{\}\}/);
      assert.match(result.stdout, /fix: npm run rules -- kill --off --url URL/);
      assert.match(result.stdout, /^no failures, 4 warnings$/m);
    } finally {
      killed.dispose();
    }
  });

  test("a wrong token, a worker without one, and no worker at all", async () => {
    const worker = await start(published, {});
    const wrong = doctor(worker, { token: "wrong-token-0123456789abcdef-0123456789" });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stdout, /✗ admin API +http:\/\/127\.0\.0\.1:\d+ answers 404 to the admin token/);
    assert.match(wrong.stdout, /fix: put the worker's ADMIN_TOKEN in \$SIPGATE_ROUTER_TOKEN; .*npx wrangler secret put ADMIN_TOKEN/);
    const short = await start(published, { ADMIN_TOKEN: "short" });
    assert.equal(doctor(short, { token: "short" }).status, 1);
    const down = runCli(["doctor", "--url", "http://127.0.0.1:9"], { env: { SIPGATE_ROUTER_TOKEN: ADMIN_TOKEN } });
    assert.equal(down.status, 3, down.stderr);
    assert.match(down.stderr, /did not answer/);
    const usage = runCli(["doctor", "--url"], {});
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /a value is required for '--url <URL>'/);
  });

  test("without --url, through wrangler: the configuration file, the journal's migrations, the rules in the store", () => {
    const run = (store, ...args) => runCli(["doctor", "--persist-to", store.dir, ...args]);
    const good = run(published);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^✓ wrangler\.toml +bindings ROUTES and JOURNAL$/m);
    assert.match(good.stdout, /^✓ journal +every migration applied$/m);
    assert.match(good.stdout, /^✓ rules +version 1: 1 number, no errors, 13 expectations hold$/m);
    assert.match(good.stdout, /doctor --url URL\)$/m);
    const notMigrated = run(unmigrated);
    assert.equal(notMigrated.status, 1);
    assert.match(notMigrated.stdout, /^✗ journal +migrations not applied: the journal's writes fail\n +fix: npx wrangler d1 migrations apply JOURNAL --local$/m);
    const nothing = run(empty);
    assert.equal(nothing.status, 1);
    assert.match(nothing.stdout, /^✗ rules +no rules published: every call proceeds unrouted$/m);
    // --remote with no Cloudflare login (a home of its own, no token): the login first, and nothing else.
    const home = mkdtempSync(join(tmpdir(), "sipgate-router-no-login-"));
    const remote = runCli(["doctor", "--remote", "--json"], { env: { HOME: home, XDG_CONFIG_HOME: home, CLOUDFLARE_API_TOKEN: "" } });
    rmSync(home, { recursive: true, force: true });
    assert.equal(remote.status, 1, remote.stderr);
    const checks = JSON.parse(remote.stdout).checks;
    assert.deepEqual(checks.map((check) => [check.name, check.verdict]).at(-1), ["login", "fail"]);
    assert.equal(checks.at(-1).fix, "npx wrangler login");
  });
});
