// `npm run bench`: the five measurements of the benchmark suite, side by
// side in one run, written to bench/RESULTS.md.
//
//   1. size       the deployed wasm and JS, raw and gzip, against the budget
//   2. core       the Rust core's cost per push, native (cargo bench --bench core)
//   3. load       throughput and latency of the Rust worker against an idiomatic
//                 JavaScript worker (bench/js-worker), both in workerd on loopback,
//                 the same KV rules and push mix, interleaved runs, CPU per request
//   4. cold       a fresh isolate's first push with 100,000 numbers in KV: wall and CPU
//   5. kv reads   per push, counted: cold and warm
//   6. journal    the Rust worker with the call journal (D1) on and off, interleaved
//
//   npm run bench                 the full run (a few minutes), writes bench/RESULTS.md
//   node bench/run.mjs --smoke    seconds; checks the harness works (npm test runs it)
//   node bench/run.mjs --report-only   rewrites RESULTS.md from bench/results.json
//   node bench/run.mjs --baseline DIR   also another build (DIR with index.js and
//                                 index_bg.wasm) side by side: before and after
//
// Loopback only; every run is bounded and stops by itself. Every worker routes
// at the same pinned time (ROUTED_AT in bench/workers.mjs), whatever the hour.
import { execFileSync } from "node:child_process";
import { cpus, tmpdir, totalmem } from "node:os";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, sizes, SIZE_BUDGET } from "../scripts/build.mjs";
import { buildCli, commandLine, ensureTools, quietEnv, root, step } from "../scripts/tools.mjs";
import { breakdown, NAMED_WASM, tableRows } from "../scripts/wasm-size.mjs";

const STEPS = ["size", "core", "load", "cold", "kv", "journal", "admin"];
const USAGE = `node bench/run.mjs [OPTIONS]   (npm run bench): the benchmark suite, written to bench/RESULTS.md

  --smoke            every step once, briefly; checks the harness (npm test runs it); writes nothing
  --only STEPS       some of ${STEPS.join(",")} (size always runs); writes nothing
  --merge            with --only: puts what these steps measured into bench/results.json
                     (each marked as measured separately, with the commit) and rewrites RESULTS.md
  --baseline DIR     also another build of the worker (DIR holds index.js and index_bg.wasm,
                     e.g. an earlier commit's build/), side by side in the load and cold steps:
                     RESULTS.md then has a before/after table (DIR/BUILT_FROM names the build)
  --baseline-format N  the rules format the --baseline build reads its rules in: 1 (the
                     default: every build reads it) or 2 (builds from rules format 2 on)
  --report-only      rewrites RESULTS.md from bench/results.json
  -h, --help         print this and do nothing else`;

const { values: options } = commandLine(
  "bench",
  USAGE,
  {
    options: {
      smoke: { type: "boolean", default: false },
      only: { type: "string" },
      "report-only": { type: "boolean", default: false },
      merge: { type: "boolean", default: false },
      baseline: { type: "string" },
      "baseline-format": { type: "string", default: "1" },
    },
  },
  (values) => {
    if (values.merge && !values.only) throw new Error("--merge goes with --only");
    const unknown = values.only?.split(",").filter((name) => !STEPS.includes(name)) ?? [];
    if (unknown.length) throw new Error(`--only: no step ${unknown.join(", ")} (the steps: ${STEPS.join(", ")})`);
    const missing = ["index.js", "index_bg.wasm"].filter((file) => values.baseline && !existsSync(join(values.baseline, file)));
    if (missing.length) throw new Error(`--baseline ${values.baseline} has no ${missing.join(" or ")}: give a worker build directory`);
    if (!["1", "2"].includes(values["baseline-format"])) throw new Error(`--baseline-format takes 1 or 2, not ${values["baseline-format"]}`);
  },
);

// On a fresh clone: the npm packages (imported below, once installed), the
// Rust tools, and the CLI that publishes the benchmark's rules.
ensureTools();
buildCli();
const { default: autocannon } = await import("autocannon");
const { cpuNs, document, FORM, journalBinding, migrateJournal, MIX, post, publishedStore, ROUTED_AT, startWorker, threadCpuNs, useBaseline, withoutOrigin } =
  await import("./workers.mjs");

const smoke = options.smoke;
// --only load (or core, cold, kv, journal; size always runs): steps for profiling; writes nothing.
const wanted = (stepName) => !options.only || options.only.split(",").includes(stepName);
const LOAD_SECONDS = smoke ? 1 : 8;
const REPETITIONS = smoke ? 1 : 3;
const COLD_RUNS = smoke ? 1 : 7;
const CONNECTIONS = 8;
const fmt = (value, digits = 1) => Number(value).toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const median = (values) => percentile(values, 0.5);

/**
 * median(b) − median(a), with a 95% bootstrap interval (2,000 resamplings,
 * a fixed seed so a rerun of the report gives the same figures).
 */
function medianDifference(a, b) {
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0; // mulberry32
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const resample = (values) => values.map(() => values[Math.floor(random() * values.length)]);
  const deltas = Array.from({ length: 2000 }, () => median(resample(b)) - median(resample(a))).sort((x, y) => x - y);
  return { delta: median(b) - median(a), low: deltas[50], high: deltas[1949] };
}

// ---------------------------------------------------------------------------

const results = { date: new Date().toISOString(), routedAt: ROUTED_AT, smoke };
if (options["report-only"]) {
  writeFileSync(join(root, "bench", "RESULTS.md"), report(JSON.parse(readFileSync(join(root, "bench", "results.json"), "utf8"))));
  process.exit(0);
}

step("1. size: release build");
await build();
results.size = sizes();
results.sizeBreakdown = tableRows(breakdown(readFileSync(NAMED_WASM)));
// Another build side by side ("before"): its size, and in the load and cold steps its runs.
const baselineKind = options.baseline ? useBaseline(options.baseline) : null;

// Published stores by table size and rules format, shared by the steps (a
// publish of 1,000 numbers takes seconds; the smoke run's cold step reads
// the load step's table) and removed after the last step that reads them.
const stores = new Map();
function storeOf(numbers, format = 2) {
  const key = `${numbers} numbers, format ${format}`;
  if (!stores.has(key)) stores.set(key, publishedStore(numbers, { format }));
  return stores.get(key);
}
// Of a step's two stores, the one in the rules format the baseline reads.
const baselineStore = (format2, format1) => (options["baseline-format"] === "2" ? format2 : format1);
if (options.baseline) {
  const builtFrom = join(options.baseline, "BUILT_FROM");
  results.baseline = {
    label: existsSync(builtFrom) ? readFileSync(builtFrom, "utf8").trim() : options.baseline,
    format: Number(options["baseline-format"]),
    size: sizes(options.baseline),
  };
}

