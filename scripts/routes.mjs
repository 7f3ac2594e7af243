// The example routes in examples/routes/ and how they reach the local KV.
//
// Each file is one route; its name is the key without the `route:` prefix:
// examples/routes/4921100000.json → route:4921100000, default.json → route:default.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { bin, root, run, step } from "./tools.mjs";

export const exampleDir = join(root, "examples", "routes");

/** [{key, value}] with each value as compact JSON text, as KV stores it. */
export function exampleRoutes() {
  return readdirSync(exampleDir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({
      key: `route:${basename(file, ".json")}`,
      value: JSON.stringify(JSON.parse(readFileSync(join(exampleDir, file), "utf8"))),
    }));
}

/** Writes the example routes into the local ROUTES namespace via wrangler. */
export function seedExampleRoutes(persistArgs = []) {
  const routes = exampleRoutes();
  step(`seeding ${routes.length} example routes into the local KV (binding ROUTES)`);
  const dir = mkdtempSync(join(tmpdir(), "sipgate-router-"));
  try {
    const file = join(dir, "routes.json");
    writeFileSync(file, JSON.stringify(routes));
    run(bin.wrangler, ["kv", "bulk", "put", file, "--binding", "ROUTES", "--local", ...persistArgs]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
