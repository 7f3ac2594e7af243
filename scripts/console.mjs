// Builds the console (console/) into build/console/, the directory
// wrangler.toml's [assets] serves: the pages cost the wasm nothing, and
// everything is served by the worker itself (no CDN).
//
//   build/console/admin/index.html    the page, at /admin/
//   build/console/admin/console.js    one ES module: the app (Preact + htm),
//                                     the schema's validator compiled ahead
//                                     of time (ajv standalone: no ajv at run
//                                     time) and the schema for completion
//   build/console/admin/console.css
//
// Nothing is at the root of the assets, so every other path — the webhook
// at `/` above all — reaches the worker as before.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "./tools.mjs";

export const consoleDir = join(root, "build", "console");

/** The JS the schema's validator compiles to: an ES module exporting it (default) and `schema`. */
async function validatorModule() {
  const { default: Ajv2020 } = await import("ajv/dist/2020.js");
  const { default: standaloneCode } = await import("ajv/dist/standalone/index.js");
  const schema = JSON.parse(readFileSync(join(root, "schema", "rules.schema.json"), "utf8"));
  const ajv = new Ajv2020({ allErrors: true, strict: true, code: { source: true, esm: true } });
  const validate = ajv.compile(schema);
  const code = standaloneCode(ajv, validate);
  // The schema itself, for completion, from the module that holds it already.
  const rootSchema = /const (schema\d+) = \{"\$schema"/.exec(code);
  if (!rootSchema) throw new Error("ajv's standalone code changed: the root schema's constant is not found");
  return `${code}\nexport { ${rootSchema[1]} as schema };\n`;
}

/**
 * Fails the build unless wrangler.toml's run_worker_first sends each of
 * `paths` to the assets (a `!` rule): a page left out would reach the
 * worker, which answers a GET there with 405.
 */
function checkRouting(paths) {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const rules = JSON.parse(toml.match(/^run_worker_first\s*=\s*(\[.*\])$/m)?.[1] ?? "[]");
  const served = new Set(rules.filter((rule) => rule.startsWith("!")).map((rule) => rule.slice(1)));
  const missing = ["/admin/", ...paths].filter((path) => !served.has(path));
  if (missing.length) {
    throw new Error(`wrangler.toml [assets] run_worker_first does not list ${missing.map((path) => `"!${path}"`).join(", ")}: the worker would answer them`);
  }
}

/** Builds build/console/ and answers the size of each file (bytes raw and gzip). */
export async function buildConsole() {
  const { build } = await import("esbuild");
  const generated = join(root, "build", "console-generated");
  rmSync(consoleDir, { recursive: true, force: true });
  mkdirSync(join(consoleDir, "admin"), { recursive: true });
  mkdirSync(generated, { recursive: true });
  writeFileSync(join(generated, "validate.mjs"), await validatorModule());
  await build({
    entryPoints: [join(root, "console", "src", "main.js")],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    legalComments: "none",
    outfile: join(consoleDir, "admin", "console.js"),
    alias: { "rules-schema-validator": join(generated, "validate.mjs") },
    nodePaths: [join(root, "node_modules")],
    logLevel: "warning",
  });
  for (const file of ["index.html", "console.css"]) {
    copyFileSync(join(root, "console", file), join(consoleDir, "admin", file));
  }
  checkRouting(readdirSync(join(consoleDir, "admin")).map((name) => `/admin/${name}`));
  return ["index.html", "console.js", "console.css"].map((name) => {
    const bytes = readFileSync(join(consoleDir, "admin", name));
    return { name: `admin/${name}`, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}
