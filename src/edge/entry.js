// The worker's entry module (build/index.js; scripts/build.mjs puts it
// there, beside worker-build's output as build/shim.js).
//
// worker-build's entry is a class extending WorkerEntrypoint behind a
// Proxy: for every request the runtime constructs the class, and the Proxy
// wraps the instance and then its `fetch` in two more Proxies, to rebuild
// the wasm instance after a trap. This module calls the same `fetch` (the
// class's, which calls the wasm export) as a plain module handler, and keeps
// the rebuild: while worker-build's shared state says the instance is broken,
// a request goes through the class and its Proxy, which rebuild it first; a
// trap thrown inside the call marks it broken, as the Proxy would (a trap in
// a later callback reaches worker-build's own `error` listener, as before).
// About 15 µs less CPU per warm push (−15.1 ± 7.2 µs in paired runs,
// bench/ab.mjs; docs/performance.md).
//
// If worker-build's output ever lacks what this relies on, the module
// exports worker-build's class unchanged.
import RustWorker from "./shim.js";

const state = globalThis.__worker_init_state;
const handlers = RustWorker.prototype;

function handle(method, argument, env, ctx) {
  if (state.criticalError) return new RustWorker(ctx, env)[method](argument);
  try {
    return handlers[method].call({ env, ctx }, argument);
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) {
      console.error("Critical", error);
      state.criticalError = true;
    }
    throw error;
  }
}

const understood = typeof state?.criticalError === "boolean" && typeof handlers?.fetch === "function" && typeof handlers?.scheduled === "function";

export default understood
  ? {
      fetch: (request, env, ctx) => handle("fetch", request, env, ctx),
      scheduled: (controller, env, ctx) => handle("scheduled", controller, env, ctx),
    }
  : RustWorker;
