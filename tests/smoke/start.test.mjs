// Smoke test of `npm start`: start the worker exactly the way `npm start`
// does (scripts/start.mjs: publish the office example, `wrangler dev`), POST
// the seed's curl request, then publish a route for that number with the
// command the README gives and see the next answer change — no restart.
// Uses its own port and its own local store, so a developer's running
// `npm start` is untouched.
import assert from "node:assert/strict";
import { execSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort } from "../../scripts/tools.mjs";
import { root } from "../e2e/harness.mjs";

const SEED = "from=492111234567&to=4915791234567&direction=in";
const STARTUP_MS = 180_000;

/**
 * `curl -X POST --data "$body" $url`: form-encoded, and like curl on a new
 * connection each time (a pooled one may be closed by the server's
 * keep-alive timeout while the test publishes).
 */
function curlPost(url, body) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) },
    });
    request.on("error", reject);
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("error", reject);
      response.on("end", () => resolve({ status: response.statusCode, type: response.headers["content-type"], body: text }));
    });
    request.end(body);
  });
}

let server;
let url;
let persistDir;
let output = "";

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  persistDir = mkdtempSync(join(tmpdir(), "sipgate-router-smoke-"));
  server = spawn(process.execPath, ["scripts/start.mjs", "--port", String(port), "--persist-to", persistDir], {
    cwd: root,
    detached: true, // its own process group: wrangler and workerd stop with it
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (chunk) => (output += chunk));
  server.stderr.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (server.exitCode !== null) assert.fail(`npm start exited with ${server.exitCode}:\n${output}`);
    try {
      await curlPost(url, SEED);
      return;
    } catch {
      if (Date.now() > deadline) assert.fail(`not serving after ${STARTUP_MS} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
});

after(() => {
  if (server && server.exitCode === null) process.kill(-server.pid, "SIGTERM");
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

/**
 * `npm start` has the call journal on: every answer asks sipgate to send
 * the call's answer and hangup back to the worker itself.
 */
const callbacks = () => `onAnswer="${url}" onHangup="${url}"`;

test("the seed's curl request is answered 200 with an XML Response", async () => {
  const reply = await curlPost(url, SEED);
  assert.equal(reply.status, 200);
  assert.equal(reply.type, "application/xml; charset=utf-8");
  // The office example has no rules for this number; its default proceeds.
  assert.equal(reply.body, `<?xml version="1.0" encoding="UTF-8"?><Response ${callbacks()}/>`);
});

test("the published office example answers", async () => {
  const reply = await curlPost(url, "from=anonymous&to=4921100000&direction=in");
  assert.equal(reply.body, `<?xml version="1.0" encoding="UTF-8"?><Response ${callbacks()}><Reject reason="busy"/></Response>`);
});

test("publishing a route for the number with the README's command changes the answer without a restart", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const command = readme.split("\n").find((line) => line.startsWith("npm run rules -- publish my-rules.json"));
  assert.ok(command, "README.md shows how to publish my-rules.json");
  // What the README tells the user to do to my-rules.json: the office
  // example plus rules for 4915791234567.
  const document = JSON.parse(readFileSync(join(root, "examples", "office.json"), "utf8"));
  const snippet = readme.match(/```json\n(\{\s*"4915791234567"[\s\S]*?)```/);
  assert.ok(snippet, "README.md shows the rules to add for 4915791234567");
  Object.assign(document.numbers, JSON.parse(snippet[1]));
  const file = join(persistDir, "my-rules.json");
  writeFileSync(file, JSON.stringify(document));
  execSync(`${command.replace("my-rules.json", `'${file}'`)} --persist-to '${persistDir}'`, {
    cwd: root,
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const reply = await curlPost(url, SEED);
  assert.equal(reply.status, 200);
  const dial = reply.body.replace(` ${callbacks()}`, "");
  assert.match(dial, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Dial>(<Number>\d+<\/Number>)+<\/Dial><\/Response>$/);
});

test("every curl and the check the README shows run as written (on this test's port)", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const curls = readme.split("\n").filter((line) => line.startsWith("curl -X POST --data "));
  assert.ok(curls.length >= 2, "README.md shows its curl requests");
  for (const line of curls) {
    const [, body, target] = /^curl -X POST --data "([^"]+)" (http:\/\/127\.0\.0\.1:8787\S*)$/.exec(line) ?? [];
    assert.ok(body, `not a curl this test can run: ${line}`);
    const reply = await curlPost(target.replace("http://127.0.0.1:8787/", url).replace("http://127.0.0.1:8787", url.slice(0, -1)), body);
    assert.equal(reply.status, 200, line);
    assert.match(reply.body, /^<\?xml version="1.0" encoding="UTF-8"\?><Response/, line);
    // The office number at any hour: business hours ring the phones, otherwise the menu.
    if (body.includes("to=4921100000")) assert.match(reply.body, /<Dial callerId="4921100000">|<Gather onData=/, line);
  }
  const check = readme.split("\n").map((line) => /`(npm run rules -- check my-rules\.json)`/.exec(line)?.[1]).find(Boolean);
  assert.ok(check, "README.md shows how to check my-rules.json");
  const file = join(persistDir, "my-rules.json");
  const checked = spawnSync("sh", ["-c", check.replace("my-rules.json", `'${file}'`)], { cwd: root, encoding: "utf8" });
  assert.equal(checked.status, 0, checked.stderr);
  assert.match(checked.stdout, /my-rules\.json: ok/);
});

test("npm start records calls in its local journal, and the README's `call` command shows them", async () => {
  await curlPost(url, `${SEED}&callId=smoke-1`);
  await curlPost(url, `event=hangup&cause=normalClearing&callId=smoke-1&from=492111234567&to=4915791234567&direction=in`);
  // The journal is written after the answer: poll briefly.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const shown = spawnSync("npm", ["run", "--silent", "rules", "--", "call", "smoke-1", "--persist-to", persistDir], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    if (shown.status === 0 && /pushes/.test(shown.stdout) && /hangup/.test(shown.stdout)) {
      assert.match(shown.stdout, /^call smoke-1: 1 leg, 2 pushes$/m);
      assert.match(shown.stdout, /newCall +49211\*{5}67 → 4915791234567 \(in\)/);
      return;
    }
    if (Date.now() > deadline) assert.fail(`not in the journal: ${shown.status}\n${shown.stdout}\n${shown.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
});

test("npm start serves the console at /admin/ and prints its local token, which signs in to the admin API", async () => {
  const printed = output.match(/console: (http:\/\/127\.0\.0\.1:\d+\/admin\/)\n\s+its local token \(\.dev\.vars[^)]*\): ([0-9a-f]+)\n/);
  assert.ok(printed, `npm start did not print the console and its token:\n${output}`);
  const [, consoleUrl, token] = printed;
  assert.equal(consoleUrl, `${url}admin/`);
  // The token is the one in .dev.vars (created when missing), which wrangler dev reads.
  assert.match(readFileSync(join(root, ".dev.vars"), "utf8"), new RegExp(`^ADMIN_TOKEN="?${token}"?$`, "m"));
  const page = await fetch(consoleUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>sipgate-router console<\/title>/);
  const status = await fetch(`${url}admin/api/status`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(status.status, 200);
  assert.equal((await status.json()).rulesPublished, true);
  assert.equal((await fetch(`${url}admin/api/status`)).status, 404, "the API answers without the token");
});
