// Where the wasm's bytes go: its functions by the crate (and, for the
// router's own code, the module) their names start with, its data, and the
// rest of the module — raw bytes, and the deployed gzip size apportioned to
// them.
//
//   node scripts/wasm-size.mjs [FILE] [--top N]
//
// FILE is a wasm with its names section: the release build keeps a copy
// before the names are stripped (target/wasm-size/index_bg.wasm, written by
// scripts/build.mjs), and that is the default. bench/run.mjs puts the same
// table into bench/RESULTS.md.
//
// Gzip does not add up by parts (a part compresses against what precedes
// it), so each part's gzip share is its bytes gzipped alone, scaled so the
// parts sum to the whole file's gzip size: an apportioning, good for "where
// do 10 KiB go", not for "what would removing it save".

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(import.meta.dirname, "..");
/** Where scripts/build.mjs keeps the release wasm with its names. */
export const NAMED_WASM = join(root, "target", "wasm-size", "index_bg.wasm");

const SECTION_CODE = 10;
const SECTION_DATA = 11;
const SECTION_IMPORT = 2;
const SECTION_CUSTOM = 0;

/**
 * The module's sections, its function bodies with their names (imported
 * functions come first in the index space and have no body) and its data
 * segments. Throws on what is not a wasm module.
 *
 * @param {Uint8Array} bytes
 * @returns {{ sections: {id: number, name: string, size: number, bytes: Uint8Array}[], functions: {name: string, body: Uint8Array}[], data: Uint8Array[] }}
 */
export function readWasm(bytes) {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((byte, index) => bytes[index] !== byte)) throw new Error("not a wasm module (no \\0asm header)");
  let at = 8;
  const u32 = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length) throw new Error("truncated wasm (a LEB128 number runs past the end)");
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const name = () => {
    const length = u32();
    const text = Buffer.from(bytes.subarray(at, at + length)).toString("utf8");
    at += length;
    return text;
  };
  const limits = () => {
    const flags = bytes[at++];
    u32();
    if (flags & 1) u32();
  };

  const sections = [];
  const bodies = [];
  const data = [];
  const names = new Map();
  let imported = 0;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (end > bytes.length) throw new Error(`truncated wasm (section ${id} runs past the end)`);
    let sectionName = "";
    if (id === SECTION_CUSTOM) {
      sectionName = name();
      if (sectionName === "name") {
        while (at < end) {
          const subsection = bytes[at++];
          const subsectionEnd = u32() + at;
          if (subsection === 1) {
            for (let count = u32(); count > 0; count--) names.set(u32(), name());
          }
          at = subsectionEnd;
        }
      }
    } else if (id === SECTION_IMPORT) {
      for (let count = u32(); count > 0; count--) {
        name();
        name();
        const kind = bytes[at++];
        if (kind === 0) {
          u32();
          imported++;
        } else if (kind === 1) {
          at++; // the table's element type
          limits();
        } else if (kind === 2) {
          limits();
        } else if (kind === 3) {
          at += 2; // the global's type and mutability
        } else if (kind === 4) {
          at++; // a tag: its attribute, then its type
          u32();
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
      }
    } else if (id === SECTION_CODE) {
      for (let count = u32(); count > 0; count--) {
        const length = u32();
        bodies.push(bytes.subarray(at, at + length));
        at += length;
      }
    } else if (id === SECTION_DATA) {
      for (let count = u32(); count > 0; count--) {
        const flags = u32();
        if (flags === 2) u32(); // the memory's index
        if (flags !== 1) while (bytes[at++] !== 0x0b); // the offset expression, up to its `end`
        const length = u32();
        data.push(bytes.subarray(at, at + length));
        at += length;
      }
    }
    sections.push({ id, name: sectionName, size, bytes: bytes.subarray(start, end) });
    at = end;
  }
  const functions = bodies.map((body, index) => ({ name: names.get(imported + index) ?? `function ${imported + index}`, body }));
  return { sections, functions, data };
}

/**
 * The crate a function's name starts with — for the router's own code, with
 * its module (`sipgate_router::http::admin`). A trait method counts for the
 * type it is implemented on: `<&mut serde_json::de::Deserializer<R> as
 * serde_core::de::Deserializer>::deserialize_struct` is serde_json's,
 * `<core::iter::Map<I,F> as Iterator>::fold` core's, whatever closure it runs.
 * wasm-bindgen's exports and shims (`__wbg_…`, `__wbindgen_…`) are its own.
 */
