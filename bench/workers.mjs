// The workers the benchmarks run, and what they run on: the rules they are
// published with, the push mix, Miniflare on a loopback port, the CPU time
// of a workerd process. Shared by bench/run.mjs and bench/profile.mjs.
import { Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { bin, quietEnv, root } from "../scripts/tools.mjs";

const wrangler = readFileSync(join(root, "wrangler.toml"), "utf8");
export const compatibilityDate = wrangler.match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
// As wrangler's local mode names them: the id once a deploy wrote it, else the binding.
const namespaceId = wrangler.match(/^id\s*=\s*"([^"]+)"/m)?.[1] ?? "ROUTES";

// ---------------------------------------------------------------------------
// Rules for the benchmark: like the office example, N numbers with time
// conditions, a 1,000-entry block list, a menu. Same generator as benches/core.rs.

export function document(numbers) {
  const blocked = [...Array(1000).keys()].map((n) => `4930666${String(n).padStart(5, "0")}`).concat(["49900*", "49137*"]);
  const table = {};
  for (let n = 0; n < numbers; n++) {
    table[`4921${String(n).padStart(7, "0")}`] = [
      { id: `holidays-${n}`, when: { time: { dates: ["@holidays", "2026-12-24..2026-12-31"] } }, then: { menu: "after-hours" } },
      { id: `lunch-${n}`, when: { time: { weekdays: "mon-fri", hours: "12:00-13:00" } }, then: { voicemail: {} } },
      {
        id: `office-${n}`,
        when: { time: { weekdays: "mon-fri", hours: ["08:00-12:00", "13:00-17:00"] } },
        // No onAnswer/onHangup of its own, as most rules: with the journal
        // on, the router adds its callbacks around the prepared dial.
        then: { dial: { numbers: ["4921100001", "4921100002", "4921100003"], callerId: "4921100000" } },
      },
      { id: `after-${n}`, then: { menu: "after-hours" } },
    ];
  }
  return {
    timezone: "Europe/Berlin",
    lists: { blocked },
    calendars: { holidays: ["01-01", "05-01", "10-03", "12-25", "12-26", "2026-04-03", "2026-04-06"] },
    menus: {
      "after-hours": {
        prompt: "https://sounds.example.com/a.wav",
        maxDigits: 1,
        timeout: 5000,
        options: { 1: { dial: { numbers: ["4915790000099"] } }, 2: { voicemail: {} } },
        noInput: { voicemail: {} },
        invalid: { voicemail: {} },
      },
    },
    global: [
      { id: "outgoing", when: { direction: "out" }, then: { proceed: {} } },
      { id: "block-list", when: { caller: "@blocked" }, then: { reject: {} } },
      { id: "anonymous", when: { caller: "anonymous" }, then: { reject: { reason: "busy" } } },
    ],
    numbers: table,
    default: [{ id: "default", then: { proceed: {} } }],
  };
}

/**
 * A local KV store with `numbers` numbers published by the CLI, in rules
 * format `format`: 2, compiled (what this router publishes), or 1, each shard
 * the document's JSON — what the JavaScript worker reads, and builds of this
 * router from before format 2.
 */
export function publishedStore(numbers, { format = 2 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sipgate-router-bench-"));
  const file = join(dir, "rules.json");
  writeFileSync(file, JSON.stringify(document(numbers)));
  const args = ["publish", file, "--persist-to", dir, "--rules-format", String(format)];
  execFileSync(bin.cli, args, { cwd: root, env: quietEnv, stdio: "pipe" });
  return dir;
}

/** Creates the journal's table in the local D1 of `store` (as npm start does). */
export function migrateJournal(store) {
  execFileSync(bin.wrangler, ["d1", "migrations", "apply", "JOURNAL", "--local", "--persist-to", store], {
    cwd: root,
    env: { ...quietEnv, CI: "true" },
    stdio: "pipe",
  });
}

/** Miniflare options binding the local D1 of `store` as JOURNAL. */
export function journalBinding(store) {
  const databaseId = wrangler.match(/^database_id\s*=\s*"([^"]+)"/m)?.[1] ?? "JOURNAL";
  return { d1Databases: { JOURNAL: databaseId }, d1Persist: join(store, "v3", "d1") };
}

// ---------------------------------------------------------------------------
// The time the workers route at. Office hours decide the "hit" push, so an
// unpinned clock would measure a dial in the morning and a menu in the
// evening. Every worker the benchmarks start sees its clock begin at this
// instant (and run on from there), whatever the hour of the run.

const ROUTED_AT_ISO = "2026-11-24T10:00:00+01:00";
/** "Tuesday 2026-11-24 10:00 Europe/Berlin": on the rules' wall clock, where office hours are read. */
function berlinWallClock(instant) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/Berlin",
    weekday: "long",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(Date.parse(instant));
  const part = Object.fromEntries(parts.map(({ type, value }) => [type, value]));
  return `${part.weekday} ${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} Europe/Berlin`;
}
export const ROUTED_AT = { iso: ROUTED_AT_ISO, label: berlinWallClock(ROUTED_AT_ISO) };

/**
 * The entry module a benchmark worker runs: the worker's own module,
 * re-exported, with `Date.now` starting at ROUTED_AT. The offset is fixed
 * at the first reading, in the first request, and time flows as usual from
 * there: caches expire as they do in production, and a run of minutes stays
 * in office hours. Both languages read the time through `Date.now` (the Rust
 * worker via js_sys::Date::now), so both are pinned alike, at the cost of
 * one JavaScript call per reading.
 */
