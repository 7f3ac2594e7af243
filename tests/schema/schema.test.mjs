// The JSON Schema (schema/rules.schema.json, for editors) and the Rust
// validator (`sipgate-rules check`) agree: on the example documents and on
// tests/fixtures/rules/cases.json, which says for each case whether the
// schema accepts it and which JSON path check reports first (null: valid).
// The schema cannot see references (menus, lists, calendars that exist),
// ways out of menus, real calendar dates, time zones or unique ids: for
// those cases it accepts and check refuses — the cases say so.
import Ajv2020 from "ajv/dist/2020.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { root } from "../e2e/harness.mjs";

const schema = JSON.parse(readFileSync(join(root, "schema", "rules.schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
const dir = mkdtempSync(join(tmpdir(), "sipgate-router-schema-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(document, name) {
  const file = join(dir, `${name.replace(/\W+/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(document));
  const result = spawnSync(join(root, "target", "debug", "sipgate-rules"), ["check", file, "--json"], { encoding: "utf8" });
  assert.ok(result.status === 0 || result.status === 1, result.stderr);
  return JSON.parse(result.stdout);
}

describe("the examples", () => {
  for (const file of readdirSync(join(root, "examples")).filter((name) => name.endsWith(".json"))) {
    test(`${file} is valid for both, without warnings, and its expectations pass`, () => {
      const document = JSON.parse(readFileSync(join(root, "examples", file), "utf8"));
      assert.ok(validate(document), JSON.stringify(validate.errors));
      const { expectations, ...report } = check(document, file);
      assert.deepEqual(report, { errors: [], warnings: [], complete: true });
      assert.ok(expectations.length >= 5, `${file} has ${expectations.length} expectations`);
      assert.deepEqual(expectations.filter((outcome) => !outcome.passed), []);
    });
  }
});

describe("valid and invalid documents", () => {
  const cases = JSON.parse(readFileSync(join(root, "tests", "fixtures", "rules", "cases.json"), "utf8"));
  for (const { name, document, schema: schemaAccepts, check: firstErrorPath } of cases) {
    test(name, () => {
      assert.equal(validate(document), schemaAccepts, `schema: ${JSON.stringify(validate.errors)}`);
      const { errors } = check(document, name);
      if (firstErrorPath === null) {
        assert.deepEqual(errors, []);
      } else {
        assert.ok(errors.length > 0, "check accepted it");
        assert.equal(errors[0].path, firstErrorPath, JSON.stringify(errors));
      }
      // Whatever the schema refuses, check refuses too.
      if (!schemaAccepts) assert.ok(errors.length > 0);
    });
  }
});
