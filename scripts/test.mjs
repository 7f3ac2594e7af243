// `npm test`: every test layer, installing what is missing first.
//
//   1. host: clippy (warnings are errors) and `cargo test` — the pure core;
//      the JSON Schema checked against the validator (ajv vs the CLI)
//   2. wasm32: clippy and wasm-bindgen-test under node — the edge shell with a mock Env
//   3. the release build, made by `npm run setup -- --dry-run` (wrangler
//      deploy --dry-run: the [build] command of the real wrangler.toml, then
//      its bindings, assets and cron checked by wrangler), then end-to-end
//      tests of it in workerd (Miniflare
//      API), with rules published by the CLI through wrangler; the docs'
//      links and commands checked with them
//   4. a smoke test that starts the worker the way `npm start` does
//   5. the console in headless Chromium (Debian's, installed when missing),
//      driven by playwright-core against the built worker in workerd
//   6. a short run of every fuzz target (cargo-fuzz, nightly)
//   7. a smoke run of the benchmark harness and of bench/ab.mjs (no figures
//      checked: timings are measured in `npm run bench`, never asserted)
//
//   npm test                                     every layer, now
//   npm test -- --at 2026-12-24T18:30:00+01:00   every layer as if it were that moment
//   npm test -- --help
//
// No test may depend on the clock: tests inject the time they route at.
// `--at` proves it, running every process of the suite (node, cargo, the
// test binaries, wrangler, workerd) on a wall clock that starts at the
// given instant (tests/clock/shifted-clock.c, preloaded).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuzz } from "./fuzz.mjs";
import { bin, buildCli, commandLine, ensureChromium, ensureTools, quietEnv, root, run, step, steps, toolsDir } from "./tools.mjs";

const USAGE = `npm test [-- OPTIONS]: every test layer (docs/development.md: "How it is tested")

  --at INSTANT   run the whole suite on a wall clock starting at INSTANT, an
                 RFC 3339 time with its UTC offset, e.g. 2026-12-24T18:30:00+01:00
                 (the machine's time zone is TZ's, as always:
                 TZ=Europe/Berlin npm test -- --at 2027-03-28T01:50:00+01:00)
  -h, --help     print this and do nothing else

FUZZ_SECONDS=N sets each fuzz target's time (default 15).`;

const { values: options } = commandLine("npm test", USAGE, { options: { at: { type: "string" } } });
if (options.at !== undefined) process.exit(runAt(options.at));

const started = Date.now();
const shifted = process.env.SHIFTED_CLOCK_AT;
ensureTools();
if (shifted) await checkShiftedClock(shifted);

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

