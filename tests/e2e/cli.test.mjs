// The CLI as a user types it: `--help` never acts, a typo is refused with
// exit 2 before anything is written, every command speaks JSON with
// --json, and it works from any directory of the project. Each case runs
// the real binary against a local store (through wrangler) that holds two
// published versions, so an act would show in it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { example, localStore, root, runCli, startWorker } from "./harness.mjs";

const TARGET = "4921177777";
const dialing = (number) => ({ numbers: { [TARGET]: [{ id: `dial-${number}`, then: { dial: { numbers: [number] } } }] } });

/** Every file under `dir` (path and bytes), hashed: any write shows. */
function fingerprint(dir) {
  const hash = createHash("sha256");
  const walk = (at) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update("\0").update(readFileSync(path)).update("\0");
    }
  };
  walk(dir);
  return hash.digest("hex");
}

describe("sipgate-rules", () => {
  let store;
  let file;
  before(() => {
    store = localStore();
    store.publish(dialing("4915790000001"));
    store.publish(dialing("4915790000002"));
    store.migrateJournal();
    file = join(store.dir, "office.json");
    writeFileSync(file, JSON.stringify(example("office")));
  });
  after(() => store.dispose());

  test("--help on every command prints its usage and changes nothing", () => {
    const before = fingerprint(store.dir);
    const asks = [
      ["--help"],
      ["check", file, "--help"],
      ["simulate", file, "--from", "1", "--help"],
      ["publish", file, "--help"],
      ["status", "--help"],
      ["versions", "--help"],
      ["rollback", "--help"],
      ["rollback", "--to", "1", "--help"],
      ["diff", "1", "2", "--help"],
      ["kill", "--dial", "4915799999999", "--help"],
      ["kill", "--off", "-h"],
      ["calls", "--help"],
      ["call", "X", "--help"],
      ["hits", "--help"],
    ];
    for (const args of asks) {
      const result = runCli([...args, "--persist-to", store.dir]);
      assert.equal(result.status, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, /Usage: sipgate-rules/, args.join(" "));
    }
    assert.match(runCli(["help", "publish"]).stdout, /Usage: sipgate-rules publish/);
    assert.match(runCli(["--version"]).stdout, /^sipgate-rules \d+\.\d+\.\d+/);
    assert.equal(fingerprint(store.dir), before, "a --help wrote to the store");
    assert.match(store.cli("versions").stdout, /^live\s+2 /m);
  });

  test("typos, extra arguments and conflicting choices are refused with exit 2 and change nothing", () => {
    const before = fingerprint(store.dir);
    const mistakes = [
      [["rolback"], /similar subcommand exists: 'rollback'/],
      [["rollback", "--remtoe", "--to", "1"], /unexpected argument '--remtoe'.*\n.*similar argument exists: '--remote'/s],
      [["rollback", "--to", "one"], /invalid value 'one' for '--to <VERSION>'/],
      [["publish", file, file], /unexpected argument/],
      [["kill", "--dial", "4915799999999", "--voicemail"], /cannot be used with/],
      [["kill"], /the following required arguments were not provided/],
      [["kill", "--dial"], /a value is required for '--dial <N>...'/],
      [["diff", "1"], /required arguments were not provided/],
      [["simulate", file, "--from", "1", "--to", "2", "--direction", "sideways"], /invalid value 'sideways'/],
      [["versions", "--remote", "--url", "http://127.0.0.1:9"], /cannot be used with/],
      [["versions", "--token-env", "X"], /cannot be used with/],
      [["publish", file, "--rules-format", "3"], /invalid value '3' for '--rules-format <N>': 3 is not in 1..=2/],
      [["publish", file, "--rules-format", "1", "--url", "http://127.0.0.1:9"], /'--rules-format <N>' cannot be used with '--url <URL>'/],
    ];
    for (const [args, said] of mistakes) {
      const result = runCli(args[0] === "simulate" ? args : [...args, "--persist-to", store.dir]);
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, said, args.join(" "));
      assert.match(result.stderr, /Usage: sipgate-rules|try '--help'/, args.join(" "));
    }
    assert.equal(fingerprint(store.dir), before, "a refused command wrote to the store");
  });

  test("kill --dial takes every number given", () => {
    const set = store.cli("kill", "--dial", "4915790000011", "4915790000012", "4915790000013");
    assert.equal(set.status, 0, set.stderr);
    const status = JSON.parse(store.cli("status", "--json").stdout);
    assert.deepEqual(status.kill, { dial: { numbers: ["4915790000011", "4915790000012", "4915790000013"] } });
    assert.equal(store.cli("kill", "--off").status, 0);
    assert.equal(JSON.parse(store.cli("status", "--json").stdout).kill, null);
  });

  test("--json prints one JSON document on stdout for every command, failures included", () => {
    const runs = [
      [["check", file, "--json"], 0, (json) => assert.deepEqual(json.errors, [])],
      [["simulate", file, "--from", "492111234567", "--to", "4921100000", "--direction", "in", "--at", "2026-11-30T10:00", "--json"], 0, (json) => assert.ok(json.xml)],
      [["publish", file, "--json"], 0, (json) => assert.equal(json.version, 3)],
      [["status", "--json"], 0, (json) => assert.equal(json.liveVersion, 3)],
      [["versions", "--json"], 0, (json) => assert.deepEqual(json.versions.map((entry) => entry.version), [3, 2, 1])],
      [["diff", "2", "3", "--json"], 1, (json) => assert.ok(json.changes.length > 0)],
      [["diff", "3", "live", "--json"], 0, (json) => assert.deepEqual(json.changes, [])],
      [["rollback", "--json"], 0, (json) => assert.deepEqual([json.from, json.to.version], [3, 2])],
      [["kill", "--voicemail", "--json"], 0, (json) => assert.deepEqual(json.kill, { voicemail: {} })],
      [["kill", "--off", "--json"], 0, (json) => assert.equal(json.kill, null)],
      [["calls", "--json", "--since", "2026-11-01", "--until", "2026-12-01"], 0, (json) => assert.deepEqual(json, [])],
      [["call", "nobody", "--json"], 1, (json) => assert.match(json.error, /no pushes recorded for call nobody/)],
      [["hits", "--json", "--since", "2026-11-01", "--until", "2026-12-01"], 0, (json) => assert.ok(Array.isArray(json))],
      [["rollback", "--to", "9", "--json"], 1, (json) => assert.match(json.error, /version 9 is not among the kept versions/)],
    ];
    for (const [args, status, check] of runs) {
      const result = store.cli(...args);
      assert.equal(result.status, status, `${args.join(" ")}: ${result.stderr}`);
      let json;
      assert.doesNotThrow(() => (json = JSON.parse(result.stdout)), `${args.join(" ")} printed no JSON: ${result.stdout}`);
      check(json);
    }
    const invalid = join(store.dir, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ numbers: { [TARGET]: [{ then: { dial: { numbers: [] } } }] } }));
    const refused = store.cli("publish", invalid, "--json");
    assert.equal(refused.status, 1);
    const json = JSON.parse(refused.stdout);
    assert.equal(json.exitCode, 1);
    assert.match(json.errors[0].path, /^numbers\.4921177777\[0\]/);
  });

  test("shape errors in several parts of a table are all reported, and say what did not run", () => {
    // 300 numbers make 3 shards; the two misspelt rules are in different ones.
    const numbers = {};
    for (let n = 0; n < 300; n++) numbers[`4921${String(n).padStart(7, "0")}`] = [{ id: `r${n}`, then: { proceed: {} } }];
    numbers["49210000001"] = [{ then: { dail: {} } }];
    numbers["49210000002"] = [{ then: { proceed: {} }, wehn: {} }];
    const shape = join(store.dir, "shape.json");
    writeFileSync(shape, JSON.stringify({ numbers }));
    const text = store.cli("check", shape);
    assert.equal(text.status, 1);
    assert.match(text.stderr, /numbers\.49210000001\[0\]\.then: unknown variant `dail`/);
    assert.match(text.stderr, /numbers\.49210000002\[0\]\.wehn: unknown field `wehn`/);
    assert.match(text.stderr, /stops the reading of the part of the document it is in/);
    const report = JSON.parse(store.cli("check", shape, "--json").stdout);
    assert.equal(report.complete, false);
    assert.equal(report.errors.length, 2);
  });

  test("expectations: check shows a failure with its trace, publish refuses it, --force-expectations publishes it and the index says so", () => {
    const failing = example("office");
    failing.numbers["4921100000"][2].then.dial.numbers[0] = "4921100009";
    const path = join(store.dir, "failing.json");
    writeFileSync(path, JSON.stringify(failing));
    const checked = store.cli("check", path);
    assert.equal(checked.status, 1, checked.stderr);
    assert.match(checked.stdout, /rules ok — 1 number, 8 rules, 2 menus, 0 warnings, 1 of 13 expectations FAIL/);
    assert.match(checked.stderr, /expectation failed: expectations\[0\] "a weekday morning rings the office": expected rule business-hours, dial 4921100001, got rule business-hours, dial 4921100009 4921100002 4921100003/);
    assert.match(checked.stderr, /\n {4}at mon 2026-12-07T10:00:00 Europe\/Berlin/);
    assert.match(checked.stderr, /✓ business-hours \[numbers\.4921100000\] matched/);
    assert.match(store.cli("check", file).stdout, /ok — .*, 13 expectations pass$/m);

    const before = fingerprint(store.dir);
    const refused = store.cli("publish", path);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /expectations\[0\]: "a weekday morning rings the office" expected rule business-hours, dial 4921100001/);
    assert.match(refused.stderr, /--force-expectations publishes it anyway/);
    assert.equal(fingerprint(store.dir), before, "a refused publish wrote");

    const liveBefore = JSON.parse(store.cli("status", "--json").stdout).liveVersion;
    const forced = store.cli("publish", path, "--force-expectations");
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /published although 1 of its expectations fail \(--force-expectations; the index records it\)/);
    const versions = JSON.parse(store.cli("versions", "--json").stdout);
    assert.equal(versions.versions[0].expectationsFailed, 1);
    assert.match(store.cli("versions").stdout, /forced past 1 failing expectation/);
    // What was live before, for the tests after this one.
    assert.equal(store.cli("rollback", "--to", String(liveBefore)).status, 0);
  });

  test("works from any directory of the project, and says so outside it", () => {
    const fromExamples = runCli(["status", "--persist-to", relative(join(root, "examples"), store.dir)], { cwd: join(root, "examples") });
    assert.equal(fromExamples.status, 0, fromExamples.stderr);
    assert.match(fromExamples.stdout, /live: version 2/);
    const elsewhere = mkdtempSync(join(tmpdir(), "sipgate-rules-outside-"));
    try {
      const outside = runCli(["status"], { cwd: elsewhere });
      assert.equal(outside.status, 2);
      assert.match(outside.stderr, /is not inside the sipgate-router project .*use --url/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test("publishing while the worker serves pushes from the same store never fails (SQLITE_BUSY)", async () => {
    // As with `npm start` running: workerd reads the store the CLI writes.
    const worker = await startWorker({ store });
    let serving = true;
    const pushes = (async () => {
      let count = 0;
      while (serving) {
        const reply = await worker.post(`from=492111234567&to=${TARGET}&direction=in`);
        assert.equal(reply.status, 200);
        count++;
      }
      return count;
    })();
    try {
      for (let n = 0; n < 5; n++) {
        const file = join(store.dir, `busy-${n}.json`);
        writeFileSync(file, JSON.stringify(dialing(`49157900001${n}0`)));
        // Not spawnSync: the pushes must go on while the CLI writes.
        const published = await new Promise((resolve) => {
          execFile(join(root, "target", "debug", "sipgate-rules"), ["publish", file, "--persist-to", store.dir], { cwd: root }, (error, stdout, stderr) =>
            resolve({ status: error ? error.code : 0, stderr }),
          );
        });
        assert.equal(published.status, 0, published.stderr);
      }
    } finally {
      serving = false;
      assert.ok((await pushes) > 0);
      await worker.dispose();
    }
  });

  test("a --persist-to directory that does not exist is refused by what reads, and made by what writes", () => {
    const missing = join(store.dir, "no-such-store");
    for (const args of [["status"], ["versions"], ["rollback"], ["calls"], ["doctor"], ["diff", "live", "1"]]) {
      const result = runCli([...args, "--persist-to", missing]);
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /--persist-to .*no-such-store: no such directory \(a local store is made by the first `publish --persist-to DIR`\)/);
      assert.equal(existsSync(missing), false, `${args.join(" ")} made the directory`);
    }
    const file = join(store.dir, "new-store.json");
    writeFileSync(file, JSON.stringify(dialing("4915790000900")));
    const published = runCli(["publish", file, "--persist-to", missing, "--json"]);
    assert.equal(published.status, 0, published.stderr);
    assert.equal(JSON.parse(published.stdout).version, 1);
    assert.ok(existsSync(missing));
  });

  test("a store that cannot be reached is exit code 3", () => {
    const result = runCli(["status", "--persist-to", store.dir], { env: { WRANGLER: join(store.dir, "no-such-wrangler") } });
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, /the store cannot be reached: cannot run/);
  });
});
