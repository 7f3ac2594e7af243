// Installs what building and testing need, only when it is missing, and
// never from GitHub: the wasm32 target (rustup), worker-build and the
// wasm-bindgen CLI at exactly the Cargo.lock version (cargo, into .tools/),
// and the npm packages (npm ci). Also the shared helpers the other scripts use.
import { spawnSync, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const toolsDir = join(root, ".tools");
export const bin = {
  workerBuild: join(toolsDir, "bin", "worker-build"),
  wasmBindgen: join(toolsDir, "bin", "wasm-bindgen"),
  wasmBindgenTestRunner: join(toolsDir, "bin", "wasm-bindgen-test-runner"),
  wasmOpt: join(root, "node_modules", ".bin", "wasm-opt"),
  esbuild: join(root, "node_modules", ".bin", "esbuild"),
  wrangler: join(root, "node_modules", ".bin", "wrangler"),
  /** The rules CLI (src/main.rs), built by buildCli(). */
  cli: join(root, "target", "debug", "sipgate-rules"),
};

/** Environment for every child: no telemetry, no fetches of request metadata. */
export const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // worker-build uses these instead of downloading from GitHub.
  WASM_BINDGEN_BIN: bin.wasmBindgen,
  WASM_OPT_BIN: bin.wasmOpt,
  ESBUILD_BIN: bin.esbuild,
};

/** Every step announced so far, with when it began (ms since the epoch). */
export const steps = [];

/**
 * A script's command line, as every script here reads it: node:util's
 * `parseArgs` with `config` (strict: an unknown option is an error) and
 * `-h`/`--help`, then `check(values, positionals)`, which throws a message
 * for a wrong argument. `--help` prints `usage` and exits 0 before anything
 * is checked or done; a wrong argument is printed with the usage and exits 2.
 */
export function commandLine(name, usage, config, check = () => {}) {
  try {
    const { values, positionals } = parseArgs({ ...config, options: { ...config.options, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
    check(values, positionals);
    return { values, positionals };
  } catch (error) {
    console.error(`${name}: ${error.message}\n\n${usage}`);
    process.exit(2);
  }
}

export function step(message) {
  steps.push({ message, began: Date.now() });
  console.log(`\n▶ ${message}`);
}

/** Runs a command to completion, inheriting stdio; exits the process on failure. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: quietEnv, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`✗ ${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
    process.exit(result.status || 1);
  }
}

/** Runs a command and returns its stdout, or null if it cannot run. */
function output(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", env: quietEnv });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** The version of `name` that Cargo.lock pins. */
export function lockedVersion(name) {
  const lock = readFileSync(join(root, "Cargo.lock"), "utf8");
  const match = lock.match(new RegExp(`\\[\\[package\\]\\]\\nname = "${name}"\\nversion = "([^"]+)"`));
  if (!match) throw new Error(`${name} is not in Cargo.lock`);
  return match[1];
}

function ensureWasmTarget() {
  const installed = output("rustup", ["target", "list", "--installed"]) ?? "";
  if (!installed.split("\n").includes("wasm32-unknown-unknown")) {
    step("installing the Rust target wasm32-unknown-unknown");
    run("rustup", ["target", "add", "wasm32-unknown-unknown"]);
  }
}

/**
 * `unoptimized`: compiled without optimizations, for a tool whose own work
 * is small beside what it runs — worker-build only runs cargo, wasm-bindgen,
 * wasm-opt and esbuild and writes a few files: unoptimized it installs in
 * 58 s instead of 183 s (it was most of a clean `npm test`'s tool installs)
 * and builds the same worker, byte for byte, in the same time. Not
 * wasm-bindgen-cli: its test runner takes 3.5 s optimized, 10.4 s not, on
 * every `npm test`.
 */
function ensureCargoTool(crate, version, executable, { unoptimized = false } = {}) {
  const current = existsSync(executable) ? output(executable, ["--version"]) : null;
  if (current && current.split(/\s+/).includes(version)) return;
  step(`installing ${crate} ${version} into .tools/ (once; ${unoptimized ? "about a minute" : "a few minutes"})`);
  const profile = unoptimized
    ? { CARGO_PROFILE_RELEASE_OPT_LEVEL: "0", CARGO_PROFILE_RELEASE_LTO: "false", CARGO_PROFILE_RELEASE_CODEGEN_UNITS: "16" }
    : {};
  // No --locked: wasm-bindgen-cli's lock file names a crate version the
  // registry mirror here does not serve. The shared target dir lets the
  // installs reuse each other's builds.
  run("cargo", ["install", "--quiet", "--root", toolsDir, "--version", version, "--force", crate], {
    env: { ...quietEnv, ...profile, CARGO_TARGET_DIR: join(toolsDir, "cargo-target") },
  });
}

function ensureNpmPackages() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  step("installing npm packages (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

/** Everything a build or test needs; cheap when all is there. */
export function ensureTools() {
  ensureNpmPackages();
  ensureWasmTarget();
  // worker-build moves in step with the worker crate it builds.
  ensureCargoTool("worker-build", lockedVersion("worker"), bin.workerBuild, { unoptimized: true });
  // wasm-bindgen refuses to process output of another version of the library.
  ensureCargoTool("wasm-bindgen-cli", lockedVersion("wasm-bindgen"), bin.wasmBindgen);
}

/** cargo-fuzz and the nightly toolchain it needs, for scripts/fuzz.mjs. */
export function ensureFuzzTools() {
  const toolchains = output("rustup", ["toolchain", "list"]) ?? "";
  if (!toolchains.split("\n").some((line) => line.startsWith("nightly"))) {
    step("installing the nightly Rust toolchain (for cargo-fuzz)");
    run("rustup", ["toolchain", "install", "nightly", "--profile", "minimal"]);
  }
  ensureCargoTool("cargo-fuzz", "0.13.2", join(toolsDir, "bin", "cargo-fuzz"));
}

/**
 * Debian's Chromium, for the console's browser tests (tests/browser/):
 * CHROMIUM_PATH, or /usr/bin/chromium — installed with apt-get when
 * missing and running as root (as on CI). Otherwise the run stops with how
 * to install it: the browser tests are never skipped, and nothing
 * downloads a browser of its own.
 */
export function ensureChromium() {
  const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (existsSync(path)) return path;
  if (process.env.CHROMIUM_PATH) {
    console.error(`✗ CHROMIUM_PATH=${path} does not exist`);
    process.exit(1);
  }
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    step("installing Debian's chromium for the browser tests (once)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    // Recommends left out: printing, power and GPU packages a headless test never uses.
    const install = () =>
      spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-liberation"], { stdio: "inherit", env });
    if (install().status !== 0) {
      run("apt-get", ["update", "-q"], { env });
      install();
    }
    if (existsSync(path)) return path;
  }
  console.error(
    "✗ the browser tests need Chromium and it is not installed: as root, `apt-get install chromium` (Debian's package), " +
      "or set CHROMIUM_PATH to a Chromium binary. The tests never download a browser.",
  );
  process.exit(1);
}

/** Builds the rules CLI (check, simulate, publish, …) for the host. */
export function buildCli() {
  run("cargo", ["build", "--quiet", "--bin", "sipgate-rules"]);
}

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a long-running child; the caller stops it. */
export function start(command, args, options = {}) {
  return spawn(command, args, { cwd: root, env: quietEnv, ...options });
}
