// Runs the built worker (build/index.js + index_bg.wasm) in workerd through
// the Miniflare API, over a local KV store that the rules CLI publishes
// into through wrangler — the same store layout `npm start` uses — and
// collects what the worker logs. No ports: the same runtime `wrangler dev`
// uses, started in about a second.
import { Miniflare } from "miniflare";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const wranglerToml = readFileSync(join(root, "wrangler.toml"), "utf8");
const compatibilityDate = wranglerToml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
// The ids wrangler's local mode uses: the ones in wrangler.toml once a deploy
// wrote them there, else the binding's name.
const namespaceId = wranglerToml.match(/^id\s*=\s*"([^"]+)"/m)?.[1] ?? "ROUTES";
const journalId = wranglerToml.match(/^database_id\s*=\s*"([^"]+)"/m)?.[1] ?? "JOURNAL";
/**
 * [assets] run_worker_first of wrangler.toml as wrangler hands it to the
 * asset router: `!/…` rules to the assets, the others to the worker.
 */
const assetRouting = (() => {
  const rules = JSON.parse(wranglerToml.match(/^run_worker_first\s*=\s*(\[.*\])$/m)[1]);
  return {
    has_user_worker: true,
    static_routing: {
      user_worker: rules.filter((rule) => !rule.startsWith("!")),
      asset_worker: rules.filter((rule) => rule.startsWith("!")).map((rule) => rule.slice(1)),
    },
  };
})();
const wranglerPath = join(root, "node_modules", ".bin", "wrangler");
const cliPath = join(root, "target", "debug", "sipgate-rules");

export const FORM = "application/x-www-form-urlencoded; charset=UTF-8";
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';
export const PROCEED = `${XML_DECL}<Response/>`;
export const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";

/**
 * A key pair standing in for sipgate's: `pem` for SIPGATE_PUBLIC_KEY, and
 * `signature(body)`, the base64 RSASSA-PKCS1-v1_5 / SHA-256 over the raw
 * body, as sipgate signs.
 */
export function signer() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: publicKey.export({ type: "spki", format: "pem" }),
    signature: (body) => sign("sha256", Buffer.from(body), privateKey).toString("base64"),
  };
}

/**
 * An HTTP receiver on a loopback address, for the fan-out: it records what
 * it gets and answers with `respond(request)` ({status, headers}; default
 * 204), or never when that returns null.
 */