if (wanted("core")) {
step("2. core cost, native (cargo bench --bench core)");
{
  // The smoke run builds the benchmarks unoptimized, on the dependencies
  // npm test's \`cargo test\` already built: the release build with LTO costs
  // a clean clone a minute, for figures the smoke run does not keep.
  const profile = smoke ? ["--profile", "dev"] : [];
  const args = ["bench", "--quiet", ...profile, "--bench", "core", "--", ...(smoke ? ["--sample-count", "3", "--sample-size", "3"] : [])];
  const output = execFileSync("cargo", args, { cwd: root, env: quietEnv, encoding: "utf8", maxBuffer: 16 << 20 });
  console.log(output);
  results.core = [];
  // divan's tree: the module (`benchmarks`) at the root, then benchmarks;
  // one with arguments is a line without figures, its rows indented below.
  const groups = []; // {name, depth} of the lines without figures above this one
  for (const line of output.split("\n")) {
    const row = line.match(/^([│\s]*)[├╰]─\s(.*)$/);
    if (!row) continue;
    const depth = row[1].length;
    while (groups.length && groups.at(-1).depth >= depth) groups.pop();
    const cells = row[2].split("│").map((cell) => cell.trim());
    const [name, fastest] = cells[0].split(/\s{2,}/);
    if (!fastest) {
      groups.push({ name, depth });
      continue;
    }
    const path = [...groups.slice(1).map((group) => group.name), name].join(" ");
    results.core.push({ name: path, fastest, median: cells[2] });
  }
}

}

if (wanted("load")) {
step("3. load: Rust against JavaScript, same rules and push mix, interleaved");
// Each worker reads the rules in its own format: the Rust worker's compiled
// shards (format 2), the JS worker's JSON (format 1), the baseline's as asked.
const loadStore = storeOf(1_000);
const loadStoreJson = storeOf(1_000, 1);
{
  const rust = await startWorker("rust", loadStore);
  const js = await startWorker("js", loadStoreJson);
  const baseline = baselineKind ? await startWorker(baselineKind, baselineStore(loadStore, loadStoreJson)) : null;
  // The runtime's floor: reads the body, logs a line, answers a constant.
  const floor = await startWorker("floor", loadStore);
  // The comparison is only fair if both answer the same (but for their own
  // addresses), and only measures what it says if that is the expected decision.
  for (const push of MIX) {
    const [a, b] = [await post(rust.url, push), await post(js.url, push)];
    const [rustAnswer, jsAnswer] = [withoutOrigin(a.text, rust.url), withoutOrigin(b.text, js.url)];
    if (rustAnswer !== jsAnswer || a.status !== 200 || b.status !== 200) {
      throw new Error(`the workers answer ${push.name} differently:\nrust: ${a.status} ${rustAnswer}\njs:   ${b.status} ${jsAnswer}`);
    }
    if (!push.answer.test(rustAnswer)) {
      throw new Error(`at ${ROUTED_AT.label}, ${push.name} should be answered ${push.answer}, not:\n${rustAnswer}`);
    }
  }
  const runs = [];
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const sides = [["rust", rust], ["js", js], ["floor", floor], ...(baseline ? [["baseline", baseline]] : [])];
    for (const [name, worker] of sides) {
      const [cpuBefore, mainBefore] = [cpuNs(worker.pid), threadCpuNs(worker.pid)];
      const result = await autocannon({
        url: worker.url,
        connections: CONNECTIONS,
        duration: LOAD_SECONDS,
        requests: MIX.map(({ path, body }) => ({ method: "POST", path, headers: FORM, body })),
      });
      const [cpu, main] = [cpuNs(worker.pid) - cpuBefore, threadCpuNs(worker.pid) - mainBefore];
      const requests = result.requests.total;
      if (result.non2xx || result.errors) throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      runs.push({ name, repetition: repetition + 1, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests, cpuUsPerRequest: cpu / requests / 1000, mainUsPerRequest: main / requests / 1000 });
      console.log(`  ${name.padEnd(4)} run ${repetition + 1}: ${fmt(result.requests.average, 0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${fmt(cpu / requests / 1000)} µs CPU/request (${fmt(main / requests / 1000)} on the isolate's thread)`);
    }
  }
  results.load = runs;
  await rust.mf.dispose();
  await js.mf.dispose();
  await baseline?.mf.dispose();
  await floor.mf.dispose();
}
}

if (wanted("cold") || wanted("kv")) {
// The smoke run checks the harness, not the figure: a small table publishes faster.
const COLD_NUMBERS = smoke ? 1_000 : 100_000;
step(`4. cold start: a fresh isolate's first push, ${fmt(COLD_NUMBERS, 0)} numbers in KV`);
const coldStore = storeOf(COLD_NUMBERS);
const coldStoreJson = storeOf(COLD_NUMBERS, 1);
results.coldNumbers = COLD_NUMBERS;
// Where a cold push's CPU goes: the runtime's floor, each worker with no
// rules at all (an empty KV: its own start-up), and with the full table.
const emptyStore = mkdtempSync(join(tmpdir(), "sipgate-router-bench-empty-"));
if (wanted("cold")) {
  results.cold = [];
  const coldWorkers = [
    ["rust", "rust", coldStore],
    ["js", "js", coldStoreJson],
    // The same two reads of each store: a compiled shard is smaller than its JSON.
    ["kv baseline", "kv baseline", coldStore],
    ["kv baseline, format 1", "kv baseline", coldStoreJson],
    ["floor", "floor", emptyStore],
    ["rust, empty KV", "rust", emptyStore],
    ["js, empty KV", "js", emptyStore],
    ...(baselineKind ? [["baseline", baselineKind, baselineStore(coldStore, coldStoreJson)], ["baseline, empty KV", baselineKind, emptyStore]] : []),
  ];
  // Interleaved, a fresh isolate of each worker in turn per round: the
  // machine's drift over the step then weighs on every worker alike (the
  // worker's own CPU is one worker's figure minus another's).
  for (let run = 0; run < COLD_RUNS; run++) {
    for (const [name, kind, store] of coldWorkers) {
      const worker = await startWorker(kind, store);
      await new Promise((resolve) => setTimeout(resolve, 200)); // let startup settle
      const [cpuBefore, mainBefore] = [cpuNs(worker.pid), threadCpuNs(worker.pid)];
      const first = await post(worker.url, MIX[0]);
      const [cpu, main] = [cpuNs(worker.pid) - cpuBefore, threadCpuNs(worker.pid) - mainBefore];
      const second = await post(worker.url, MIX[0]);
      results.cold.push({ name, firstMs: first.ms, firstCpuMs: cpu / 1e6, firstMainCpuMs: main / 1e6, warmMs: second.ms });
      await worker.mf.dispose();
    }
  }
  for (const [name] of coldWorkers) {
    const runs = results.cold.filter((run) => run.name === name);
    console.log(`  ${name}: first push ${fmt(median(runs.map((r) => r.firstMs)))} ms wall, ${fmt(median(runs.map((r) => r.firstCpuMs)), 2)} ms CPU (workerd), ${fmt(median(runs.map((r) => r.firstMainCpuMs)), 2)} ms on its main thread (median of ${runs.length}); warm ${fmt(median(runs.map((r) => r.warmMs)))} ms`);
  }
}

step("5. KV reads per push, counted");
if (wanted("kv")) {
  const countReads = async (kind, store = coldStore) => {
    const worker = await startWorker(kind, store, { cacheSeconds: "10" });
    const cold = await post(worker.url, MIX[0]);
    const warm = await post(worker.url, MIX[0]);
    const other = await post(worker.url, { ...MIX[0], body: MIX[0].body.replace("49210000007", "49210099999") });
    await worker.mf.dispose();
    const reads = {
      cold: Number(cold.headers.get("x-kv-reads")),
      coldKeys: cold.headers.get("x-kv-keys"),
      warm: Number(warm.headers.get("x-kv-reads")),
      otherNumber: Number(other.headers.get("x-kv-reads")),
    };
    console.log(`  ${kind}: cold ${reads.cold} (${reads.coldKeys}), warm ${reads.warm}, another number's shard ${reads.otherNumber}`);
    return reads;
  };
  results.kvReads = await countReads("rust (counted)");
  if (results.baseline) results.baseline.kvReads = await countReads("baseline (counted)", baselineStore(coldStore, coldStoreJson));
}
rmSync(emptyStore, { recursive: true, force: true });
}

