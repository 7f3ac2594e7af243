// Two builds of the Rust worker, paired: for a change of a few µs per push,
// which one side-by-side run of `bench/run.mjs --only load --baseline`
// cannot tell from noise (±12 µs between runs on a shared machine).
//
//   node bench/ab.mjs DIR_A DIR_B [--pairs N] [--seconds S]
//
// Each DIR holds a build (index.js and index_bg.wasm, e.g. a copy of an
// earlier commit's build/). Both serve the benchmark's 1,000-number table
// (rules format 2) under the load step's push mix, and are loaded in turn
// in short runs, A B B A A B …, so that drift of the machine hits both
// alike; then both are started afresh in the other order and measured
// again, since the worker started second tends to measure dearer. Reported:
// the isolate thread's CPU per push of each, and B − A, pair by pair, with
// its mean and two standard errors over all pairs. Loopback only, bounded:
// 2 × N pairs of S seconds each per worker (default 10 × 3 s: about 3 minutes).
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildCli, commandLine, ensureTools, root } from "../scripts/tools.mjs";

const USAGE = `node bench/ab.mjs DIR_A DIR_B [OPTIONS]: two builds of the worker, paired short runs under load

  DIR_A, DIR_B    build directories (index.js and index_bg.wasm; e.g. copies of build/)
  --pairs N       pairs of runs in each start order (default 10)
  --seconds S     seconds per run (default 3)
  -h, --help      print this and do nothing else`;

const { values: options, positionals: dirs } = commandLine(
  "ab",
  USAGE,
  { allowPositionals: true, options: { pairs: { type: "string", default: "10" }, seconds: { type: "string", default: "3" } } },
  (values, positionals) => {
    if (positionals.length !== 2) throw new Error(`two build directories, not ${positionals.length}`);
    for (const dir of positionals) {
      const missing = ["index.js", "index_bg.wasm"].filter((file) => !existsSync(join(dir, file)));
      if (missing.length) throw new Error(`${dir} has no ${missing.join(" or ")}: give a worker build directory`);
    }
    for (const name of ["pairs", "seconds"]) {
      const value = Number(values[name]);
      if (!Number.isInteger(value) || value < 1 || value > 100) throw new Error(`--${name} takes a whole number from 1 to 100, not ${values[name]}`);
      values[name] = value;
    }
  },
);

ensureTools();
buildCli();
const { default: autocannon } = await import("autocannon");
const { FORM, MIX, post, publishedStore, startWorker, threadCpuNs, withoutOrigin, WORKERS } = await import("./workers.mjs");

const store = publishedStore(1_000, { format: 2 });
const [labelA, labelB] = dirs;
for (const [name, dir] of [["A", labelA], ["B", labelB]]) {
  const copy = join(root, "target", `bench-ab-${name}`);
  rmSync(copy, { recursive: true, force: true });
  cpSync(dir, copy, { recursive: true });
  WORKERS[name] = { scriptPath: join(copy, "index.js") };
}

/** The isolate thread's CPU per push over one run, in µs. */
async function run(worker) {
  const before = threadCpuNs(worker.pid);
  const result = await autocannon({
    url: worker.url,
    connections: 8,
    duration: options.seconds,
    requests: MIX.map(({ path, body }) => ({ method: "POST", path, headers: FORM, body })),
  });
  if (result.non2xx || result.errors) throw new Error(`${result.non2xx} answers not 2xx, ${result.errors} errors`);
  return (threadCpuNs(worker.pid) - before) / 1000 / result.requests.total;
}

const differences = [];
try {
  for (const order of [["A", "B"], ["B", "A"]]) {
    const workers = {};
    for (const name of order) workers[name] = await startWorker(name, store);
    try {
      for (const push of MIX) {
        const [a, b] = [await post(workers.A.url, push), await post(workers.B.url, push)];
        if (withoutOrigin(a.text, workers.A.url) !== withoutOrigin(b.text, workers.B.url)) {
          throw new Error(`the builds answer ${push.name} differently:\nA: ${a.text}\nB: ${b.text}`);
        }
      }
      await run(workers.A); // warm-up: compiled, cached
      await run(workers.B);
      console.log(`started ${order.join(" then ")}:`);
      for (let pair = 0; pair < options.pairs; pair++) {
        const turn = pair % 2 === 0 ? ["A", "B"] : ["B", "A"];
        const cpu = {};
        for (const name of turn) cpu[name] = await run(workers[name]);
        differences.push(cpu.B - cpu.A);
        console.log(`  pair ${pair + 1}: A ${cpu.A.toFixed(1)}  B ${cpu.B.toFixed(1)}  B − A ${(cpu.B - cpu.A).toFixed(1)} µs per push`);
      }
    } finally {
      for (const worker of Object.values(workers)) await worker.mf.dispose();
    }
  }
} finally {
  rmSync(store, { recursive: true, force: true });
}

const mean = differences.reduce((sum, value) => sum + value, 0) / differences.length;
const variance = differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (differences.length - 1);
const twoErrors = 2 * Math.sqrt(variance / differences.length);
console.log(`\nB − A: ${mean.toFixed(1)} ± ${twoErrors.toFixed(1)} µs of isolate CPU per push (mean of ${differences.length} pairs, two standard errors)
A: ${labelA}\nB: ${labelB}`);
process.exit(0);