export function ownerOf(functionName) {
  const path = withoutHashes(functionName).replace(/^__rustc::/, "std::");
  if (/^function \d+$/.test(path)) return "unnamed functions";
  if (!path.includes("::")) {
    // wasm-bindgen's exports (`fetch externref shim`), closures' and
    // imports' shims, and its intrinsics.
    if (/^(memcpy|memmove|memset|memcmp|bcmp)$/.test(path)) return "compiler_builtins";
    return "wasm_bindgen";
  }
  const crateOf = (typePath) => {
    const segments = typePath.replace(/^(&mut |&|\*const |\*mut |dyn |\(|\[)+/, "").split(/::|<|>|\s/).filter(Boolean);
    return segments.length < 2 ? null : segments;
  };
  let segments;
  if (path.startsWith("<")) {
    // `<Type as Trait>::method` or `<Type>::method`: the type's crate, or
    // the trait's when the type is a primitive or a parameter (`<str as
    // core::fmt::Debug>`, `<T as alloc::…::ConvertVec>`); a primitive's own
    // methods (`<char>::escape_debug_ext`) are core's.
    let depth = 0;
    let asAt = -1;
    let end = 1;
    for (; end < path.length; end++) {
      const char = path[end];
      if (char === "<") depth++;
      else if (char === ">" && depth-- === 0) break;
      else if (depth === 0 && asAt < 0 && path.startsWith(" as ", end)) asAt = end;
    }
    const selfType = path.slice(1, asAt < 0 ? end : asAt);
    const traitPath = asAt < 0 ? "" : path.slice(asAt + 4, end);
    segments = crateOf(selfType) ?? crateOf(traitPath) ?? ["core", "primitive"];
  } else {
    segments = crateOf(path) ?? ["wasm_bindgen"];
  }
  const [crate, ...rest] = segments;
  const depth = MODULE_DEPTH[crate];
  if (!depth) return crate;
  // The path's modules: without the item's own name and its closures.
  const modules = rest
    .filter((segment) => !/^\{\{/.test(segment))
    .slice(0, -1)
    .filter((segment) => /^[a-z_][a-z0-9_]*$/.test(segment) && segment !== "_");
  return [crate, ...modules.slice(0, depth)].join("::");
}

/** A symbol without rustc's hashes: `::h…` at its end, `[…]` after a crate's name. */
const withoutHashes = (name) => name.replace(/::h[0-9a-f]{16}$/, "").replace(/\[[0-9a-f]{16}\]/g, "");

/** The crates whose modules the table lists, and how deep. */
const MODULE_DEPTH = { sipgate_router: 2, core: 1, alloc: 1 };

/**
 * The custom sections a deployed worker does without: function names (a
 * third of the file, for stack traces) and the producers' note.
 */
export const STRIPPED_SECTIONS = ["name", "producers"];
const isStripped = (section) => section.id === SECTION_CUSTOM && STRIPPED_SECTIONS.includes(section.name);

/**
 * The module as deployed: the same bytes without STRIPPED_SECTIONS
 * (scripts/build.mjs). Cut out section by section rather than rewritten by
 * wasm-opt, whose encoding of the same code is 2.4 KB larger.
 */
export function withoutCustomSections(bytes) {
  const { sections } = readWasm(bytes);
  return Buffer.concat([bytes.subarray(0, 8), ...sections.filter((section) => !isStripped(section)).map((section) => section.bytes)]);
}

/**
 * The module's bytes by owner: each crate's (and each of the router's
 * modules') function bodies, the data segments, and the rest of the module
 * as deployed (types, imports, exports, the function table, headers: every
 * section but code, data and names), each with its raw size and its share
 * of the deployed file's gzip size.
 */
export function breakdown(bytes) {
  const { sections, functions, data } = readWasm(bytes);
  const deployed = withoutCustomSections(bytes);
  const groups = new Map();
  for (const { name, body } of functions) {
    const owner = ownerOf(name);
    const group = groups.get(owner) ?? { owner, functions: 0, parts: [], raw: 0 };
    group.functions++;
    group.parts.push(body);
    group.raw += body.length;
    groups.set(owner, group);
  }
  const rows = [...groups.values()];
  const dataRaw = data.reduce((sum, segment) => sum + segment.length, 0);
  rows.push({ owner: "data: strings, tables, constants", functions: 0, parts: data, raw: dataRaw });
  const accounted = rows.reduce((sum, row) => sum + row.raw, 0);
  const structure = sections.filter((section) => section.id !== SECTION_CODE && section.id !== SECTION_DATA && !isStripped(section));
  rows.push({ owner: "module structure: types, imports, exports, table, headers", functions: 0, parts: structure.map((section) => section.bytes), raw: deployed.length - accounted });
  const gzip = gzipSync(deployed, { level: 9 }).length;
  for (const row of rows) row.gzipAlone = gzipSync(Buffer.concat(row.parts), { level: 9 }).length;
  const gzipAloneTotal = rows.reduce((sum, row) => sum + row.gzipAlone, 0);
  for (const row of rows) {
    row.gzip = (row.gzipAlone / gzipAloneTotal) * gzip;
    delete row.parts;
    delete row.gzipAlone;
  }
  rows.sort((a, b) => b.raw - a.raw);
  return { rows, raw: deployed.length, gzip, functions: functions.length };
}

/** The largest function bodies: name and size. */
export function largestFunctions(bytes, count) {
  return readWasm(bytes)
    .functions.map(({ name, body }) => ({ name: withoutHashes(name), size: body.length }))
    .sort((a, b) => b.size - a.size)
    .slice(0, count);
}

/**
 * The breakdown as rows for a table, `[label, functions, KiB raw, KiB
 * gzip]`: each crate (its modules folded into one row, then listed under it
 * for this crate, core and alloc), largest first, with parts under 1 KiB of
 * gzip gathered into one row at each level.
 */
export function tableRows({ rows }) {
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  const sum = (parts, label) => ({
    label,
    functions: parts.reduce((total, part) => total + part.functions, 0),
    raw: parts.reduce((total, part) => total + part.raw, 0),
    gzip: parts.reduce((total, part) => total + part.gzip, 0),
  });
  const line = (part, indent = "") => [indent + part.label, part.functions ? String(part.functions) : "–", kib(part.raw), kib(part.gzip)];
  const crates = new Map();
  for (const row of rows) {
    const crate = row.owner.includes("::") || MODULE_DEPTH[row.owner] ? row.owner.split("::")[0] : row.owner;
    crates.set(crate, [...(crates.get(crate) ?? []), row]);
  }
  const tops = [...crates].map(([crate, parts]) => ({ ...sum(parts, MODULE_DEPTH[crate] ? `${crate} (${crate === "sipgate_router" ? "this crate" : "its modules below"})` : crate), crate, parts }));
  tops.sort((a, b) => b.gzip - a.gzip);
  const lines = [];
  const small = tops.filter((top) => top.gzip < 1024);
  for (const top of tops.filter((top) => top.gzip >= 1024)) {
    lines.push(line(top));
    if (!MODULE_DEPTH[top.crate]) continue;
    const modules = top.parts.map((part) => ({ ...part, label: part.owner === top.crate ? "(at the crate's root)" : part.owner.slice(top.crate.length + 2) })).sort((a, b) => b.gzip - a.gzip);
    for (const module of modules.filter((module) => module.gzip >= 1024)) lines.push(line(module, "  "));
    const rest = modules.filter((module) => module.gzip < 1024);
    if (rest.length) lines.push(line(sum(rest, `${rest.length} more modules under 1 KiB each`), "  "));
  }
  if (small.length) lines.push(line(sum(small, `${small.length} more crates under 1 KiB each (${small.map((top) => top.crate).join(", ")})`)));
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const usage = `node scripts/wasm-size.mjs [FILE] [--top N]: where a wasm's bytes go, by crate and by the router's modules

  FILE      a wasm with its names section (default: ${NAMED_WASM.replace(root + "/", "")},
            kept by the release build, npm run build)
  --top N   also the N largest functions
  -h, --help  print this and do nothing else`;
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    process.exit(0);
  }
  let file = NAMED_WASM;
  let top = 0;
  for (let index = 0; index < args.length; index++) {
    if (args[index] === "--top") {
      top = Number(args[++index]);
      if (!Number.isInteger(top) || top < 1) {
        console.error(`wasm-size: --top takes a whole number above 0, not ${args[index] ?? "nothing"}\n\n${usage}`);
        process.exit(2);
      }
    } else if (args[index].startsWith("-")) {
      console.error(`wasm-size: no option ${args[index]}\n\n${usage}`);
      process.exit(2);
    } else {
      file = args[index];
    }
  }
  if (!existsSync(file)) {
    console.error(`wasm-size: no file ${file}${file === NAMED_WASM ? " (npm run build writes it)" : ""}`);
    process.exit(2);
  }
  const bytes = readFileSync(file);
  let result;
  try {
    result = breakdown(bytes);
  } catch (error) {
    console.error(`wasm-size: ${file}: ${error.message}`);
    process.exit(2);
  }
  if (!readWasm(bytes).sections.some(({ name }) => name === "name")) {
    console.error(`wasm-size: ${file} has no names section: every function counts as unnamed (KEEP_WASM_NAMES=1 npm run build keeps them in build/)`);
  }
  console.log(`${file}: ${result.functions} functions; without its names ${(result.raw / 1024).toFixed(1)} KiB raw, ${(result.gzip / 1024).toFixed(1)} KiB gzip\n`);
  console.log(`${"part".padEnd(64)} ${"functions".padStart(9)} ${"KiB raw".padStart(8)} ${"KiB gzip".padStart(8)}`);
  for (const [label, functions, raw, gzip] of tableRows(result)) console.log(`${label.padEnd(64)} ${functions.padStart(9)} ${raw.padStart(8)} ${gzip.padStart(8)}`);
  if (top) {
    console.log(`\nthe ${top} largest functions (bytes of code):`);
    for (const { name, size } of largestFunctions(bytes, top)) console.log(`${String(size).padStart(7)}  ${name}`);
  }
}
