// The size breakdown (scripts/wasm-size.mjs): a module written here byte by
// byte, each part's owner by the rules RESULTS.md states, and the release
// build itself — the deployed wasm is the named one without its names, and
// the breakdown's parts add up to it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { breakdown, NAMED_WASM, ownerOf, readWasm, tableRows, withoutCustomSections } from "../../scripts/wasm-size.mjs";
import { root } from "./harness.mjs";

const leb = (value) => {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value) byte |= 0x80;
    bytes.push(byte);
  } while (value);
  return bytes;
};
const text = (string) => [...leb(Buffer.byteLength(string)), ...Buffer.from(string)];
const vector = (items) => [...leb(items.length), ...items.flat()];
const section = (id, contents) => [id, ...leb(contents.length), ...contents];

/**
 * A module importing one function and defining three (bodies of 4, 3 and
 * 130 bytes: the last one's length takes two LEB128 bytes), one data segment
 * of 5 bytes, names for the import and two of the three, and a producers
 * section.
 */
function tinyModule() {
  const nop = 0x01;
  const end = 0x0b;
  const body = (instructions) => [...leb(instructions.length + 2), 0x00, ...instructions, end];
  const names = vector([
    [...leb(0), ...text("env::imported")],
    [...leb(1), ...text("sipgate_router::http::admin::respond::{{closure}}::h0123456789abcdef")],
    [...leb(3), ...text("<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_struct::hfedcba9876543210")],
  ]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[0x60, 0x00, 0x00]])),
    ...section(2, vector([[...text("env"), ...text("f"), 0x00, 0x00]])),
    ...section(3, vector([[0x00], [0x00], [0x00]])),
    ...section(5, vector([[0x00, 0x01]])),
    ...section(10, vector([body([nop, nop]), body([nop]), body(Array(128).fill(nop))])),
    ...section(11, vector([[0x00, 0x41, 0x00, end, ...leb(5), ...Buffer.from("hello")]])),
    ...section(0, [...text("name"), ...section(1, names)]),
    ...section(0, [...text("producers"), 0x00]),
  ]);
}

describe("reading a module", () => {
  test("bodies, their names (imports first in the index space), data and sections", () => {
    const { functions, data, sections } = readWasm(tinyModule());
    assert.deepEqual(
      functions.map(({ name, body }) => [name, body.length]),
      [
        ["sipgate_router::http::admin::respond::{{closure}}::h0123456789abcdef", 4],
        ["function 2", 3],
        ["<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_struct::hfedcba9876543210", 130],
      ],
    );
    assert.deepEqual(data.map((segment) => Buffer.from(segment).toString()), ["hello"]);
    assert.deepEqual(sections.map(({ id, name }) => (id === 0 ? name : id)), [1, 2, 3, 5, 10, 11, "name", "producers"]);
  });

  test("the deployed module: the same sections, without names and producers", () => {
    const module = tinyModule();
    const stripped = withoutCustomSections(module);
    const before = readWasm(module);
    const after = readWasm(stripped);
    assert.deepEqual(after.sections.map(({ id }) => id), [1, 2, 3, 5, 10, 11]);
    assert.deepEqual(after.functions.map(({ body }) => Buffer.from(body)), before.functions.map(({ body }) => Buffer.from(body)));
    assert.ok(after.functions.every(({ name }) => name.startsWith("function ")));
  });

  test("what is not a module, or is cut short, is refused with the reason", () => {
    assert.throws(() => readWasm(Buffer.from("<html>not wasm</html>")), /not a wasm module/);
    const module = tinyModule();
    assert.throws(() => readWasm(module.subarray(0, 40)), /truncated wasm/);
  });

  test("the breakdown's parts add up to the deployed module", () => {
    const module = tinyModule();
    const { rows, raw, gzip, functions } = breakdown(module);
    const deployed = withoutCustomSections(module);
    assert.equal(functions, 3);
    assert.equal(raw, deployed.length);
    assert.equal(gzip, gzipSync(deployed, { level: 9 }).length);
    assert.equal(rows.reduce((sum, row) => sum + row.raw, 0), raw);
    assert.ok(Math.abs(rows.reduce((sum, row) => sum + row.gzip, 0) - gzip) < 1e-6);
    const owners = Object.fromEntries(rows.map((row) => [row.owner, row.raw]));
    assert.equal(owners["sipgate_router::http::admin"], 4);
    assert.equal(owners.serde_json, 130);
    assert.equal(owners["unnamed functions"], 3);
    assert.equal(owners["data: strings, tables, constants"], 5);
  });
});