function pinnedEntry(scriptPath) {
  const pinned = Date.parse(ROUTED_AT.iso);
  return {
    scriptPath: join(dirname(scriptPath), `routed-at.${basename(scriptPath)}`),
    script: `import worker from "./${basename(scriptPath)}";
const realNow = Date.now;
let offset;
Date.now = () => {
  const now = realNow();
  offset ??= ${pinned} - now;
  return now + offset;
};
export default worker;
`,
  };
}

// The push mix: a number with rules (time conditions), a number without
// (default), a blocked caller (global rule), and menu digits. `answer` is
// the decision each must get at ROUTED_AT: the benchmark checks it, so it
// measures the path it says it measures.
export const MIX = [
  {
    name: "hit",
    path: "/",
    body: "event=newCall&from=492111234567&to=49210000007&direction=in&callId=1&user[]=Alice",
    answer: /<Response><Dial callerId="4921100000">(<Number>\d+<\/Number>){3}<\/Dial><\/Response>$/,
  },
  { name: "miss", path: "/", body: "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=2", answer: /<Response\/>$/ },
  { name: "blocked", path: "/", body: "event=newCall&from=493066600042&to=49210000007&direction=in&callId=3", answer: /<Response><Reject\/><\/Response>$/ },
  {
    name: "dtmf",
    path: "/?menu=after-hours&try=0",
    body: "event=dtmf&dtmf=1&callId=4",
    answer: /<Response><Dial><Number>4915790000099<\/Number><\/Dial><\/Response>$/,
  },
];

/**
 * An answer with the worker's own origin (its loopback port) replaced, so
 * that two workers' answers compare equal when only their addresses differ
 * (a menu's onData URL points back at the worker that answered).
 */
export const withoutOrigin = (text, url) => text.replaceAll(url, "{origin}");
export const FORM = { "content-type": "application/x-www-form-urlencoded" };

// ---------------------------------------------------------------------------
// Workers on loopback, and the CPU time of their workerd process.

export function workerdPids() {
  return new Set(
    readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd") &&
            readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[3] === String(process.pid);
        } catch {
          return false;
        }
      }),
  );
}

/** CPU time of a process and all its threads, in ns (from schedstat). */
export function cpuNs(pid) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) total += threadCpuNs(pid, task);
  return total;
}

/**
 * CPU time of the process's main thread, in ns: where workerd runs the
 * isolate (the other threads are V8's background compilers and the I/O
 * runtime). Cloudflare bills a request's CPU on that thread.
 */
export const threadCpuNs = (pid, task = pid) => Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);

export const WORKERS = {
  rust: { scriptPath: join(root, "build", "index.js") },
  js: { scriptPath: join(root, "bench", "js-worker", "worker.mjs") },
  "kv baseline": { scriptPath: join(root, "bench", "js-worker", "kv-baseline.mjs") },
  floor: { scriptPath: join(root, "bench", "js-worker", "floor.mjs") },
  "rust (counted)": { scriptPath: join(root, "tests", "e2e", "faulty-kv.mjs"), bindings: { FAULT: "count" } },
};

/**
 * Adds another build of the Rust worker (a directory with index.js and
 * index_bg.wasm) as the worker kind `baseline`: copied under target/, where
 * the project root (Miniflare's module root) holds it.
 */
export function useBaseline(directory) {
  const copy = join(root, "target", "bench-baseline");
  rmSync(copy, { recursive: true, force: true });
  cpSync(directory, copy, { recursive: true });
  WORKERS.baseline = { scriptPath: join(copy, "index.js") };
  // The read-counting wrapper of the e2e tests, around this build instead.
  const counting = readFileSync(join(root, "tests", "e2e", "faulty-kv.mjs"), "utf8");
  if (!counting.includes('"../../build/index.js"')) throw new Error("tests/e2e/faulty-kv.mjs no longer imports ../../build/index.js");
  writeFileSync(join(copy, "faulty-kv.mjs"), counting.replace('"../../build/index.js"', '"./index.js"'));
  WORKERS["baseline (counted)"] = { scriptPath: join(copy, "faulty-kv.mjs"), bindings: { FAULT: "count" } };
  return "baseline";
}

/**
 * Serves worker `kind` on a loopback port of workerd's choosing over the KV store at `store`,
 * its clock starting at ROUTED_AT; `extra` goes to Miniflare as is
 * (bench/profile.mjs sets `inspectorPort`).
 */
export async function startWorker(kind, store, { cacheSeconds = "10", vars = {}, ...extra } = {}) {
  const before = workerdPids();
  const worker = WORKERS[kind];
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    ...pinnedEntry(worker.scriptPath),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate,
    kvNamespaces: { ROUTES: namespaceId },
    kvPersist: join(store, "v3", "kv"),
    bindings: { RULES_CACHE_SECONDS: cacheSeconds, SIGNATURE_CHECK: "off", ...(worker.bindings ?? {}), ...vars },
    host: "127.0.0.1",
    // workerd binds a port of its own choosing and Miniflare reports it: a
    // port found free beforehand can be taken before workerd binds it (the
    // load step's client connections use the same ephemeral range).
    port: 0,
    // Drain the worker's log lines: an unread pipe fills up and stalls workerd.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
    ...extra,
  });
  const url = (await mf.ready).origin;
  const pid = [...workerdPids()].find((candidate) => !before.has(candidate));
  return { mf, url, pid };
}

export async function post(url, { path, body }) {
  const started = performance.now();
  const response = await fetch(`${url}${path}`, { method: "POST", headers: FORM, body });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers, ms: performance.now() - started };
}

