// `npm run setup`: from a Cloudflare login to a deployed router, in one
// command that is safe to run again. What it does, in order:
//
//   1. checks the wrangler login (`wrangler whoami --json`);
//   2. reads which secrets the deployed worker has (`wrangler secret list`;
//      none before the first deploy) and makes the ones it lacks: a strong
//      ADMIN_TOKEN, and the basic-auth pair — both halves together, never
//      one (a half pair refuses every push);
//   3. deploys once (`wrangler deploy --secrets-file …`): wrangler runs the
//      build, creates the KV namespace and the D1 database on the first
//      deploy and writes their ids into wrangler.toml, and uploads the new
//      secrets with the worker — from a file of this machine's temporary
//      directory, readable by its owner only, deleted at once;
//   4. creates the journal's table (`wrangler d1 migrations apply JOURNAL --remote`);
//   5. keeps what it made in `.deploy.env` (git-ignored, owner-only): the
//      admin token, the basic-auth pair and the URL to enter at sipgate with
//      its credentials — printed nowhere — and says what to do next.
//
// Run again, it finds the secrets there and deploys without new ones.
// `--dry-run`: no account needed — `wrangler deploy --dry-run`, and what
// would be done. For the tests: SIPGATE_ROUTER_WRANGLER names another
// wrangler, SIPGATE_ROUTER_DEPLOY_ENV another file than .deploy.env.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bin, commandLine, ensureTools, quietEnv, root } from "./tools.mjs";

const USAGE = `npm run setup [-- OPTIONS]: deploy the router to your Cloudflare account, or bring a deployment
up to date — safe to run again (docs/deploy.md)

  --dry-run          no account needed: build, check the configuration with wrangler deploy --dry-run,
                     and say what would be done
  --no-basic-auth    do not make a basic-auth pair (the signature check alone protects the webhook)
  -h, --help         print this and do nothing else

What it makes is kept in .deploy.env (git-ignored, readable by you only): the admin token, the
basic-auth pair, and the URL to enter at sipgate.`;

/** The secrets a deployment needs, and the file that keeps them on this machine. */
const ENV_FILE = process.env.SIPGATE_ROUTER_DEPLOY_ENV ?? join(root, ".deploy.env");
const BASIC_USER = "sipgate";

const { values: options } = commandLine("npm run setup", USAGE, {
  options: {
    "dry-run": { type: "boolean", default: false },
    "no-basic-auth": { type: "boolean", default: false },
  },
});

const wrangler = process.env.SIPGATE_ROUTER_WRANGLER ?? bin.wrangler;
if (!process.env.SIPGATE_ROUTER_WRANGLER) ensureTools();
const dryRun = options["dry-run"];

/** Runs wrangler; its output captured (shown when `show`). */
function run(args, { show = false } = {}) {
  const result = spawnSync(wrangler, args, { cwd: root, encoding: "utf8", env: { ...quietEnv, CI: "true" } });
  if (result.error) throw result.error;
  if (show) {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
  }
  return result;
}

function fail(message) {
  console.error(`✗ ${message}`);
  process.exit(1);
}

/** `.deploy.env` as KEY=VALUE pairs (values without quotes or newlines). */
function readEnvFile() {
  if (!existsSync(ENV_FILE)) return {};
  return Object.fromEntries(
    readFileSync(ENV_FILE, "utf8")
      .split("\n")
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter(Boolean)
      .map(([, key, value]) => [key, value]),
  );
}

