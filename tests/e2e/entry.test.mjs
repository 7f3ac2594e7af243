// The entry module (src/edge/entry.js, the build's index.js): worker-build's
// handlers called as a plain module handler, with worker-build's rebuild of
// a broken wasm instance kept — in workerd over the real build, and its
// logic over a stand-in for worker-build's output.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { localStore, root, startWorker, XML_DECL } from "./harness.mjs";

const TARGET = "4921100000";
const DIALED = `${XML_DECL}<Response><Dial><Number>4915790000001</Number></Dial></Response>`;

describe("the entry module in workerd", () => {
  let store;
  let worker;
  before(async () => {
    store = localStore();
    store.publish({ numbers: { [TARGET]: [{ id: "dial", then: { dial: { numbers: ["4915790000001"] } } }] } });
    worker = await startWorker({ store, fault: "critical" });
  });
  after(async () => {
    await worker?.dispose();
    store.dispose();
  });

  test("the build's index.js is the router's entry", () => {
    assert.equal(readFileSync(join(root, "build", "index.js"), "utf8"), readFileSync(join(root, "src", "edge", "entry.js"), "utf8"));
    assert.match(readFileSync(join(root, "build", "shim.js"), "utf8"), /WorkerEntrypoint/);
  });

  test("a broken wasm instance is rebuilt before the next push, which is answered", async () => {
    const push = (headers = {}) => worker.post(`from=492111234567&to=${TARGET}&direction=in`, { headers });
    const first = await push();
    assert.equal(first.status, 200);
    assert.equal(first.body, DIALED);
    const generation = Number(first.headers.get("x-wasm-instance"));
    assert.ok(generation >= 1, `instance ${generation}`);

    const broken = await push({ "x-test-critical": "1" });
    assert.equal(broken.status, 200);
    assert.equal(broken.body, DIALED);
    // A new instance counts itself as it starts, and worker-build counts the rebuild.
    const rebuilt = Number(broken.headers.get("x-wasm-instance"));
    assert.ok(rebuilt > generation, `instance ${generation} → ${rebuilt}`);
    const deadline = Date.now() + 2000;
    while (!worker.logs.some((line) => line.includes("Reinitializing Wasm application")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(worker.logs.some((line) => line.includes("Reinitializing Wasm application")), worker.logs.join("\n"));

    const next = await push();
    assert.equal(next.body, DIALED);
    assert.equal(Number(next.headers.get("x-wasm-instance")), rebuilt);
  });
});

describe("the entry module's logic", () => {
  const dirs = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /**
   * The entry over a stand-in for worker-build's output: a class whose
   * `fetch` records how it was called (and throws `throws`, if given), and
   * whose construction through worker-build's Proxy is recorded too.
   */
  async function entryOver({ throws, state = "{ criticalError: false, instanceId: 1 }", handlers = true } = {}) {
    const dir = mkdtempSync(join(tmpdir(), "sipgate-router-entry-"));
    dirs.push(dir);
    copyFileSync(join(root, "src", "edge", "entry.js"), join(dir, "index.js"));
    writeFileSync(
      join(dir, "shim.js"),
      `globalThis.__worker_init_state = ${state};
export const calls = [];
class Worker {
  constructor(ctx, env) { calls.push({ constructed: true }); this.ctx = ctx; this.env = env; }
}
${handlers ? `Worker.prototype.fetch = function (request) {
  calls.push({ request, env: this.env, ctx: this.ctx });
  ${throws ? `throw ${throws};` : ""}
  return "answer to " + request;
};
Worker.prototype.scheduled = function (controller) { calls.push({ controller, env: this.env }); return "ran"; };` : ""}
export default Worker;
`,
    );
    const entry = await import(pathToFileURL(join(dir, "index.js")).href);
    const shim = await import(pathToFileURL(join(dir, "shim.js")).href);
    return { entry: entry.default, calls: shim.calls, state: globalThis.__worker_init_state, Worker: shim.default };
  }

  test("a request calls the class's fetch with the env and context, constructing nothing", async () => {
    const { entry, calls } = await entryOver();
    assert.equal(typeof entry, "object");
    assert.equal(entry.fetch("push", "env", "ctx"), "answer to push");
    assert.equal(entry.scheduled("cron", "env", "ctx"), "ran");
    assert.deepEqual(calls, [{ request: "push", env: "env", ctx: "ctx" }, { controller: "cron", env: "env" }]);
  });

  test("a trap inside the call marks the instance broken, says so, and is thrown on", async () => {
    const { entry, state } = await entryOver({ throws: 'new WebAssembly.RuntimeError("unreachable")' });
    const errors = [];
    const consoleError = console.error;
    console.error = (...args) => errors.push(args);
    try {
      assert.throws(() => entry.fetch("push", "env", "ctx"), WebAssembly.RuntimeError);
    } finally {
      console.error = consoleError;
    }
    assert.equal(state.criticalError, true);
    assert.equal(errors[0][0], "Critical");
  });

  test("another error leaves the instance as it is", async () => {
    const { entry, state } = await entryOver({ throws: 'new TypeError("not a trap")' });
    assert.throws(() => entry.fetch("push", "env", "ctx"), TypeError);
    assert.equal(state.criticalError, false);
  });

  test("a broken instance: the request goes through worker-build's class, which rebuilds it", async () => {
    const { entry, calls, state } = await entryOver();
    state.criticalError = true;
    assert.equal(entry.fetch("push", "env", "ctx"), "answer to push");
    assert.deepEqual(calls, [{ constructed: true }, { request: "push", env: "env", ctx: "ctx" }]);
  });

  test("an output without worker-build's state or handlers: its class is the entry, unchanged", async () => {
    const withoutState = await entryOver({ state: "undefined" });
    assert.equal(withoutState.entry, withoutState.Worker);
    const withoutHandlers = await entryOver({ handlers: false });
    assert.equal(withoutHandlers.entry, withoutHandlers.Worker);
  });
});
