// `npm test`: every test layer, installing what is missing first.
//
//   1. host: clippy (warnings are errors) and `cargo test` — the pure core;
//      the JSON Schema checked against the validator (ajv vs the CLI)
//   2. wasm32: clippy and wasm-bindgen-test under node — the edge shell with a mock Env
//   3. the release build, then end-to-end tests of it in workerd (Miniflare API),
//      with rules published by the CLI through wrangler
//   4. a smoke test that starts the worker the way `npm start` does
//   5. a short run of every fuzz target (cargo-fuzz, nightly)
//   6. a smoke run of the benchmark harness (no figures checked: timings
//      are measured in `npm run bench`, never asserted)
import { join } from "node:path";
import { build } from "./build.mjs";
import { fuzz } from "./fuzz.mjs";
import { bin, buildCli, ensureTools, quietEnv, run, step } from "./tools.mjs";

const started = Date.now();
ensureTools();

step("host: clippy");
run("cargo", ["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]);
step("host: cargo test");
run("cargo", ["test", "--quiet"]);
buildCli(); // the schema and e2e tests run it
step("the JSON Schema and the validator agree");
run(process.execPath, ["--test", join("tests", "schema")]);

const wasm = ["--target", "wasm32-unknown-unknown"];
step("wasm32: clippy");
run("cargo", ["clippy", "--quiet", "--all-targets", ...wasm, "--", "-D", "warnings"]);
step("wasm32: wasm-bindgen-test under node");
run("cargo", ["test", ...wasm, "--test", "wasm"], {
  env: { ...quietEnv, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: bin.wasmBindgenTestRunner },
});

build();
step("end to end: the built worker in workerd");
run(process.execPath, ["--test", "--test-timeout=120000", join("tests", "e2e")]);
step("smoke: npm start, then the seed's curl");
run(process.execPath, ["--test", "--test-timeout=300000", join("tests", "smoke")]);

// Bounded: 20 s per target (node scripts/fuzz.mjs --seconds N for longer).
fuzz(Number(process.env.FUZZ_SECONDS ?? 20));

step("bench harness: a smoke run, so it cannot rot");
run(process.execPath, [join("bench", "run.mjs"), "--smoke"]);

console.log(`\n✓ all tests passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
