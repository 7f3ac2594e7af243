// `npm test`: every test layer, installing what is missing first.
//
//   1. host: clippy (warnings are errors) and `cargo test` — the pure core
//   2. wasm32: clippy and wasm-bindgen-test under node — the edge shell with a mock Env
//   3. the release build, then end-to-end tests of it in workerd (Miniflare API),
//      with rules published by the CLI through wrangler
//   4. a smoke test that starts the worker the way `npm start` does
import { join } from "node:path";
import { build } from "./build.mjs";
import { bin, buildCli, ensureTools, quietEnv, run, step } from "./tools.mjs";

const started = Date.now();
ensureTools();

step("host: clippy");
run("cargo", ["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"]);
step("host: cargo test");
run("cargo", ["test", "--quiet"]);

const wasm = ["--target", "wasm32-unknown-unknown"];
step("wasm32: clippy");
run("cargo", ["clippy", "--quiet", "--all-targets", ...wasm, "--", "-D", "warnings"]);
step("wasm32: wasm-bindgen-test under node");
run("cargo", ["test", ...wasm, "--test", "wasm"], {
  env: { ...quietEnv, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: bin.wasmBindgenTestRunner },
});

build();
buildCli(); // the e2e tests publish with it
step("end to end: the built worker in workerd");
run(process.execPath, ["--test", "--test-timeout=120000", join("tests", "e2e")]);
step("smoke: npm start, then the seed's curl");
run(process.execPath, ["--test", "--test-timeout=300000", join("tests", "smoke")]);

console.log(`\n✓ all tests passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
