// The built worker with a misbehaving or observed environment, for fault
// injection, read counting and a fixed clock in workerd (tests only). The
// FAULT binding lists what to do, comma-separated:
//   error — every KV read throws, as during a KV outage;
//   kv    — the request header `x-test-kv` picks how KV behaves for that
//           request: `error` (throws), `hang` (never answers), `garbage`
//           (answers bytes that are not JSON), or absent (the real KV);
//   count — reads are counted: the response carries `x-kv-reads` and
//           `x-kv-keys`;
//   clock — the request header `x-test-now` (ms since the epoch) is what
//           Date.now() returns while the worker answers;
//   critical — a request with the header `x-test-critical` finds the wasm
//           instance marked broken, as after a trap (worker-build's shared
//           state): the entry must rebuild it before answering; every
//           response carries the instance's generation, `x-wasm-instance`.
// The worker module itself is unchanged: this only hands it another env.
import RustWorker from "../../build/index.js";

const FAULTS = ["error", "kv", "count", "clock", "critical"];

// The entry's module handler (src/edge/entry.js), or the class of builds
// from before it (the benchmark's baselines use this wrapper too).
const answer = (request, env, ctx) =>
  typeof RustWorker === "function" ? new RustWorker(ctx, env).fetch(request) : RustWorker.fetch(request, env, ctx);

function misbehaving(kv, behaviour) {
  const get = {
    error: async () => {
      throw new Error(`KV is failing (injected fault: ${behaviour})`);
    },
    hang: () => new Promise(() => {}),
    garbage: async () => "\u0000\u0001 not json {{{",
  }[behaviour];
  if (!get) throw new Error(`unknown x-test-kv ${behaviour}`);
  return { ...passThrough(kv), get, getWithMetadata: get };
}

function passThrough(kv) {
  return {
    get: (...args) => kv.get(...args),
    getWithMetadata: (...args) => kv.getWithMetadata(...args),
    put: (...args) => kv.put(...args),
    list: (...args) => kv.list(...args),
    delete: (...args) => kv.delete(...args),
  };
}

function counting(kv, keys) {
  return {
    ...passThrough(kv),
    get: (key, options) => {
      keys.push(key);
      return kv.get(key, options);
    },
  };
}

export default {
  async fetch(request, env, ctx) {
    const faults = String(env.FAULT).split(",");
    for (const fault of faults) {
      if (!FAULTS.includes(fault)) throw new Error(`unknown FAULT ${fault}`);
    }
    const keys = [];
    let routes = env.ROUTES;
    if (faults.includes("error")) routes = misbehaving(routes, "error");
    const behaviour = request.headers.get("x-test-kv");
    if (faults.includes("kv") && behaviour) routes = misbehaving(routes, behaviour);
    if (faults.includes("count")) routes = counting(routes, keys);
    const realNow = Date.now;
    const fixed = request.headers.get("x-test-now");
    if (faults.includes("clock") && fixed !== null) Date.now = () => Number(fixed);
    try {
      if (faults.includes("critical") && request.headers.has("x-test-critical")) globalThis.__worker_init_state.criticalError = true;
      const response = await answer(request, { ...env, ROUTES: routes }, ctx);
      if (!faults.includes("count") && !faults.includes("critical")) return response;
      const observed = new Response(response.body, response);
      if (faults.includes("count")) {
        observed.headers.set("x-kv-reads", String(keys.length));
        observed.headers.set("x-kv-keys", keys.join(","));
      }
      if (faults.includes("critical")) observed.headers.set("x-wasm-instance", String(globalThis.__worker_init_state.instanceId));
      return observed;
    } finally {
      Date.now = realNow;
    }
  },
};
