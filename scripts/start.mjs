// `npm start`: install what is missing, seed the example routes into the
// local KV, and serve the worker on 127.0.0.1 with `wrangler dev` (which
// builds it through the [build] command in wrangler.toml and rebuilds on
// changes under src/).
//
//   npm start                                   127.0.0.1:8787, state in .wrangler/state
//   npm start -- --port 8788 --persist-to DIR   another port / another local store
import { parseArgs } from "node:util";
import { bin, ensureTools, start, step } from "./tools.mjs";
import { seedExampleRoutes } from "./routes.mjs";

const { values: options } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    "persist-to": { type: "string" },
  },
});
const persist = options["persist-to"] ? ["--persist-to", options["persist-to"]] : [];

ensureTools();
seedExampleRoutes(persist);

step(`serving on http://127.0.0.1:${options.port} (Ctrl-C stops)`);
console.log(
  `  try: curl -X POST --data "from=492111234567&to=4915791234567&direction=in" http://127.0.0.1:${options.port}`,
);
const dev = start(
  bin.wrangler,
  ["dev", "--local", "--ip", "127.0.0.1", "--port", options.port, "--show-interactive-dev-session=false", ...persist],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => dev.kill(signal));
}
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
