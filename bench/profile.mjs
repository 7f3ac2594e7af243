// Where a worker's CPU time goes under the benchmark's load: a V8 CPU
// profile taken through workerd's inspector while autocannon sends the push
// mix to it, summed by function (self time).
//
//   KEEP_WASM_NAMES=1 npm run build    keep Rust function names in the wasm
//   node bench/profile.mjs rust         (or js) 5 s of load, the top functions
//   node bench/profile.mjs rust --seconds 10 --top 40 --save rust.cpuprofile
//   node bench/profile.mjs rust --cold  the first push of a fresh isolate,
//                                       100,000 numbers in KV
//   node bench/profile.mjs rust --journal   with the call journal on (local D1)
//
// The .cpuprofile opens in Chrome DevTools (Performance tab). Loopback only,
// bounded by --seconds.
import { rmSync, writeFileSync } from "node:fs";
import { buildCli, commandLine, ensureTools, freePort } from "../scripts/tools.mjs";

const USAGE = `node bench/profile.mjs [rust|js] [OPTIONS]: where a worker's CPU time goes under the benchmark's load

  --seconds N     load time (default 5)
  --top N         functions listed (default 25)
  --save FILE     the .cpuprofile, for Chrome DevTools
  --cold          the first push of a fresh isolate, 100,000 numbers in KV
  --journal       with the call journal on (local D1)
  -h, --help      print this and do nothing else`;

const { values: options, positionals } = commandLine(
  "profile",
  USAGE,
  {
    allowPositionals: true,
    options: {
      seconds: { type: "string", default: "5" },
      top: { type: "string", default: "25" },
      save: { type: "string" },
      cold: { type: "boolean", default: false },
      journal: { type: "boolean", default: false },
    },
  },
  (values, positionals) => {
    if (positionals.length > 1 || !["rust", "js", undefined].includes(positionals[0])) {
      throw new Error(`one worker, rust or js, not ${positionals.join(" ")}`);
    }
    for (const name of ["seconds", "top"]) {
      if (!(Number(values[name]) > 0)) throw new Error(`--${name} takes a number above 0, not ${values[name]}`);
    }
  },
);

ensureTools();
buildCli();
const { default: autocannon } = await import("autocannon");
const { default: WebSocket } = await import("ws");
const { FORM, journalBinding, migrateJournal, MIX, post, publishedStore, startWorker } = await import("./workers.mjs");

const kind = positionals[0] ?? "rust";

// The JS worker reads the document's JSON (rules format 1); the Rust worker the compiled shards.
const store = publishedStore(options.cold ? 100_000 : 1_000, { format: kind === "js" ? 1 : 2 });
const inspectorPort = await freePort();
if (options.journal) migrateJournal(store);
const worker = await startWorker(kind, store, { inspectorPort, ...(options.journal ? journalBinding(store) : {}) });
try {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  // Miniflare's own workers are named core:…; ours is the other one.
  const target = targets.find(({ title }) => !title.startsWith("core:")) ?? targets[0];
  const inspector = await connect(target.webSocketDebuggerUrl);
  const load = { url: worker.url, connections: 8, requests: MIX.map(({ path, body }) => ({ method: "POST", path, headers: FORM, body })) };
  if (!options.cold) await autocannon({ ...load, amount: 2000 }); // warm up: the hot code tiers up first
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: options.cold ? 20 : 50 });
  await inspector.send("Profiler.start");
  let requests = 1;
  if (options.cold) await post(worker.url, MIX[0]);
  else requests = (await autocannon({ ...load, duration: Number(options.seconds) })).requests.total;
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();
  if (options.save) writeFileSync(options.save, JSON.stringify(profile));
  report(profile, requests, Number(options.top));
} finally {
  await worker.mf.dispose();
  rmSync(store, { recursive: true, force: true });
}

/** A minimal Chrome DevTools Protocol client: send(method, params) → result. */
function connect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map();
    let nextId = 1;
    socket.on("message", (data) => {
      const message = JSON.parse(data);
      const call = pending.get(message.id);
      if (!call) return; // an event
      pending.delete(message.id);
      if (message.error) call.reject(new Error(`${message.error.message}`));
      else call.resolve(message.result);
    });
    socket.on("error", reject);
    socket.on("open", () =>
      resolve({
        send(method, params = {}) {
          const id = nextId++;
          socket.send(JSON.stringify({ id, method, params }));
          return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
        },
        close: () => socket.close(),
      }),
    );
  });
}

/** Self time per function, heaviest first, and per request. */
function report(profile, requests, top) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = `${functionName || "(anonymous)"} ${url ? `${url.split("/").pop()}:${lineNumber + 1}` : ""}`.trim();
    self.set(name, (self.get(name) ?? 0) + micros);
    total += micros;
  });
  const idle = self.get("(idle)") ?? 0;
  const busy = total - idle;
  console.log(`\n${kind}: ${requests} requests in ${(total / 1e6).toFixed(1)} s sampled; busy ${(busy / 1e3).toFixed(0)} ms = ${(busy / requests).toFixed(1)} µs per request on the isolate's thread\n`);
  console.log("  self µs/request   share   function");
  const rows = [...self.entries()].filter(([name]) => name !== "(idle)").sort((a, b) => b[1] - a[1]);
  for (const [name, micros] of rows.slice(0, top)) {
    console.log(`  ${(micros / requests).toFixed(2).padStart(15)}  ${((100 * micros) / busy).toFixed(1).padStart(5)}%   ${name}`);
  }
}
