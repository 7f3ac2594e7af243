// `npm run setup` against an account played by tests/fixtures/fake-wrangler.mjs
// (a real account is what this machine does not have; `wrangler deploy
// --dry-run` with the real wrangler runs in npm test's build step): the
// login checked first, secrets made only when the worker lacks them — the
// basic-auth pair always whole — uploaded with the one deploy from an
// owner-only file that is gone afterwards, the journal migrated, what was
// made kept in an owner-only env file and printed nowhere; run again,
// nothing new.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { root } from "./harness.mjs";

describe("npm run setup", () => {
  let dir;
  let stateFile;
  let envFile;
  const account = (state) => writeFileSync(stateFile, JSON.stringify({ loggedIn: true, workerExists: false, secrets: [], calls: [], ...state }));
  const calls = () => JSON.parse(readFileSync(stateFile, "utf8")).calls;
  const setup = (...args) =>
    spawnSync(process.execPath, [join(root, "scripts", "setup.mjs"), ...args], {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        SIPGATE_ROUTER_WRANGLER: join(root, "tests", "fixtures", "fake-wrangler.mjs"),
        SIPGATE_ROUTER_DEPLOY_ENV: envFile,
        FAKE_WRANGLER_STATE: stateFile,
      },
    });
  const kept = () => Object.fromEntries(readFileSync(envFile, "utf8").split("\n").filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split(/=(.*)/s).slice(0, 2)));
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sipgate-router-setup-"));
    stateFile = join(dir, "account.json");
    envFile = join(dir, ".deploy.env");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("--help prints and does nothing; an unknown flag is a usage error", () => {
    account({});
    const help = setup("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--dry-run/);
    assert.match(help.stdout, /--no-basic-auth/);
    const wrong = setup("--yes");
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /Unknown option '--yes'/);
    assert.deepEqual(calls(), []);
  });

  test("not logged in: it says how to log in, and does nothing else", () => {
    account({ loggedIn: false });
    const result = setup();
    assert.equal(result.status, 1);
    assert.match(result.stderr, /wrangler is not logged in to Cloudflare: run `npx wrangler login`/);
    assert.deepEqual(calls().map((call) => call.args.join(" ")), ["whoami --json"]);
    assert.equal(existsSync(envFile), false);
  });

  test("the first run: secrets made, one deploy carrying them, the journal migrated, the URL for sipgate kept, no secret printed", () => {
    account({});
    const result = setup();
    assert.equal(result.status, 0, result.stderr);
    const made = calls();
    assert.deepEqual(
      made.map((call) => call.args.filter((arg) => !arg.startsWith("/")).join(" ")),
      ["whoami --json", "secret list --format json", "deploy --secrets-file", "d1 migrations apply JOURNAL --remote"],
    );
    const { content, mode, path } = made[2].secretsFile;
    assert.deepEqual(Object.keys(content).sort(), ["ADMIN_TOKEN", "BASIC_AUTH_PASSWORD", "BASIC_AUTH_USER"]);
    assert.match(content.ADMIN_TOKEN, /^[0-9a-f]{64}$/);
    assert.match(content.BASIC_AUTH_PASSWORD, /^[0-9a-f]{48}$/);
    assert.equal(content.BASIC_AUTH_USER, "sipgate");
    assert.equal(mode, 0o600, "the secrets file was readable by others");
    assert.equal(existsSync(path), false, "the secrets file outlived the deploy");
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    const values = kept();
    assert.equal(values.ADMIN_TOKEN, content.ADMIN_TOKEN);
    assert.equal(values.SIPGATE_ROUTER_TOKEN, content.ADMIN_TOKEN);
    assert.equal(values.ROUTER_URL, "https://sipgate-router.office.workers.dev");
    assert.equal(values.SIPGATE_WEBHOOK_URL, `https://sipgate:${content.BASIC_AUTH_PASSWORD}@sipgate-router.office.workers.dev/`);
    for (const secret of [content.ADMIN_TOKEN, content.BASIC_AUTH_PASSWORD]) {
      assert.equal((result.stdout + result.stderr).includes(secret), false, "a secret was printed");
    }
    assert.match(result.stdout, /✓ deployed: https:\/\/sipgate-router\.office\.workers\.dev/);
    assert.match(result.stdout, /enter https:\/\/sipgate:••••••@sipgate-router\.office\.workers\.dev\/\n.*SIPGATE_WEBHOOK_URL in \.deploy\.env/);
    assert.match(result.stdout, /npm run rules -- publish my-rules\.json --remote/);
  });

  test("run again: nothing new is made or uploaded, and what was kept stays", () => {
    const before = readFileSync(envFile, "utf8");
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    account({ workerExists: true, secrets: state.secrets });
    const result = setup();
    assert.equal(result.status, 0, result.stderr);
    const deploy = calls().find((call) => call.args[0] === "deploy");
    assert.deepEqual(deploy.args, ["deploy"]);
    assert.match(result.stdout, /ADMIN_TOKEN +kept \(the worker has it\)/);
    assert.equal(readFileSync(envFile, "utf8"), before);
  });

  test("a worker with half a basic-auth pair gets the whole pair again", () => {
    account({ workerExists: true, secrets: ["ADMIN_TOKEN", "BASIC_AUTH_PASSWORD"] });
    rmSync(envFile, { force: true });
    const result = setup();
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /the worker has BASIC_AUTH_PASSWORD without the other half \(every push refused\): both are set again/);
    const deploy = calls().find((call) => call.args[0] === "deploy");
    assert.deepEqual(Object.keys(deploy.secretsFile.content).sort(), ["BASIC_AUTH_PASSWORD", "BASIC_AUTH_USER"]);
    const refused = (account({ workerExists: true, secrets: ["BASIC_AUTH_USER"] }), setup("--no-basic-auth"));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /has BASIC_AUTH_USER without the other half, so it refuses every push/);
    assert.equal(calls().some((call) => call.args[0] === "deploy"), false);
  });

  test("--dry-run needs no account: only wrangler deploy --dry-run", () => {
    account({ loggedIn: false });
    const result = setup("--dry-run");
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(calls().map((call) => call.args.join(" ")), ["deploy --dry-run"]);
    assert.match(result.stdout, /would run: npx wrangler d1 migrations apply JOURNAL --remote/);
    assert.match(result.stdout, /ADMIN_TOKEN +would be made/);
    assert.match(result.stdout, /✓ dry run: the configuration deploys; nothing was changed in any account/);
  });
});