export async function receiver({ host = "127.0.0.1", respond = () => ({ status: 204 }) } = {}) {
  const received = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body, path: request.url });
      const answer = respond(request);
      if (answer) response.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  return {
    received,
    url: (path = "/events") => `http://${host}:${server.address().port}${path}`,
    /** Waits until `count` deliveries arrived (or the time is up); answers them. */
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      return received;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** As the router writes a URL's user or password: all but RFC 3986's unreserved characters percent-encoded. */
function userinfo(text) {
  const unreserved = (byte) => /[A-Za-z0-9._~-]/.test(String.fromCharCode(byte));
  return [...Buffer.from(text)].map((byte) => (unreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}

/**
 * The built worker configured as a production deployment: the signature
 * check (with a test key), basic auth (user `sipgate`, `password`), the
 * source allowlist, the journal, and forwarding to a local receiver, over a
 * store with the office example published; the clock is fixed per request
 * (`x-test-now`). `headers(body, at)` are the headers sipgate sends with a
 * push; `inUrl` is the password as the router writes it into URLs.
 */
export async function deployment({ password }) {
  const source = "212.9.46.32";
  const key = signer();
  const authorization = `Basic ${Buffer.from(`sipgate:${password}`).toString("base64")}`;
  const store = localStore();
  store.publish(example("office"));
  store.migrateJournal();
  const crm = await receiver();
  const worker = await startWorker({
    store,
    journal: true,
    fault: "clock",
    vars: {
      SIGNATURE_CHECK: "on",
      SIPGATE_PUBLIC_KEY: key.pem,
      BASIC_AUTH_USER: "sipgate",
      BASIC_AUTH_PASSWORD: password,
      ALLOWED_SOURCES: `217.116.118.254, ${source}`,
      FORWARD_URLS: crm.url(),
      FORWARD_SECRET: "fan-out-secret-of-the-deployment",
    },
  });
  return {
    store,
    crm,
    worker,
    source,
    authorization,
    inUrl: userinfo(password),
    /** The headers of a push as sipgate sends it to the deployment. */
    headers: (body, at) => ({
      "x-test-now": String(at),
      "x-sipgate-signature": key.signature(body ?? ""),
      authorization,
      "cf-connecting-ip": source,
    }),
    async dispose() {
      await worker.dispose();
      await crm.close();
      store.dispose();
    },
  };
}

/**
 * A Cloudflare Access team as the tests play it: `vars` that make the
 * worker trust it, its keys as the certs URL serves them (`jwks`, and
 * `outbound`, answering the worker's fetch of them), and `jwt(claims)`,
 * the RS256 assertion Access's edge adds to a signed-in user's requests
 * (`claims()`: valid for ten minutes, e-mail office@example.com).
 */
export function accessTeam() {
  const domain = "team.cloudflareaccess.com";
  const audience = "aud-0123456789abcdef";
  const team = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const now = () => Math.floor(Date.now() / 1000);
  const base64url = (value) => Buffer.from(value).toString("base64url");
  const jwks = { keys: [{ ...team.publicKey.export({ format: "jwk" }), kid: "team-key", alg: "RS256", use: "sig" }] };
  return {
    domain,
    vars: { ACCESS_TEAM_DOMAIN: domain, ACCESS_AUD: audience },
    jwks,
    certsUrl: `https://${domain}/cdn-cgi/access/certs`,
    claims: (extra = {}) => ({ iss: `https://${domain}`, aud: [audience], exp: now() + 600, iat: now(), email: "office@example.com", ...extra }),
    /** An RS256 JWT of `claims`, signed with `key` (the team's by default). */
    jwt(claims, { key = team.privateKey, kid = "team-key", alg = "RS256" } = {}) {
      const signed = `${base64url(JSON.stringify({ alg, kid, typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
      return `${signed}.${sign("sha256", Buffer.from(signed), key).toString("base64url")}`;
    },
  };
}

/** A push body from tests/fixtures/pushes/. */
export function fixture(name) {
  return readFileSync(join(root, "tests", "fixtures", "pushes", `${name}.form`), "utf8");
}

/** An example document from examples/, parsed. */
export function example(name) {
  return JSON.parse(readFileSync(join(root, "examples", `${name}.json`), "utf8"));
}

/**
 * A local KV store in a temporary directory, and the rules CLI pointed at
 * it (`publish`, `rollback`, `kill`, … through wrangler, as a user runs them).
 */
export function localStore() {
  const dir = mkdtempSync(join(tmpdir(), "sipgate-router-e2e-"));
  let files = 0;
  return {
    dir,
    /**
     * Runs the CLI on this store (commands that read no store, and runs
     * with --url or --help, get no --persist-to); returns {status, stdout, stderr}.
     */
    cli(...args) {
      const storeless = ["check", "simulate"].includes(args[0]) || args.includes("--url");
      return runCli(storeless ? args : [...args, "--persist-to", dir]);
    },
    /** Publishes a document (an object) and returns the CLI's output; fails the test if it fails. */
    publish(document) {
      const file = join(dir, `document-${files++}.json`);
      writeFileSync(file, typeof document === "string" ? document : JSON.stringify(document));
      const result = this.cli("publish", file);
      if (result.status !== 0) throw new Error(`publish failed:\n${result.stderr}`);
      return result.stdout;
    },
    /** Creates the journal's table in the local D1 store, as `npm start` does. */
    migrateJournal() {
      const result = spawnSync(wranglerPath, ["d1", "migrations", "apply", "JOURNAL", "--local", "--persist-to", dir], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      });
      if (result.status !== 0) throw new Error(`migrations failed:\n${result.stdout}\n${result.stderr}`);
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs the CLI with `args` as given; options: cwd, env (added). Returns {status, stdout, stderr}. */
export function runCli(args, { cwd = root, env = {} } = {}) {
  if (!existsSync(cliPath)) throw new Error("target/debug/sipgate-rules is missing: cargo build --bin sipgate-rules");
  const result = spawnSync(cliPath, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Starts the worker over `store`. `vars` become bindings (default: no
 * isolate cache, no signature check, an admin token). `fault` wraps the worker so that its
 * ROUTES binding misbehaves or is counted (see faulty-kv.mjs). `journal`
 * binds the store's local D1 database as JOURNAL. `outbound` answers the
 * worker's own fetches (a function from Request to Response).
 */
export async function startWorker({ store, fault, vars = {}, journal = false, listen = false, outbound } = {}) {
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
    // The console's pages, as wrangler.toml's [assets] serves them.
    assets: { directory: join(root, "build", "console"), routerConfig: assetRouting },
    kvNamespaces: { ROUTES: namespaceId },
    kvPersist: store ? join(store.dir, "v3", "kv") : false,
    ...(journal ? { d1Databases: { JOURNAL: journalId }, d1Persist: join(store.dir, "v3", "d1") } : {}),
    bindings: { RULES_CACHE_SECONDS: "0", SIGNATURE_CHECK: "off", ADMIN_TOKEN, ...vars, ...(fault ? { FAULT: fault } : {}) },
    // A real socket on loopback, for tests that write raw HTTP.
    ...(listen ? { host: "127.0.0.1", port: 0 } : {}),
    // The worker's own fetches (e.g. Cloudflare Access's keys), answered by the test.
    ...(outbound ? { outboundService: outbound } : {}),
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
  });
  let kv;
  let d1;
  let url;
  try {
    url = await mf.ready;
    kv = await mf.getKVNamespace("ROUTES");
    if (journal) d1 = await mf.getD1Database("JOURNAL");
  } catch (error) {
    await mf.dispose(); // a live workerd would keep the test process from exiting
    throw error;
  }
  return {
    kv,
    d1,
    mf,
    logs,
    /** With `listen`: the loopback URL the worker serves on. */
    url,
    /** POSTs a form body (as curl --data does) and returns {status, headers, body}. */
    async post(body, { contentType = FORM, headers = {}, path = "/" } = {}) {
      return this.request(path, {
        method: "POST",
        headers: contentType ? { "content-type": contentType, ...headers } : headers,
        body,
      });
    },
    async request(path, init) {
      const started = performance.now();
      const response = await mf.dispatchFetch(new URL(path, "http://router.test"), init);
      const body = await response.text();
      return { status: response.status, headers: response.headers, body, ms: performance.now() - started };
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
