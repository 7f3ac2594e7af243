// Runs the built worker (build/index.js + index_bg.wasm) in workerd through
// the Miniflare API, with a local KV namespace bound as ROUTES, and collects
// what the worker logs. No ports, no wrangler: the same runtime `wrangler dev`
// uses, started in about a second.
import { Miniflare } from "miniflare";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const compatibilityDate = readFileSync(join(root, "wrangler.toml"), "utf8").match(
  /^compatibility_date\s*=\s*"([^"]+)"/m,
)[1];

export const FORM = "application/x-www-form-urlencoded; charset=UTF-8";

/** A push body from tests/fixtures/pushes/. */
export function fixture(name) {
  return readFileSync(join(root, "tests", "fixtures", "pushes", `${name}.form`), "utf8");
}

/**
 * Starts the worker. `routes` is put into ROUTES first. `fault` wraps the
 * worker so that its ROUTES binding misbehaves (see faulty-kv.mjs).
 */
export async function startWorker({ routes = {}, fault } = {}) {
  if (!existsSync(join(root, "build", "index.js"))) {
    throw new Error("build/index.js is missing: run `node scripts/build.mjs` first");
  }
  const logs = [];
  const collect = (stream) => {
    let pending = "";
    stream.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop();
      logs.push(...lines.filter((line) => line.trim()));
    });
  };
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: fault ? join(root, "tests", "e2e", "faulty-kv.mjs") : join(root, "build", "index.js"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate,
    kvNamespaces: ["ROUTES"],
    bindings: fault ? { FAULT: fault } : {},
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
  });
  let kv;
  try {
    await mf.ready;
    kv = await mf.getKVNamespace("ROUTES");
    for (const [key, value] of Object.entries(routes)) {
      await kv.put(key, typeof value === "string" ? value : JSON.stringify(value));
    }
  } catch (error) {
    await mf.dispose(); // a live workerd would keep the test process from exiting
    throw error;
  }
  return {
    kv,
    logs,
    /** POSTs a form body (as curl --data does) and returns {status, headers, body}. */
    async post(body, { contentType = FORM, headers = {}, path = "/" } = {}) {
      return this.request(path, {
        method: "POST",
        headers: contentType ? { "content-type": contentType, ...headers } : headers,
        body,
      });
    },
    async request(path, init) {
      const response = await mf.dispatchFetch(new URL(path, "http://router.test"), init);
      return { status: response.status, headers: response.headers, body: await response.text() };
    },
    /** The parsed JSON log lines the worker wrote, waiting briefly for stdio to flush. */
    async logLines(predicate = () => true, { timeoutMs = 2000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs
          .map((line) => line.slice(line.indexOf("{")))
          .flatMap((line) => {
            try {
              return [JSON.parse(line)];
            } catch {
              return [];
            }
          })
          .filter(predicate);
        if (found.length || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    dispose: () => mf.dispose(),
  };
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
export const PROCEED = `${XML_DECL}<Response/>`;