const JOURNAL_PUSHES = smoke ? 20 : 400;
if (wanted("journal")) {
step(`6. journal: the Rust worker with the call journal on and off (twice: the noise floor), ${JOURNAL_PUSHES} pushes each, rotating`);
// The answer's time, not throughput: pushes one at a time with a pause, so
// each is answered on an idle isolate — the local D1 runs inside the same
// workerd process, and under a flood its inserts would take the answers'
// CPU, which production D1 (another machine) does not. Rotating pushes
// between the workers spreads the machine's noise over all of them. Every
// push has a new call id: a repeat would be deduplicated, not stored.
//
// The journal-off workers have the same local D1 bound as JOURNAL, with
// recording paused (JOURNAL_RECORDING=off): the same binding, runtime and
// configuration, nothing recorded. Two of them measure the noise itself:
// whatever separates them is not the journal. The fourth worker has no D1
// at all.
const journalStore = storeOf(1_000);
migrateJournal(journalStore);
{
  const paused = { ...journalBinding(journalStore), vars: { JOURNAL_RECORDING: "off" } };
  const workers = [
    { name: "journal off", worker: await startWorker("rust", journalStore, paused), ms: [], cpu: 0 },
    { name: "journal off, again", worker: await startWorker("rust", journalStore, paused), ms: [], cpu: 0 },
    { name: "journal on", worker: await startWorker("rust", journalStore, journalBinding(journalStore)), ms: [], cpu: 0 },
    { name: "no D1 bound", worker: await startWorker("rust", journalStore), ms: [], cpu: 0 },
  ];
  const [off, offAgain, on, bare] = workers;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 15)); // the journal writes after the answer
  for (const side of workers) side.cpu = cpuNs(side.worker.pid);
  for (let push = 0; push < JOURNAL_PUSHES; push++) {
    const { path, body } = MIX[push % MIX.length];
    const turn = push % workers.length;
    for (const side of [...workers.slice(turn), ...workers.slice(0, turn)]) {
      const reply = await post(side.worker.url, { path, body: body.replace(/callId=\d+/, `callId=bench-${push}`) });
      if (reply.status !== 200) throw new Error(`${side.name}: status ${reply.status}`);
      side.ms.push(reply.ms);
      await pause();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200)); // the last writes
  // CPU of each workerd process over the whole run (idle time included,
  // alike for all), per push: the journal's cost, writing included.
  for (const side of workers) side.cpu = cpuNs(side.worker.pid) - side.cpu;
  results.journal = workers.map(({ name, ms, cpu }) => ({
    name,
    pushes: ms.length,
    p50: median(ms),
    p90: percentile(ms, 0.9),
    p99: percentile(ms, 0.99),
    mean: ms.reduce((sum, value) => sum + value, 0) / ms.length,
    cpuUsPerPush: cpu / ms.length / 1000,
  }));
  for (const row of results.journal) {
    console.log(`  ${row.name.padEnd(18)}: answer p50 ${fmt(row.p50, 2)} ms, p90 ${fmt(row.p90, 2)} ms, p99 ${fmt(row.p99, 2)} ms, mean ${fmt(row.mean, 2)} ms; ${fmt(row.cpuUsPerPush)} µs workerd CPU per push (the run's, idle included)`);
  }
  results.journalNoise = {
    noise: medianDifference(off.ms, offAgain.ms),
    journal: medianDifference([...off.ms, ...offAgain.ms], on.ms),
    binding: medianDifference(bare.ms, [...off.ms, ...offAgain.ms]),
  };
  const span = ({ delta, low, high }) => `${fmt(delta, 3)} ms (95% ${fmt(low, 3)} … ${fmt(high, 3)})`;
  const { noise, journal: cost, binding } = results.journalNoise;
  console.log(`  p50 difference: off again − off ${span(noise)}; on − off ${span(cost)}; D1 bound − none ${span(binding)}`);
  const database = await on.worker.mf.getD1Database("JOURNAL");
  const { results: [{ stored }] } = await database.prepare("SELECT COUNT(*) AS stored FROM pushes").all();
  if (stored !== JOURNAL_PUSHES) throw new Error(`the journal holds ${stored} pushes, not ${JOURNAL_PUSHES}`);
  console.log(`  the journal holds all ${stored} pushes`);
  for (const { worker } of workers) await worker.mf.dispose();
}
}

for (const store of stores.values()) rmSync(store, { recursive: true, force: true });

const ADMIN_SIZES = smoke ? [1_000] : [1_000, 10_000, 100_000];
const STATUS_REQUESTS = smoke ? 5 : 50;
step(`7. admin API: publishing ${ADMIN_SIZES.map((n) => fmt(n, 0)).join(", ")} numbers through PUT /admin/api/rules, and GET status`);
if (wanted("admin")) {
  results.adminBySize = [];
  for (const numbers of ADMIN_SIZES) results.adminBySize.push(await adminPublish(numbers));
  results.admin = results.adminBySize.at(-1);
}

/**
 * A fresh worker over an empty store publishes a table of `numbers`
 * numbers itself (what a CI job or the console makes it do), then answers
 * GET status. CPU is the workerd process's and the isolate thread's,
 * around each request; memory workerd's peak resident size and the wasm
 * memory the worker's admin line reports (what counts against an
 * isolate's 128 MB; local workerd does not enforce it).
 */