function writeEnvFile(values) {
  const lines = [
    "# What npm run setup made for the deployed router (git-ignored; keep a copy in a password manager).",
    ...Object.entries(values).map(([key, value]) => `${key}=${value}`),
  ];
  writeFileSync(ENV_FILE, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(ENV_FILE, 0o600);
}

const step = (text) => console.log(`\n▶ ${text}`);

// 1. The login.
step("the Cloudflare login");
if (dryRun) {
  console.log("  not checked (--dry-run)");
} else {
  const whoami = run(["whoami", "--json"]);
  let login = {};
  try {
    login = JSON.parse(whoami.stdout.slice(whoami.stdout.indexOf("{")));
  } catch {
    // not JSON: not logged in, or wrangler failed
  }
  if (!login.loggedIn) fail("wrangler is not logged in to Cloudflare: run `npx wrangler login`, then `npm run setup` again");
  console.log(`  logged in${login.email ? ` as ${login.email}` : ""}`);
}

// 2. The secrets: those the worker has, and those to make.
step("the secrets");
let present = [];
if (!dryRun) {
  const listed = run(["secret", "list", "--format", "json"]);
  if (listed.status === 0) {
    try {
      present = JSON.parse(listed.stdout.slice(listed.stdout.indexOf("["))).map((secret) => secret.name);
    } catch {
      fail(`wrangler secret list answered what this script cannot read:\n${listed.stdout}`);
    }
  } else if (!/not found|does not exist|10007/i.test(listed.stdout + listed.stderr)) {
    fail(`wrangler secret list failed:\n${listed.stdout}${listed.stderr}`);
  }
}
const kept = readEnvFile();
const has = (name) => present.includes(name);
const made = {};
if (!has("ADMIN_TOKEN")) made.ADMIN_TOKEN = kept.ADMIN_TOKEN ?? randomBytes(32).toString("hex");
const wantBasic = !options["no-basic-auth"];
const pair = ["BASIC_AUTH_USER", "BASIC_AUTH_PASSWORD"].filter(has);
if (wantBasic && pair.length < 2) {
  if (pair.length === 1) console.log(`  the worker has ${pair[0]} without the other half (every push refused): both are set again`);
  made.BASIC_AUTH_USER = kept.BASIC_AUTH_USER ?? BASIC_USER;
  made.BASIC_AUTH_PASSWORD = kept.BASIC_AUTH_PASSWORD ?? randomBytes(24).toString("hex");
} else if (!wantBasic && pair.length === 1) {
  fail(`the worker has ${pair[0]} without the other half, so it refuses every push: run without --no-basic-auth to set both, or npx wrangler secret delete ${pair[0]}`);
}
for (const name of ["ADMIN_TOKEN", "BASIC_AUTH_USER", "BASIC_AUTH_PASSWORD"]) {
  const making = made[name] !== undefined && (has(name) ? "set again" : "made");
  const state = making ? (dryRun ? `would be ${making} (not known: --dry-run reads no account)` : making) : has(name) ? "kept (the worker has it)" : "not used";
  console.log(`  ${name.padEnd(20)} ${state}`);
}

// 3. One deploy, with the new secrets.
step(dryRun ? "wrangler deploy --dry-run (the build, and the configuration as a deploy reads it)" : "wrangler deploy (the build, KV and D1 created on the first deploy, the new secrets)");
const args = ["deploy"];
let secretsDir;
if (Object.keys(made).length && !dryRun) {
  secretsDir = mkdtempSync(join(tmpdir(), "sipgate-router-secrets-"));
  const file = join(secretsDir, "secrets.json");
  writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
  args.push("--secrets-file", file);
}
if (dryRun) args.push("--dry-run");
let deployed;
try {
  deployed = run(args, { show: true });
} finally {
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
}
if (deployed.status !== 0) fail("wrangler deploy failed (above): nothing else was done");
const url = /https:\/\/[^\s]+\.workers\.dev/.exec(deployed.stdout)?.[0] ?? kept.ROUTER_URL;

// 4. The journal's table.
step("the journal's table (D1 migrations)");
const journal = /^\s*binding\s*=\s*"JOURNAL"/m.test(readFileSync(join(root, "wrangler.toml"), "utf8"));
if (!journal) {
  console.log("  no JOURNAL binding in wrangler.toml: the router runs without a journal");
} else if (dryRun) {
  console.log("  would run: npx wrangler d1 migrations apply JOURNAL --remote");
} else {
  const migrated = run(["d1", "migrations", "apply", "JOURNAL", "--remote"], { show: true });
  if (migrated.status !== 0) fail("the migrations failed (above): the worker is deployed, the journal's writes fail until they are applied");
}

if (dryRun) {
  console.log("\n✓ dry run: the configuration deploys; nothing was changed in any account");
  process.exit(0);
}

// 5. What was made, kept on this machine only; what to do next.
const values = { ...kept, ...made };
if (url) values.ROUTER_URL = url;
if (url && values.BASIC_AUTH_USER && values.BASIC_AUTH_PASSWORD) {
  const host = url.replace(/^https:\/\//, "");
  values.SIPGATE_WEBHOOK_URL = `https://${encodeURIComponent(values.BASIC_AUTH_USER)}:${encodeURIComponent(values.BASIC_AUTH_PASSWORD)}@${host}/`;
}
if (values.ADMIN_TOKEN) values.SIPGATE_ROUTER_TOKEN = values.ADMIN_TOKEN;
writeEnvFile(values);

console.log(`\n✓ deployed${url ? `: ${url}` : ""}`);
console.log(`  The secrets are in .deploy.env (git-ignored, readable by you only), never printed.`);
if (values.SIPGATE_WEBHOOK_URL) {
  const masked = values.SIPGATE_WEBHOOK_URL.replace(/:[^:@/]+@/, ":••••••@");
  console.log(`  At sipgate (sipgate.io webhook settings), for incoming and outgoing calls, enter ${masked}`);
  console.log("  — the whole URL, password included, is SIPGATE_WEBHOOK_URL in .deploy.env.");
} else if (has("BASIC_AUTH_USER")) {
  console.log(`  At sipgate, enter ${url ?? "the worker's URL"} with the basic-auth credentials you set: https://USER:PASSWORD@…/`);
} else {
  console.log(`  At sipgate (sipgate.io webhook settings), enter ${url ?? "the worker's URL"} for incoming and outgoing calls.`);
}
console.log("  Next: publish your rules, then check the deployment:");
console.log("    npm run rules -- publish my-rules.json --remote");
console.log(`    set -a; . ./.deploy.env; set +a; npm run rules -- doctor --url ${url ?? "URL"}`);