step("the release build, by `npm run setup -- --dry-run` (wrangler deploy --dry-run on the real wrangler.toml)");
deployDryRun();
step("end to end: the built worker in workerd");
// Two files at a time: most of their time is waiting on wrangler and
// workerd child processes (on 2 cores: 223 s instead of 330 s, same tests).
// The timeout bounds a file as a whole too: the CLI's, ~80 s alone, gets
// room for a busy machine.
run(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=300000", join("tests", "e2e")]);
step("smoke: npm start, then the seed's curl");
run(process.execPath, ["--test", "--test-timeout=300000", join("tests", "smoke")]);
const chromium = ensureChromium();
step("browser: the console in headless Chromium (screenshots in build/screenshots/)");
run(process.execPath, ["--test", "--test-timeout=120000", join("tests", "browser")], {
  env: { ...quietEnv, CHROMIUM_PATH: chromium },
});

// Bounded: 15 s per target, a minute for the four (node scripts/fuzz.mjs
// --seconds N for longer), so that npm test stays within its 20 minutes.
fuzz(Number(process.env.FUZZ_SECONDS ?? 15));

step("bench harness: a smoke run, so it cannot rot");
run(process.execPath, [join("bench", "run.mjs"), "--smoke"]);
// The paired comparison of two builds, here the build against itself.
run(process.execPath, [join("bench", "ab.mjs"), "build", "build", "--pairs", "1", "--seconds", "1"]);

console.log("\nwhere the time went:");
const finished = Date.now();
steps.forEach(({ message, began }, index) => {
  const seconds = ((steps[index + 1]?.began ?? finished) - began) / 1000;
  console.log(`  ${seconds.toFixed(0).padStart(5)} s  ${message}`);
});
const clock = shifted ? `, on a clock that started at ${shifted}` : "";
console.log(`\n✓ all tests passed in ${((finished - started) / 1000).toFixed(0)} s${clock}`);

/**
 * Runs this script again, without --at, with every child's wall clock
 * shifted so that it reads `instant` now. Answers the exit status.
 */
function runAt(instant) {
  const withOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  const target = Date.parse(instant);
  if (!withOffset.test(instant) || Number.isNaN(target)) {
    console.error(`npm test: --at ${JSON.stringify(instant)} is not an instant with its UTC offset, e.g. 2026-12-24T18:30:00+01:00`);
    return 2;
  }
  const source = join(root, "tests", "clock", "shifted-clock.c");
  const library = join(toolsDir, "shifted-clock.so");
  if (!existsSync(library) || statSync(library).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(toolsDir, { recursive: true });
    const compiled = spawnSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o", library, source], {
      stdio: "inherit",
    });
    if (compiled.error || compiled.status !== 0) {
      console.error(`npm test: --at needs a C compiler (cc) to build ${source}`);
      return 1;
    }
  }
  const offset = Math.round((target - Date.now()) / 1000);
  const preload = [library, process.env.LD_PRELOAD].filter(Boolean).join(":");
  console.log(`▶ every process of this run starts its wall clock at ${instant} (shifted by ${offset} s)`);
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, LD_PRELOAD: preload, SHIFTED_CLOCK_OFFSET: String(offset), SHIFTED_CLOCK_AT: instant },
  });
  return result.status ?? 1;
}

/**
 * Fails the run unless node and workerd both read the shifted clock: a
 * preload that silently did not take would prove nothing.
 */
async function checkShiftedClock(instant) {
  step(`the shifted clock: node and workerd read ${instant}`);
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch: () => new Response(String(Date.now())) };",
    compatibilityDate: "2026-01-01", // any date the bundled workerd knows: the script uses nothing dated
  });
  try {
    const workerd = Number(await (await mf.dispatchFetch("http://clock.test/")).text());
    const expected = Date.parse(instant);
    for (const [name, now] of [["node", Date.now()], ["workerd", workerd]]) {
      // The run started seconds ago: anything within ten minutes took.
      if (Math.abs(now - expected) > 600_000) {
        console.error(`✗ ${name} reads ${new Date(now).toISOString()}, not about ${new Date(expected).toISOString()}: the shifted clock did not take`);
        process.exit(1);
      }
      console.log(`  ${name.padEnd(7)} ${new Date(now).toISOString()}`);
    }
  } finally {
    await mf.dispose();
  }
}

/**
 * `npm run setup -- --dry-run`, the deploy path as a user runs it, without
 * an account: `wrangler deploy --dry-run`, for which wrangler runs
 * wrangler.toml's [build] command (the release build the end-to-end tests
 * then use) and reads the whole configuration as a deploy would — so a
 * configuration that cannot deploy cannot land. What wrangler says it would
 * bind is checked against what the router needs.
 */
function deployDryRun() {
  const result = spawnSync(process.execPath, [join("scripts", "setup.mjs"), "--dry-run"], { cwd: root, encoding: "utf8", env: quietEnv });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.error) throw result.error;
  const expected = ["env.ROUTES", "env.JOURNAL (sipgate-router-journal)", "--dry-run: exiting now.", "✓ dry run: the configuration deploys"];
  const missing = expected.filter((line) => !result.stdout.includes(line));
  if (result.status !== 0 || missing.length) {
    console.error(`✗ npm run setup -- --dry-run ${result.status !== 0 ? `exited with ${result.status}` : `did not say ${missing.join(", ")}`}`);
    process.exit(result.status || 1);
  }
}