async function adminPublish(numbers) {
  const emptyStore = mkdtempSync(join(tmpdir(), "sipgate-router-bench-admin-"));
  const token = "bench-admin-token-0123456789abcdef-0123";
  let logged = "";
  const worker = await startWorker("rust", emptyStore, {
    vars: { ADMIN_TOKEN: token },
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (chunk) => (logged += chunk));
      stderr.resume();
    },
  });
  const headers = { authorization: `Bearer ${token}` };
  const body = JSON.stringify(document(numbers));
  await new Promise((resolve) => setTimeout(resolve, 200)); // let startup settle
  const peakMiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.pid}/status`, "utf8"))[1]) / 1024;
  const peakBefore = peakMiB();
  const [cpuBefore, mainBefore] = [cpuNs(worker.pid), threadCpuNs(worker.pid)];
  const started = performance.now();
  const reply = await fetch(`${worker.url}/admin/api/rules`, { method: "PUT", headers: { ...headers, "content-type": "application/json" }, body });
  const answer = await reply.text();
  const publishMs = performance.now() - started;
  const [publishCpu, publishMain] = [cpuNs(worker.pid) - cpuBefore, threadCpuNs(worker.pid) - mainBefore];
  const peakAfter = peakMiB();
  if (reply.status !== 200) throw new Error(`PUT /admin/api/rules: ${reply.status} ${answer.slice(0, 300)}`);
  const published = JSON.parse(answer);
  if (published.numbers !== numbers) throw new Error(`published ${published.numbers} numbers, not ${numbers}`);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the log line's way out
  const adminLine = logged.split("\n").map((line) => /\{.*\}/.exec(line)?.[0]).filter(Boolean).map((line) => JSON.parse(line)).find((line) => line.msg === "admin" && line.step === "publish");
  if (!adminLine?.memoryMib) throw new Error(`no admin line with the wasm memory in the worker's log:\n${logged.slice(-2000)}`);
  const hit = await post(worker.url, MIX[0]);
  if (!MIX[0].answer.test(hit.text)) throw new Error(`after the API's publish the hit push got ${hit.text}`);
  const statusMs = [];
  const [statusCpuBefore, statusMainBefore] = [cpuNs(worker.pid), threadCpuNs(worker.pid)];
  for (let n = 0; n < STATUS_REQUESTS; n++) {
    const begun = performance.now();
    const status = await fetch(`${worker.url}/admin/api/status`, { headers });
    const json = await status.json();
    statusMs.push(performance.now() - begun);
    if (json.liveVersion !== 1) throw new Error(`status: ${JSON.stringify(json)}`);
  }
  const [statusCpu, statusMain] = [cpuNs(worker.pid) - statusCpuBefore, threadCpuNs(worker.pid) - statusMainBefore];
  const row = {
    numbers,
    bodyBytes: Buffer.byteLength(body),
    shards: published.shards,
    publishMs,
    publishCpuMs: publishCpu / 1e6,
    publishMainCpuMs: publishMain / 1e6,
    peakMiBBefore: peakBefore,
    peakMiBAfter: peakAfter,
    wasmMemoryMiB: adminLine.memoryMib,
    statusP50Ms: median(statusMs),
    statusCpuMs: statusCpu / STATUS_REQUESTS / 1e6,
    statusMainCpuMs: statusMain / STATUS_REQUESTS / 1e6,
  };
  console.log(`  ${fmt(numbers, 0)} numbers (${fmt(row.bodyBytes / 1048576, 1)} MiB, ${fmt(row.shards, 0)} shards): ${fmt(row.publishMs, 0)} ms wall, ${fmt(row.publishMainCpuMs, 0)} ms CPU on the isolate thread (${fmt(row.publishCpuMs, 0)} ms workerd); wasm memory ${fmt(row.wasmMemoryMiB, 0)} MiB; workerd's peak ${fmt(row.peakMiBBefore, 0)} → ${fmt(row.peakMiBAfter, 0)} MiB`);
  console.log(`    GET status: p50 ${fmt(row.statusP50Ms, 2)} ms wall, ${fmt(row.statusMainCpuMs, 2)} ms on the isolate thread per request (${STATUS_REQUESTS} requests)`);
  await worker.mf.dispose();
  rmSync(emptyStore, { recursive: true, force: true });
  return row;
}

