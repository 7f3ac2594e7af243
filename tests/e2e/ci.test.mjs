// The CI example (examples/ci/): the workflow's own `run:` commands, run
// against the built worker on loopback with the script beside them, so the
// example cannot rot. curl and sh only, as on a CI runner.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, example, localStore, root, startWorker } from "./harness.mjs";

const workflow = readFileSync(join(root, "examples", "ci", "rules.yml"), "utf8");
/** The `run:` command of the job `name`. */
const runOf = (name) => {
  const job = workflow.slice(workflow.indexOf(`\n  ${name}:`));
  return /\n\s+run: (.+)\n/.exec(job)[1];
};

describe("the CI example", () => {
  let store;
  let worker;
  let repository;
  before(async () => {
    store = localStore();
    worker = await startWorker({ store, listen: true });
    // A rules repository laid out as the workflow says: ci/rules.sh, rules/office.json.
    repository = join(store.dir, "repository");
    mkdirSync(join(repository, "ci"), { recursive: true });
    mkdirSync(join(repository, "rules"));
    writeFileSync(join(repository, "ci", "rules.sh"), readFileSync(join(root, "examples", "ci", "rules.sh")));
  });
  after(async () => {
    await worker.dispose();
    store.dispose();
  });

  const job = (name, document, env = {}) => {
    writeFileSync(join(repository, "rules", "office.json"), typeof document === "string" ? document : JSON.stringify(document));
    const result = spawnSync("sh", ["-c", runOf(name)], {
      cwd: repository,
      encoding: "utf8",
      env: { PATH: process.env.PATH, ROUTER_URL: worker.url.toString(), SIPGATE_ROUTER_TOKEN: ADMIN_TOKEN, ...env },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  test("the workflow checks on pull requests and publishes on main with the script", () => {
    assert.equal(runOf("check"), "sh ci/rules.sh check rules/office.json");
    assert.equal(runOf("publish"), "sh ci/rules.sh publish rules/office.json");
  });

  test("check: a valid document passes, one with errors fails with their paths, nothing is published", () => {
    const valid = job("check", example("office"));
    assert.equal(valid.status, 0, valid.stderr);
    assert.match(valid.stderr, /is valid/);
    const invalid = job("check", { numbers: { 4921100000: [{ then: { dial: { numbers: [] } } }] } });
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout, /"path": "numbers\.4921100000\[0\]\.then\.dial\.numbers"/);
    assert.match(store.cli("status").stdout, /NO RULES PUBLISHED/);
  });

  test("publish: the document goes live; a document with errors or a stale EXPECTED_VERSION is refused", async () => {
    const published = job("publish", example("office"));
    assert.equal(published.status, 0, published.stderr);
    assert.equal(JSON.parse(published.stdout).version, 1);
    const push = await worker.post("from=492111234567&to=4921100000&direction=in");
    assert.equal(push.status, 200);
    assert.match(store.cli("status").stdout, /live: version 1 .* from office\.json/);
    const invalid = job("publish", { numbers: { 4921100000: [{ then: { dial: { numbers: [] } } }] } });
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /not published: the worker answered 422/);
    const stale = job("publish", example("office"), { EXPECTED_VERSION: "0" });
    assert.equal(stale.status, 1);
    assert.match(stale.stdout, /version 1 is live, not 0/);
    const wrongToken = job("publish", example("office"), { SIPGATE_ROUTER_TOKEN: "wrong-token-0123456789abcdef-0123456789" });
    assert.equal(wrongToken.status, 1);
    const unreachable = job("publish", example("office"), { ROUTER_URL: "http://127.0.0.1:9" });
    assert.equal(unreachable.status, 3);
    assert.match(unreachable.stderr, /did not answer/);
    assert.match(store.cli("versions").stdout, /^live\s+1 /m);
  });
});
