// The built worker with a misbehaving or observed environment, for fault
// injection, read counting and a fixed clock in workerd (tests only). The
// FAULT binding lists what to do, comma-separated:
//   error — every KV read throws, as during a KV outage;
//   count — reads go to the real binding and are counted: the response
//           carries `x-kv-reads` and `x-kv-keys`;
//   clock — the request header `x-test-now` (ms since the epoch) is what
//           Date.now() returns while the worker answers.
// The worker module itself is unchanged: this only hands it another env.
import RustWorker from "../../build/index.js";

function refusingKv(fault) {
  const refuse = async () => {
    throw new Error(`KV is failing (injected fault: ${fault})`);
  };
  return { get: refuse, getWithMetadata: refuse, put: refuse, list: refuse, delete: refuse };
}

function countingKv(kv, keys) {
  return {
    get: (key, options) => {
      keys.push(key);
      return kv.get(key, options);
    },
    getWithMetadata: (...args) => kv.getWithMetadata(...args),
    put: (...args) => kv.put(...args),
    list: (...args) => kv.list(...args),
    delete: (...args) => kv.delete(...args),
  };
}

export default {
  async fetch(request, env, ctx) {
    const faults = String(env.FAULT).split(",");
    for (const fault of faults) {
      if (!["error", "count", "clock"].includes(fault)) throw new Error(`unknown FAULT ${fault}`);
    }
    const keys = [];
    let routes = env.ROUTES;
    if (faults.includes("error")) routes = refusingKv("error");
    if (faults.includes("count")) routes = countingKv(routes, keys);
    const realNow = Date.now;
    const fixed = request.headers.get("x-test-now");
    if (faults.includes("clock") && fixed !== null) Date.now = () => Number(fixed);
    try {
      const worker = new RustWorker(ctx, { ...env, ROUTES: routes });
      const response = await worker.fetch(request);
      if (!faults.includes("count")) return response;
      const counted = new Response(response.body, response);
      counted.headers.set("x-kv-reads", String(keys.length));
      counted.headers.set("x-kv-keys", keys.join(","));
      return counted;
    } finally {
      Date.now = realNow;
    }
  },
};