describe("whose a function is", () => {
  const cases = [
    ["sipgate_router::rules::compact::decode::h99812017d972b1fa", "sipgate_router::rules::compact"],
    ["sipgate_router::edge::fetch::{{closure}}::hd2550ee0ff8b95f5", "sipgate_router::edge"],
    ["sipgate_router::rules::spec::_::<impl serde_core::ser::Serialize for sipgate_router::rules::spec::ActionSpec>::serialize::h25697beb7ecb64d9", "sipgate_router::rules::spec"],
    ["<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_struct::h5d9fc72974a027ce", "serde_json"],
    ["<core::iter::adapters::map::Map<I,F> as core::iter::traits::iterator::Iterator>::fold::h53ba774a947213ef", "core::iter"],
    ["<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<dlmalloc[e24a27700634d609]::sys::System>>::malloc", "dlmalloc"],
    ["core[c5930c85a12de822]::num::flt2dec::strategy::dragon::format_shortest", "core::num"],
    ["<str as core[c5930c85a12de822]::fmt::Debug>::fmt", "core::fmt"],
    ["<T as alloc::slice::<impl [T]>::to_vec_in::ConvertVec>::to_vec::hbda4b28c8f64f28f", "alloc::slice"],
    ["<f64 as zmij::private::Sealed>::write_to_zmij_buffer::hb48c38a7973fd89e", "zmij"],
    ["<char>::escape_debug_ext", "core"],
    ["__rustc[b7974e8690430dd9]::__rdl_realloc", "std"],
    ["fetch externref shim", "wasm_bindgen"],
    ["__wbindgen_malloc", "wasm_bindgen"],
    ["memcpy", "compiler_builtins"],
    ["function 2339", "unnamed functions"],
  ];
  for (const [name, owner] of cases) test(name, () => assert.equal(ownerOf(name), owner));
});

describe("the release build", { skip: !existsSync(NAMED_WASM) && "no release build (npm run build)" }, () => {
  const named = readFileSync(NAMED_WASM);
  const deployed = readFileSync(join(root, "build", "index_bg.wasm"));

  test("build/index_bg.wasm is the named build without its names", { skip: readWasm(deployed).sections.some(({ name }) => name === "name") && "built with KEEP_WASM_NAMES" }, () => {
    assert.ok(Buffer.from(withoutCustomSections(named)).equals(deployed));
  });

  test("every function is named, and the table accounts for the whole file", () => {
    const result = breakdown(named);
    const code = result.rows.filter((row) => row.functions).reduce((sum, row) => sum + row.raw, 0);
    const unnamed = result.rows.find((row) => row.owner === "unnamed functions")?.raw ?? 0;
    assert.ok(unnamed < code / 50, `${unnamed} of ${code} bytes of code unnamed`);
    const lines = tableRows(result);
    const topLevel = lines.filter(([label]) => !label.startsWith("  "));
    const sum = (column) => topLevel.reduce((total, line) => total + Number(line[column]), 0);
    // Each row is rounded to 0.1 KiB.
    assert.ok(Math.abs(sum(2) - result.raw / 1024) < 0.05 * topLevel.length + 0.01, `${sum(2)} vs ${result.raw / 1024}`);
    assert.ok(Math.abs(sum(3) - result.gzip / 1024) < 0.05 * topLevel.length + 0.01, `${sum(3)} vs ${result.gzip / 1024}`);
    for (const crate of ["sipgate_router (this crate)", "serde_json", "core (its modules below)", "alloc (its modules below)"]) {
      assert.ok(topLevel.some(([label]) => label === crate), `${crate} among ${topLevel.map(([label]) => label).join(", ")}`);
    }
  });
});
