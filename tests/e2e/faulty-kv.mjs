// The built worker with a misbehaving ROUTES binding, for fault injection in
// workerd. The FAULT binding picks the misbehaviour:
//   error — every KV read throws, as during a KV outage.
// The worker module itself is unchanged: this only hands it another env.
import RustWorker from "../../build/index.js";

function faultyKv(fault) {
  const refuse = async () => {
    throw new Error(`KV is failing (injected fault: ${fault})`);
  };
  switch (fault) {
    case "error":
      return { get: refuse, getWithMetadata: refuse, put: refuse, list: refuse, delete: refuse };
    default:
      throw new Error(`unknown FAULT ${fault}`);
  }
}

export default {
  async fetch(request, env, ctx) {
    const worker = new RustWorker(ctx, { ...env, ROUTES: faultyKv(env.FAULT) });
    return worker.fetch(request);
  },
};
