// `npm start`: install what is missing, publish the office example
// (examples/office.json) into the local KV, create the call journal's table
// in the local D1, and serve the worker on
// 127.0.0.1 with `wrangler dev` (which builds it through the [build] command
// in wrangler.toml and rebuilds on changes under src/). Locally the isolate
// does not cache the rules pointer (RULES_CACHE_SECONDS=0), so a publish
// shows on the next push, and does not check sipgate's signature
// (SIGNATURE_CHECK=off), so the seed's unsigned curl works. The console
// is at /admin/, signed in with the local ADMIN_TOKEN from .dev.vars
// (git-ignored; created with a random token when missing), which it prints.
//
//   npm start                                   127.0.0.1:8787, state in .wrangler/state
//   npm start -- --port 8788 --persist-to DIR   another port / another local store
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, buildCli, commandLine, ensureTools, quietEnv, root, run, start, step } from "./tools.mjs";

/** The shortest ADMIN_TOKEN the worker accepts (src/trust/access.rs). */
const MIN_ADMIN_TOKEN_CHARS = 32;

/**
 * The local ADMIN_TOKEN: read from .dev.vars (which wrangler dev reads),
 * added to it — never replacing what is there — when it has none.
 */
function localAdminToken() {
  const file = join(root, ".dev.vars");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const line = text.split("\n").find((candidate) => /^\s*ADMIN_TOKEN\s*=/.test(candidate));
  if (line) {
    const value = line.slice(line.indexOf("=") + 1).trim().replace(/^(["'])(.*)\1$/, "$2");
    return { token: value, created: false };
  }
  const token = randomBytes(24).toString("hex");
  const entry = `# The admin API's and the console's token for npm start (git-ignored).\nADMIN_TOKEN="${token}"\n`;
  if (text) appendFileSync(file, `${text.endsWith("\n") ? "" : "\n"}${entry}`);
  else writeFileSync(file, entry, { mode: 0o600 });
  return { token, created: true };
}

const USAGE = `npm start [-- OPTIONS]: build, publish examples/office.json into a local KV, serve on 127.0.0.1
(the console at /admin/, its local token from .dev.vars, printed)

  --port N             the port (default 8787)
  --persist-to DIR     another local store (default .wrangler/state)
  --signature-check on verify sipgate's signature on every push, as a deployment does (for
                       calls through a tunnel, docs/deploy.md); default off, so that curl works
  -h, --help           print this and do nothing else`;

const { values: options } = commandLine(
  "npm start",
  USAGE,
  {
    options: {
      port: { type: "string", default: "8787" },
      "persist-to": { type: "string" },
      "signature-check": { type: "string", default: "off" },
    },
  },
  (values) => {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port ${values.port} is not a port (1-65535)`);
    if (!["on", "off"].includes(values["signature-check"])) throw new Error(`--signature-check takes on or off, not ${values["signature-check"]}`);
  },
);
const persist = options["persist-to"] ? ["--persist-to", options["persist-to"]] : [];

ensureTools();
step("publishing examples/office.json into the local KV (binding ROUTES)");
buildCli();
run(bin.cli, ["publish", "examples/office.json", ...persist]);
step("creating the call journal's table in the local D1 (binding JOURNAL)");
// Non-interactive (CI=true): wrangler would otherwise ask before applying.
run(bin.wrangler, ["d1", "migrations", "apply", "JOURNAL", "--local", ...persist], {
  env: { ...quietEnv, CI: "true" },
});

const admin = localAdminToken();

step(`serving on http://127.0.0.1:${options.port} (Ctrl-C stops)`);
console.log(`  console: http://127.0.0.1:${options.port}/admin/`);
if (admin.token.length >= MIN_ADMIN_TOKEN_CHARS) {
  console.log(`  its local token (.dev.vars${admin.created ? ", just created" : ""}): ${admin.token}`);
} else {
  console.log(`  .dev.vars has an ADMIN_TOKEN of ${admin.token.length} characters, fewer than ${MIN_ADMIN_TOKEN_CHARS}: the console and the admin API are off until it is longer`);
}
if (options["signature-check"] === "on") {
  console.log("  SIGNATURE_CHECK is ON: only pushes signed by sipgate are answered (unsigned curl gets 403).");
} else {
  console.log("  SIGNATURE_CHECK is OFF for local development: unsigned pushes (curl) are accepted here.");
  console.log("  Deployed workers check X-Sipgate-Signature (wrangler.toml: SIGNATURE_CHECK = \"on\").");
}
console.log(
  `  try: curl -X POST --data "from=492111234567&to=4921100000&direction=in" http://127.0.0.1:${options.port}`,
);
const dev = start(
  bin.wrangler,
  [
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    options.port,
    "--var",
    "RULES_CACHE_SECONDS:0",
    // The seed's curl is unsigned: locally, and only locally, the signature
    // check is off (wrangler.toml keeps it on for deployments).
    "--var",
    `SIGNATURE_CHECK:${options["signature-check"]}`,
    "--show-interactive-dev-session=false",
    ...persist,
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => dev.kill(signal));
}
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
