// Runs every cargo-fuzz target for a bounded time and reports how many
// inputs each executed. npm test runs it briefly; run it longer by hand:
//
//   node scripts/fuzz.mjs                 20 s per target (npm test: 15 s)
//   node scripts/fuzz.mjs --seconds 600   the long run
//
// Needs the nightly toolchain (installed with rustup if missing) and
// cargo-fuzz (installed into .tools/ if missing). Crashes stop the run and
// leave the input in fuzz/artifacts/<target>/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { commandLine, ensureFuzzTools, quietEnv, root, step, toolsDir } from "./tools.mjs";

export const TARGETS = ["push_endpoint", "rules_document", "compact_shard", "xml_writer"];

export function fuzz(seconds) {
  ensureFuzzTools();
  const env = { ...quietEnv, PATH: `${join(toolsDir, "bin")}:${process.env.PATH}` };
  const results = [];
  for (const target of TARGETS) {
    step(`fuzzing ${target} for ${seconds} s`);
    const corpus = join(root, "fuzz", "corpus", target);
    mkdirSync(corpus, { recursive: true });
    const seeds = join(root, "fuzz", "seeds", target);
    const inputs = existsSync(seeds) ? [corpus, seeds] : [corpus];
    const result = spawnSync(
      "cargo",
      ["+nightly", "fuzz", "run", target, ...inputs, "--", `-max_total_time=${seconds}`, "-print_final_stats=1"],
      { cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${result.stdout}${result.stderr}`;
    const executed = output.match(/stat::number_of_executed_units:\s*(\d+)/);
    if (result.status !== 0 || !executed) {
      console.error(output.split("\n").slice(-60).join("\n"));
      console.error(`✗ fuzz target ${target} failed (exit ${result.status})`);
      process.exit(1);
    }
    const coverage = output.match(/cov: (\d+)/g)?.pop() ?? "";
    results.push({ target, executions: Number(executed[1]), coverage });
    console.log(`  ${target}: ${Number(executed[1]).toLocaleString("en")} executions in ${seconds} s, ${coverage}`);
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const usage = "node scripts/fuzz.mjs [--seconds N]: every fuzz target for N seconds (default 20)";
  const { values } = commandLine("fuzz", usage, { options: { seconds: { type: "string", default: "20" } } }, ({ seconds }) => {
    if (!(Number(seconds) > 0)) throw new Error(`--seconds takes a number above 0, not ${seconds}`);
  });
  fuzz(Number(values.seconds));
}
