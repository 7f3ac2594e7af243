// The README and docs/ as a newcomer follows them: every relative link
// leads to a file (and a heading) that exists, and every command they quote
// exists as written — `npm run X` in package.json, each `npm run rules --`
// command and its flags in the CLI's own --help, `npm start -- …` and
// `npm test -- …` flags in theirs, and each `npx wrangler …` command and
// flag in the pinned wrangler's help.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import { root, runCli } from "./harness.mjs";

const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => join("docs", name))];
const text = Object.fromEntries(pages.map((page) => [page, readFileSync(join(root, page), "utf8")]));

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");

function anchors(markdown) {
  const found = new Set();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading) found.add(slug(heading[1].replace(/`/g, "")));
  }
  return found;
}

/** The lines of code a page shows: fenced blocks and inline `code`, output comments dropped. */
function codeLines(markdown) {
  const lines = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      fenced = !fenced;
      continue;
    }
    if (fenced) lines.push(line.replace(/\s+#.*$/, ""));
    else for (const match of line.matchAll(/`([^`]+)`/g)) lines.push(match[1]);
  }
  return lines.filter((line) => !line.trimStart().startsWith("#"));
}

const commands = (pattern) => pages.flatMap((page) => codeLines(text[page]).flatMap((line) => [...line.matchAll(pattern)].map((match) => ({ page, match }))));
const flagsOf = (line) => [...line.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((match) => match[1]);
const helpFlags = (help) => new Set([...help.matchAll(/(--[a-z][a-z0-9-]*)/g)].map((match) => match[1]));

describe("the README and docs/", () => {
  test("every relative link leads to a file that exists, and an anchor to a heading of it", () => {
    const broken = [];
    for (const page of pages) {
      for (const [, target] of text[page].matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split("#");
        const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
        if (!existsSync(file)) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (anchor && !(statSync(file).isFile() && anchors(readFileSync(file, "utf8")).has(anchor))) {
          broken.push(`${page}: ${target} (no heading #${anchor} in ${relative(root, file)})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  test("the README stays a door: at most 8 KB, linking to every page of docs/", () => {
    const readme = text["README.md"];
    assert.ok(Buffer.byteLength(readme) <= 8 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
    for (const page of pages.filter((page) => page !== "README.md")) {
      assert.ok(readme.includes(`](${page})`), `README.md does not link ${page}`);
    }
  });

  test("every `npm run …` script quoted exists in package.json", () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts);
    const missing = commands(/npm run ([\w:-]+)/g)
      .filter(({ match }) => !scripts.includes(match[1]))
      .map(({ page, match }) => `${page}: npm run ${match[1]}`);
    assert.deepEqual(missing, []);
  });

  test("every CLI command quoted exists, with every flag it is quoted with", () => {
    const helps = new Map();
    const problems = [];
    for (const { page, match } of commands(/(?:npm run rules --|sipgate-rules) ([a-z][a-z-]*)([^|;&]*)/g)) {
      const [, command, rest] = match;
      if (!helps.has(command)) {
        const help = runCli([command, "--help"]);
        helps.set(command, help.status === 0 ? helpFlags(help.stdout) : null);
      }
      const known = helps.get(command);
      if (!known) {
        problems.push(`${page}: sipgate-rules ${command} is not a command`);
        continue;
      }
      for (const flag of flagsOf(rest)) if (!known.has(flag)) problems.push(`${page}: sipgate-rules ${command} has no ${flag}`);
    }
    assert.ok(helps.size >= 10, `only ${helps.size} commands quoted`);
    assert.deepEqual(problems, []);
  });

  test("npm start and npm test take every flag they are quoted with", () => {
    const problems = [];
    for (const [script, file] of [["start", "start.mjs"], ["test", "test.mjs"]]) {
      const help = spawnSync(process.execPath, [join(root, "scripts", file), "--help"], { cwd: root, encoding: "utf8" });
      assert.equal(help.status, 0, help.stderr);
      const known = helpFlags(help.stdout);
      for (const { page, match } of commands(new RegExp(`npm ${script} -- ([^|;&]*)`, "g"))) {
        for (const flag of flagsOf(` ${match[1]}`)) if (!known.has(flag)) problems.push(`${page}: npm ${script} has no ${flag}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test("every wrangler command quoted exists in the pinned wrangler, with its flags", () => {
    const wrangler = join(root, "node_modules", ".bin", "wrangler");
    const helps = new Map();
    const problems = [];
    for (const { page, match } of commands(/npx wrangler ([^|;&]*)/g)) {
      const words = match[1].trim().split(/\s+/);
      const command = [];
      for (const word of words) {
        if (!/^[a-z][a-z0-9]*$/.test(word)) break;
        command.push(word);
      }
      const key = command.join(" ");
      if (!helps.has(key)) {
        const help = spawnSync(wrangler, [...command, "--help"], { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } });
        // wrangler prints the help of the nearest command it knows: the quoted one must be its first line.
        const named = help.stdout.split("\n").find((line) => line.trim())?.trim() ?? "";
        helps.set(key, help.status === 0 && named.startsWith(`wrangler ${key}`) ? helpFlags(help.stdout) : null);
      }
      const known = helps.get(key);
      if (!known) {
        problems.push(`${page}: wrangler ${key} is not a command of the pinned wrangler`);
        continue;
      }
      for (const flag of flagsOf(match[1])) if (!known.has(flag)) problems.push(`${page}: wrangler ${key} has no ${flag}`);
    }
    assert.ok(helps.size >= 5, `only ${helps.size} wrangler commands quoted`);
    assert.deepEqual(problems, []);
  });
});