if (options.only && options.merge) {
  // The other steps as the last full run measured them.
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  const merged = JSON.parse(readFileSync(join(root, "bench", "results.json"), "utf8"));
  const note = `${commit}, \`node bench/run.mjs --only ${options.only} --merge\`, ${results.date.slice(0, 10)}`;
  for (const [key, value] of Object.entries(results)) {
    if (["date", "routedAt", "smoke"].includes(key) || value === undefined) continue;
    merged[key] = value;
  }
  merged.sizeMeasuredSeparately = note;
  if (results.admin) merged.admin = { ...results.admin, measuredSeparately: note };
  writeFileSync(join(root, "bench", "results.json"), `${JSON.stringify(merged, null, 2)}\n`);
  writeFileSync(join(root, "bench", "RESULTS.md"), report(merged));
  console.log(`\n✓ merged ${options.only} (and size) into bench/results.json and RESULTS.md`);
} else if (options.only) {
  console.log("\n(--only: nothing written)");
} else if (smoke) {
  report(results); // rendered, so the report cannot rot either
  console.log("\n✓ bench harness works (smoke run, nothing written)");
} else {
  // The figures first: a report that fails can be redone with --report-only.
  writeFileSync(join(root, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(root, "bench", "RESULTS.md"), report(results));
  console.log("\n✓ wrote bench/RESULTS.md and bench/results.json");
}

/** Which time the workers routed at: the decisions measured depend on it. */
function routedAt(results) {
  if (!results.routedAt) return "Routed at: the wall-clock time of the run (this run predates the pinned clock).";
  return `Routed at: ${results.routedAt.label}, \`${results.routedAt.iso}\` — every worker's clock starts there,
whatever the hour of the run (bench/workers.mjs), so each push meets the same decision: the "hit" push dials.`;
}

function report(results) {
  const wasm = results.size.find((file) => file.name === "index_bg.wasm");
  const byName = (name) => results.load.filter((run) => run.name === name);
  const avg = (runs, key) => runs.reduce((sum, run) => sum + run[key], 0) / runs.length;
  const [rust, javascript, floorRuns] = [byName("rust"), byName("js"), byName("floor")];
  const floorUs = floorRuns.length ? avg(floorRuns, "mainUsPerRequest") : NaN;
  const aboveFloor = (runs) => avg(runs, "mainUsPerRequest") - floorUs;
  const throughputRatio = avg(rust, "rps") / avg(javascript, "rps");
  const p99Rust = median(rust.map((run) => run.p99));
  const p99Js = median(javascript.map((run) => run.p99));
  const core = (name) => results.core.find((row) => row.name === name)?.median ?? "–";
  const coldRust = results.cold.filter((run) => run.name === "rust");
  const coldJs = results.cold.filter((run) => run.name === "js");
  const coldBase = results.cold.filter((run) => run.name === "kv baseline");
  const coldMedian = (runs, key) => median(runs.map((run) => run[key]));
  const coldOf = (name) => results.cold.filter((run) => run.name === name);
  const coldFloor = coldOf("floor").length ? coldMedian(coldOf("floor"), "firstMainCpuMs") : NaN;
  const breakdown = ["floor", "baseline, empty KV", "baseline", "rust, empty KV", "rust", "js, empty KV", "js"]
    .filter((name) => coldOf(name).length)
    .map((name) => {
      const cpu = coldMedian(coldOf(name), "firstMainCpuMs");
      const label = name.replace("baseline", "before");
      return `| ${["rust", "js", "baseline"].includes(name) ? `${label}, ${fmt(results.coldNumbers ?? 100_000, 0)} numbers` : label} | ${fmt(cpu, 2)} | ${name === "floor" ? "–" : `+${fmt(cpu - coldFloor, 2)}`} |`;
    })
    .join("\n");
  const baseCpu = coldMedian(coldBase, "firstMainCpuMs");
  // The JS worker's reads are of the JSON store (format 1); results of runs
  // before there were two stores have one baseline for both.
  const coldBaseJson = coldOf("kv baseline, format 1").length ? coldOf("kv baseline, format 1") : coldBase;
  const baseCpuJson = coldMedian(coldBaseJson, "firstMainCpuMs");
  const coldCpuTotal = coldMedian(coldRust, "firstMainCpuMs");
  // The worker's own share: the isolate thread's CPU, less what the runtime
  // and the local KV cost for the same two reads (the baseline worker).
  const coldCpu = coldCpuTotal - baseCpu;
  const coldCpuJs = coldMedian(coldJs, "firstMainCpuMs") - baseCpuJson;
  const e2e1000 = core("push_end_to_end 1000");
  const e2eMicros = parseFloat(e2e1000) * (e2e1000.includes("ns") ? 0.001 : 1);
  // Within noise: the journal moves the median answer no further than two
  // identical journal-off workers can differ (their 95% interval).
  const { noise, journal: journalCost, binding: bindingCost } = results.journalNoise ?? {};
  const span = ({ delta, low, high }) => `${fmt(delta, 3)} ms (${fmt(low, 3)} … ${fmt(high, 3)})`;
  const noiseBand = noise && Math.max(Math.abs(noise.low), Math.abs(noise.high));
  const met = (ok) => (ok ? "**met**" : "**not met**");
  const journalGoal = noise
    ? `| journal on: answer time within noise of off | p50 ${fmt(journalCost.delta, 3)} ms on − off; identical workers differ by up to ${fmt(noiseBand, 3)} ms | ${met(Math.abs(journalCost.delta) <= noiseBand)} |\n`
    : "";
  const cpu = cpus()[0]?.model ?? "unknown";
  const beforeAfter = results.baseline ? beforeAndAfter() : "";
  function beforeAndAfter() {
    const before = byName("baseline");
    const wasmBefore = results.baseline.size.find((file) => file.name === "index_bg.wasm");
    const coldBefore = coldOf("baseline");
    const emptyAbove = (name) => (coldOf(name).length ? coldMedian(coldOf(name), "firstMainCpuMs") - coldFloor : NaN);
    const ownBefore = coldBefore.length ? coldMedian(coldBefore, "firstMainCpuMs") - (results.baseline.format === 2 ? baseCpu : baseCpuJson) : NaN;
    const ratioBefore = before.length ? avg(before, "rps") / avg(javascript, "rps") : NaN;
    const p99Before = before.length ? median(before.map((run) => run.p99)) : NaN;
    // ok: undefined for a figure without a goal of its own.
    const row = (figure, was, now, jsFigure, goal, ok) => `| ${figure} | ${was} | ${now} | ${jsFigure} | ${goal} | ${ok === undefined ? "–" : met(ok)} |`;
    const readsBefore = results.baseline.kvReads;
    return `
### Before and after, side by side in this run

Before: ${results.baseline.label}. After: this checkout's build. Both ran in the same steps,
interleaved with the JS worker and the floor, so their figures compare within this run.

| figure | before | after | JS worker | goal | |
|---|---|---|---|---|---|
${row("wasm gzip", `${fmt(wasmBefore.gzip / 1024)} KiB`, `${fmt(wasm.gzip / 1024)} KiB`, "–", "≤ 64 KiB", wasm.gzip <= 64 * 1024)}
${row(`worker's own CPU, first push of a cold isolate, ${fmt(results.coldNumbers ?? 100_000, 0)} numbers`, `${fmt(ownBefore, 2)} ms`, `${fmt(coldCpu, 2)} ms`, `${fmt(coldCpuJs, 2)} ms`, "below JS", coldCpu < coldCpuJs)}
${row("", "", "", "", "≤ 5 ms", coldCpu <= 5)}
${row("first push of a cold isolate, empty KV, above the floor", `${fmt(emptyAbove("baseline, empty KV"), 2)} ms`, `${fmt(emptyAbove("rust, empty KV"), 2)} ms`, `${fmt(emptyAbove("js, empty KV"), 2)} ms`, "– (start-up: where the cold push's CPU goes)")}
${row("warm throughput vs the JS worker", `${fmt(ratioBefore, 2)}×`, `${fmt(throughputRatio, 2)}×`, "1.00×", "≥ 1.0×", throughputRatio >= 1)}
${row("warm p99", `${p99Before} ms`, `${p99Rust} ms`, `${p99Js} ms`, "≤ JS", p99Rust <= p99Js)}
${row("isolate CPU per warm push above the floor", `${fmt(before.length ? aboveFloor(before) : NaN)} µs`, `${fmt(aboveFloor(rust))} µs`, `${fmt(aboveFloor(javascript))} µs`, "≤ JS", aboveFloor(rust) <= aboveFloor(javascript))}
${row("KV reads per push, cold / warm", readsBefore ? `${readsBefore.cold} / ${readsBefore.warm}` : "not counted", `${results.kvReads.cold} / ${results.kvReads.warm}`, "–", "unchanged (≤ 2 / 0)", results.kvReads.warm === 0 && results.kvReads.cold <= 2 && (!readsBefore || (readsBefore.cold === results.kvReads.cold && readsBefore.warm === results.kvReads.warm)))}
`;
  }
  return `# Benchmark results

Run: ${results.date} · machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB · node ${process.version}
Command: \`npm run bench\` (\`node bench/run.mjs\`). Loopback only; load runs ${LOAD_SECONDS} s each,
${CONNECTIONS} connections, ${REPETITIONS} interleaved repetitions per worker; cold start ${COLD_RUNS} fresh isolates per worker, in turn.
This machine is shared and noisy: compare figures within this run, not across runs.
${routedAt(results)}

## Goals

| goal | result | |
|---|---|---|
| wasm ≤ 64 KB gzip | ${fmt(wasm.gzip / 1024)} KiB gzip (budget checked by the build: ${fmt(SIZE_BUDGET.wasmGzip / 1024)} KiB) | ${met(wasm.gzip <= 64 * 1024)} |
| core ≤ 2 µs per push end to end, 1,000 routes | ${e2e1000} (median) | ${met(e2eMicros <= 2)} |
| Rust ≥ 1.0× the JS worker's throughput | ${fmt(throughputRatio, 2)}× (${fmt(avg(rust, "rps"), 0)} vs ${fmt(avg(javascript, "rps"), 0)} req/s) | ${met(throughputRatio >= 1)} |
| Rust p99 no worse than JS | ${p99Rust} ms vs ${p99Js} ms | ${met(p99Rust <= p99Js)} |
| cold start ≤ 5 ms CPU for the first push, 100,000 numbers | ${fmt(coldCpu, 2)} ms of the worker's own (${fmt(coldCpuTotal, 2)} ms on the isolate's thread minus ${fmt(baseCpu, 2)} ms for the same KV reads); JS ${fmt(coldCpuJs, 2)} ms | ≤ 5 ms: ${met(coldCpu <= 5)}; below JS: ${met(coldCpu < coldCpuJs)} |
| isolate CPU per warm push above the runtime's floor: Rust ≤ JS | Rust ${fmt(aboveFloor(rust))} µs, JS ${fmt(aboveFloor(javascript))} µs above the floor's ${fmt(floorUs)} µs (isolate thread, load step) | ${met(aboveFloor(rust) <= aboveFloor(javascript))} |
| KV reads per push: 0 warm, ≤ 2 cold | cold ${results.kvReads.cold}, warm ${results.kvReads.warm} | ${met(results.kvReads.warm === 0 && results.kvReads.cold <= 2)} |
${journalGoal}${beforeAfter}
## 1. Size
${results.sizeMeasuredSeparately ? `\nMeasured separately (${results.sizeMeasuredSeparately}); the figures of the other steps are the full run's.\n` : ""}
| file | raw | gzip |
|---|---|---|
| build/index_bg.wasm | ${fmt(wasm.raw / 1024)} KiB | ${fmt(wasm.gzip / 1024)} KiB |
${results.size.filter((file) => file.name !== "index_bg.wasm").map((file) => `| build/${file.name} | ${fmt(file.raw / 1024)} KiB | ${fmt(file.gzip / 1024)} KiB |`).join("\n")}

Release profile (opt-level z, LTO, one codegen unit, panic = abort), wasm-opt -Oz, names and
producers sections stripped (\`scripts/build.mjs\`).
${results.sizeBreakdown ? `
Where the wasm's bytes go (\`node scripts/wasm-size.mjs\`, on the same build before its names
are stripped): functions by the crate their name starts with — a trait method by the type it is
implemented on, so serde_json's deserializers for the rules document are serde_json's and the drop
glue of the router's own types is \`core::ptr\`'s —, the router's modules and core's and alloc's
listed under them; the data (string constants, panic messages with their source paths, the time-zone
names, number-formatting tables); and the module's structure. Gzip does not add up by parts: each
part's share is its bytes gzipped alone, scaled so the parts sum to the file's gzip size.

| part | functions | raw KiB | gzip KiB (share) |
|---|---|---|---|
${results.sizeBreakdown.map(([label, functions, raw, gzip]) => `| ${label.replace(/^ {2}/, " ")} | ${functions} | ${raw} | ${gzip} |`).join("\n")}
` : ""}
## 2. Core cost, native (\`cargo bench --bench core\`, divan, median)

| benchmark | median |
|---|---|
${results.core.map((row) => `| ${row.name} | ${row.median} |`).join("\n")}

\`push_end_to_end\`: form in, XML out, rules in memory; \`evaluate\`: the rules alone;
\`load_shard\`: parse and compile the shard a cold isolate needs (the 100,000-number table
has 782 shards of 128 numbers; the 1,000-number table has 8). \`schedule_week\`: the console's
week view of one number (POST /admin/api/schedule), decided only at the instants a time
window can change, beside \`schedule_week_every_minute\`: the same week decided at each of
its 10,080 minutes. \`warm_rules_of_a_caller_not_testing\`: what a draft costs everyone but
its test callers — a warm isolate's rules for a push (pointer and shard cached), with no
draft and with a draft of 100 test callers (half numbers, half prefixes) the caller is not one of.

## 3. Throughput and latency: Rust worker against JavaScript worker

Both in workerd (Miniflare on a loopback port, not wrangler's dev proxy), the same published
rules (1,000 numbers, a 1,000-entry block list, time conditions), the same push mix (a number
with rules, in office hours: a dial; a number without; a blocked caller; menu digits — answered
identically but for each worker's own address, and as expected, checked before the runs; each
writes one JSON log line per request), autocannon with ${CONNECTIONS} connections. CPU: the workerd process's CPU time
per request (from /proc schedstat), all threads and the isolate's thread alone — it includes
the runtime's HTTP work and Miniflare's routing worker, the same for both.

| run | worker | req/s | p50 ms | p99 ms | CPU µs/request | isolate thread µs/request |
|---|---|---|---|---|---|---|
${results.load.map((run, index) => `| ${run.repetition ?? Math.floor(index / 2) + 1} | ${run.name} | ${fmt(run.rps, 0)} | ${run.p50} | ${run.p99} | ${fmt(run.cpuUsPerRequest)} | ${fmt(run.mainUsPerRequest)} |`).join("\n")}
| mean | rust | ${fmt(avg(rust, "rps"), 0)} | ${median(rust.map((r) => r.p50))} | ${p99Rust} | ${fmt(avg(rust, "cpuUsPerRequest"))} | ${fmt(avg(rust, "mainUsPerRequest"))} |
| mean | js | ${fmt(avg(javascript, "rps"), 0)} | ${median(javascript.map((r) => r.p50))} | ${p99Js} | ${fmt(avg(javascript, "cpuUsPerRequest"))} | ${fmt(avg(javascript, "mainUsPerRequest"))} |
${floorRuns.length ? `| mean | floor | ${fmt(avg(floorRuns, "rps"), 0)} | ${median(floorRuns.map((r) => r.p50))} | ${median(floorRuns.map((r) => r.p99))} | ${fmt(avg(floorRuns, "cpuUsPerRequest"))} | ${fmt(floorUs)} |` : ""}

The floor (bench/js-worker/floor.mjs) reads the body, logs one line and answers a constant
\`<Response/>\`: no worker answers a push for less on this runtime. Above it, on the isolate's
thread: Rust ${fmt(aboveFloor(rust))} µs, JS ${fmt(aboveFloor(javascript))} µs per push.

## 4. Cold start, 100,000 numbers in KV

A fresh workerd process per run (a fresh isolate), then one push for a number with rules:
wall time of the request, and CPU time while answering it (reading the pointer and the number's
shard from the local KV, decoding the shard — the JS worker parses and compiles it —, deciding) —
of the whole workerd process, and of its main thread, where the isolate runs (the rest is V8 compiling in the
background, which Cloudflare does not bill to the request). The local KV (Miniflare's, in the
same process) costs CPU that production KV does not; the \`kv baseline\` worker
(bench/js-worker/kv-baseline.mjs) reads the same two keys and does nothing else, so
"worker's own" = worker − baseline, on the isolate's thread. Each worker reads the rules in its
own format: the Rust worker compiled shards (rules format 2, which a push only decodes), the
JS worker the document's JSON (format 1, published with \`--rules-format 1\`); each is measured
against the \`kv baseline\` of its own store.

| worker | first push, wall ms | workerd CPU ms | isolate thread CPU ms | worker's own CPU ms | second push, wall ms |
|---|---|---|---|---|---|
| rust | ${fmt(coldMedian(coldRust, "firstMs"))} | ${fmt(coldMedian(coldRust, "firstCpuMs"), 2)} | ${fmt(coldCpuTotal, 2)} | ${fmt(coldCpu, 2)} | ${fmt(coldMedian(coldRust, "warmMs"))} |
| js | ${fmt(coldMedian(coldJs, "firstMs"))} | ${fmt(coldMedian(coldJs, "firstCpuMs"), 2)} | ${fmt(coldMedian(coldJs, "firstMainCpuMs"), 2)} | ${fmt(coldCpuJs, 2)} | ${fmt(coldMedian(coldJs, "warmMs"))} |
| kv baseline | ${fmt(coldMedian(coldBase, "firstMs"))} | ${fmt(coldMedian(coldBase, "firstCpuMs"), 2)} | ${fmt(baseCpu, 2)} | – | ${fmt(coldMedian(coldBase, "warmMs"))} |
| kv baseline, format 1 | ${fmt(coldMedian(coldBaseJson, "firstMs"))} | ${fmt(coldMedian(coldBaseJson, "firstCpuMs"), 2)} | ${fmt(baseCpuJson, 2)} | – | ${fmt(coldMedian(coldBaseJson, "warmMs"))} |

(medians of ${COLD_RUNS} runs each)

Where a cold push's CPU goes (isolate thread, first push of a fresh isolate): the floor; each
worker with an empty KV (no rules at all: its module's start-up and the pointer read); and with
the full table (both KV reads and the shard read: decoded by the Rust worker, parsed and compiled
by the JS worker and by builds before rules format 2).

| worker | first push CPU ms | above the floor |
|---|---|---|
${breakdown}

## 5. KV reads per push (counted by a wrapper around the built worker)

| push | KV reads | keys |
|---|---|---|
| cold isolate | ${results.kvReads.cold} | ${results.kvReads.coldKeys} |
| warm, same number, within RULES_CACHE_SECONDS | ${results.kvReads.warm} | |
| warm, a number in another shard | ${results.kvReads.otherNumber} | its shard |

## 6. The call journal on and off

The Rust worker over the same rules, the local D1 (migrated as \`npm start\` does) bound as
\`JOURNAL\`: recording (journal on), twice paused with \`JOURNAL_RECORDING=off\` (journal off — the
same binding and runtime, nothing recorded), and once with no D1 at all; ${results.journal?.[0]?.pushes ?? 0} pushes each, one at
a time with a pause, rotating between the four, each with a new call id (so every push is
stored). The answer's time is the question: the journal writes after the answer (\`waitUntil\`,
after a 10 ms timer). The two journal-off workers are identical: what separates them is the
noise floor. CPU: each workerd process's over the whole run, per push — with the journal on it
includes Miniflare's local D1 executing the INSERT in the same process, which production D1 does
on another machine.

| worker | answer p50 ms | p90 ms | p99 ms | mean ms | workerd CPU µs per push |
|---|---|---|---|---|---|
${(results.journal ?? []).map((row) => `| ${row.name} | ${fmt(row.p50, 2)} | ${fmt(row.p90, 2)} | ${fmt(row.p99, 2)} | ${fmt(row.mean, 2)} | ${fmt(row.cpuUsPerPush)} |`).join("\n")}
${noise ? `
Difference of the median answer (95% bootstrap interval): journal off again − off
${span(noise)}; journal on − off (both off workers) ${span(journalCost)}; D1 bound (the two
off workers) − no D1 ${span(bindingCost)}.
` : ""}
Where the journal's difference comes from (2026-11-26, this harness, builds with the journal's
steps cut off, one run each): building the record and adding the callbacks, without \`waitUntil\`
— on − off +0.074 ms (95% −0.050 … 0.162); with \`waitUntil\` and the 10 ms timer but no
write — +0.050 ms (95% −0.037 … 0.157), +0.4 ms workerd CPU per push. Both within noise: the
answer itself is not delayed. The full journal's remainder (about +0.13 ms at the median, in
four runs) comes with the D1 write after the answer, and stays with 60 ms between pushes
instead of 15 — a lingering cost in the process, not an overlap with the next answer. Locally
that write is Miniflare's D1 running in the same workerd process, about 1.9 ms of its CPU per
push. So the journal sits at the edge of the noise: within it in some runs, 0.02–0.03 ms outside
in others. Separately, in two of three runs a workerd with a D1 configured answered about
0.1 ms slower than one without (in the third, no difference), although the worker does not touch
D1 on a push (the binding is looked up only for \`GET /calls\`): Miniflare's, the same for
journal on and off.

## 7. The admin API: a publish through \`PUT /admin/api/rules\`, and \`GET status\`
${results.admin ? `
A fresh Rust worker over an empty store publishes the benchmark's document (four timed rules
per number) itself, as CI or the console make it do; CPU is the isolate thread's (the whole
workerd process's in brackets), memory the wasm's as the worker's \`admin\` line reports it
(what counts against an isolate's 128 MB, which local workerd does not enforce) and workerd's
peak resident size before and after.${results.admin.measuredSeparately ? ` Measured separately (${results.admin.measuredSeparately}).` : ""}

| numbers | document | wall ms | CPU ms, isolate thread (workerd) | wasm memory MiB | workerd peak MiB |
|---|---|---|---|---|---|
${(results.adminBySize ?? [results.admin]).map((row) => `| ${fmt(row.numbers, 0)} | ${fmt(row.bodyBytes / 1048576, 1)} MiB, ${fmt(row.shards, 0)} shards | ${fmt(row.publishMs, 0)} | ${fmt(row.publishMainCpuMs, 0)} (${fmt(row.publishCpuMs, 0)}) | ${row.wasmMemoryMiB ? fmt(row.wasmMemoryMiB, 0) : "–"} | ${fmt(row.peakMiBBefore, 0)} → ${fmt(row.peakMiBAfter, 0)} |`).join("\n")}

\`GET status\` after the largest publish: p50 ${fmt(results.admin.statusP50Ms, 2)} ms wall, ${fmt(results.admin.statusMainCpuMs, 2)} ms CPU on the
isolate thread (${fmt(results.admin.statusCpuMs, 2)} ms workerd) per request.

The document is never built whole: it is taken apart into shards as slices of the request body
and checked shard by shard, so the wasm holds the body and a few MiB besides. A publish beyond
a few milliseconds of CPU needs the Workers Paid plan (Free stops a request at 10 ms of CPU;
Paid allows 30 s by default).
` : "\n(not measured in this run)\n"}
## Profiled and fixed (earlier runs of this harness, this machine)

| change | measured | before → after |
|---|---|---|
| zero-copy form decoding, answers of static rules written once, trace preallocated (aae8ced) | native push end to end, 1,000 routes | 2.79 → 1.73 µs |
| JSON paths built only for errors, one-pass id check, 128 numbers per shard (aae8ced) | native load of a cold isolate's shard, 100,000 numbers | 6.1 → 1.4 ms |
| the worker parses shards without serde_path_to_error (aae8ced) | wasm gzip | 180 → 168.5 KiB |
| configuration read once per isolate, body read in one arrayBuffer, no KV timer on warm pushes (008cf16) | load: req/s, workerd CPU per request | 4,000 → 4,680; 255 → 221 µs |
| the edge shell takes the runtime's Request, not worker::Request, whose conversion reads \`request.cf\` (d6f92e5) | bench/profile.mjs, isolate thread per request; wasm gzip | 229.5 → 210.9 µs; 169.8 → 163.0 KiB |
| an infallible fetch handler (the glue's 500 path and worker::Error's formatting become dead code), KV read through the binding's own \`get\` (6fabbfd) | wasm gzip, the restructured core before and after | 205.5 → 200.6 → 198.2 KiB |
| callbacks decided before the XML is written: a rule's prepared action inside a \`<Response>\` that gains the router's callbacks (d5f0135) | bench/profile.mjs --journal, XML writing (quick_xml and xml) per request, before and after | 3.56 → 2.81 µs |
| the source tree by layers, one Decision per push (dc79d3e…17b399e), against the build before it, side by side (\`--only load --baseline\`) | load: isolate thread per request, mean of 3 runs | 212.7 → 209.1 µs |
| the admin API's futures boxed, so a push's future holds none of it: V8 compiles each wasm function on its first call, and the first push compiled the whole admin API in one 112 KB function (42cd4d6) | cold: first push's isolate CPU, empty KV, median of 7, one build each (docs/performance.md) | 20.6 → 15.2 ms |
| binaryen inlines a function with one caller only under 200 bytes (it inlined them all, merging a push's path into one 28 KB function) (1286045) | cold: first push's isolate CPU, median of 7, side by side: empty KV; 100,000 numbers; wasm gzip | 15.9 → 14.1 ms; 25.2 → 24.0 ms; 295.7 → 284.2 KiB |
| shards stored compiled (rules format 2, src/rules/compact.rs): a cold push decodes its shard instead of parsing, checking and compiling its JSON (03942f9, 5f541ab) | cold: first push's isolate CPU, median of 9, side by side (6267cc3 reading format 1): the office example; 100,000 numbers; native: a shard of 128 numbers read; wasm gzip; a publish of 100,000 numbers through the admin API, isolate CPU (it compiles each shard twice: to check it, then to write it) | 20.63 → 17.05 ms; 25.42 → 20.88 ms; 933 → 289 µs; 284.2 → 293.0 KiB; 3,090 → 4,206 ms |
| the fetch export runs its answer on the runtime's own call and on the callback that wakes it (src/edge/drive.rs), not on wasm-bindgen-futures' microtask queue: a warm push is two calls into the wasm and nothing queued (3911cbf) | load: isolate thread per request, mean of 3 interleaved runs, side by side (\`--only load --baseline\`, 5316071's build); cold: first push's isolate CPU, median of 9, side by side: 100,000 numbers; the office example; wasm gzip | 273.3 → 262.4 µs; 23.88 → 23.69 ms; 20.70 → 20.07 ms; 293.0 → 293.8 KiB |
| the names section cut out of the release wasm instead of wasm-opt rewriting the module without it (binaryen's rewrite of the same code was 2.4 KB larger) (cad8284) | wasm gzip | 293.8 → 291.7 KiB |
| the router's own entry module (src/edge/entry.js): worker-build's handlers called as a plain module handler, so the runtime constructs no entrypoint class and no Proxies per request; worker-build's rebuild of a broken instance kept (cad8284) | load: isolate CPU per warm push, paired short runs alternating (ABBA) in both start orders (bench/ab.mjs), against the same code with worker-build's class as the entry (one side-by-side run of 3 could not tell it from noise: −14 and +2 µs) | −15.1 ± 7.2 µs (runs of 10 pairs: −18.2, −18.9, −4.1, −19.2); \`node bench/ab.mjs\`, 20 pairs: −17.1 ± 10.4 µs |

Tried and not kept: an edge shell without the \`worker\` crate (wasm-bindgen and a hand-written
entry module, one call into wasm per request, answered without a promise when no KV read is
needed): 143.1 KiB gzip and 0.94× the JS worker's throughput in one run (5,218 vs 5,529 req/s),
cold start unchanged. The design names the \`worker\` crate, so that trade is the team's call.
Also not kept (2026-12-01): the push's own answer as a boxed future (its first compile 0.4 ms
cheaper, every warm push 4–8 µs dearer, \`--only load --baseline\`, 3 runs); wasm-opt passes
beyond \`-Oz\` (\`--converge\`, \`--gufa\`, \`-O4\` then \`-Oz\`): −0.1 to −1.1 KiB gzip, and size is not
what a cold push pays for; worker-build's \`--no-panic-recovery\` (no entry proxy): −4 µs per warm push in
3 interleaved runs against ±12 µs between two identical builds, cold unchanged, and it gives up the
reset of the wasm instance after a trap; compiling only the asked number's rules from a held shard:
100,000 numbers −1.25 ms on the first push, an office's 8 numbers +0.4 ms, +2.1 KiB (median of 9); the
push path run once at start-up (\`#[event(start)]\`): +6.5 ms of start-up CPU and the first push unchanged,
as workerd compiled the same functions again for the first request. And on top of the driver above:
the eight request headers' names made JavaScript strings once per isolate and the KV binding looked
up only at a push's first read: +7 and −5 µs in two runs of 3, not kept. A build without the admin API (its routes answering 404, so
that LTO drops what only they reach; measured, not committed): 191.8 KiB gzip (−100 KiB, the
"where the wasm's bytes go" table above has the rest), and its first push of a fresh isolate no
cheaper (100,000 numbers 22.0 against 22.5 ms, empty KV 18.0 against 15.1 ms, median of 5, side by
side) — the admin API in a worker of its own would buy size, not a faster push. The release build with
nightly Rust (std rebuilt with \`-Zbuild-std\`, \`-Cpanic=immediate-abort -Zlocation-detail=none\`: panics
as plain traps, no source locations in the data; measured, not committed): 273.2 KiB gzip (291.7 with
stable, 290.7 with nightly alone), its first push no cheaper (100,000 numbers 30.0 against 28.5 ms,
empty KV 20.2 against 21.6 ms, median of 7, side by side) — a nightly compiler for production is the
team's call, for −18.5 KiB.

Where a warm push's time goes now (bench/profile.mjs, isolate thread, 2026-12-01, the profiler's
own cost included, before the entry module): writing the JSON log line with console.log ~46 µs and
reading the body ~32 µs (the JS worker pays both too); worker-build's entrypoint class and its
Proxies ~24 µs (gone with src/edge/entry.js, above); strings copied from the wasm's memory into
JavaScript (header names, the log line, the response's body and header) ~21 µs, header reads ~17 µs
and the calls across the boundary ~9 µs; the Rust core (parse, decide, write XML) a few µs.
wasm-bindgen-futures' scheduling (~17 µs before src/edge/drive.rs) no longer shows. The rest is the
runtime's HTTP work, the same for both workers.
`;
}
