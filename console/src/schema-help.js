// The rules schema (schema/rules.schema.json) in the editor: validation as
// you type, by the validator compiled ahead of time from it (no ajv at run
// time), and completion: the keys an object at the cursor may have.
import validate, { schema } from "rules-schema-validator";
import { pathText } from "./json-text.js";

/** `/numbers/4921100000/1/when` of `document` → `numbers.4921100000[1].when` */
function readablePath(pointer, document) {
  const segments = [];
  let value = document;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const segment = Array.isArray(value) ? Number(key) : key;
    segments.push(segment);
    value = value?.[segment];
  }
  return pathText(segments);
}

function message(error) {
  switch (error.keyword) {
    case "additionalProperties":
      return `has an unknown key "${error.params.additionalProperty}"`;
    case "required":
      return `misses the key "${error.params.missingProperty}"`;
    case "enum":
      return `must be one of ${error.params.allowedValues.map((value) => JSON.stringify(value)).join(", ")}`;
    case "propertyNames":
      return "has a key that is not allowed here";
    default:
      return error.message;
  }
}

/** Schema problems of a parsed document: [{path, message}], each once. */
export function schemaProblems(document) {
  if (validate(document)) return [];
  const errors = validate.errors ?? [];
  // oneOf/anyOf say only "no alternative fitted": the alternatives' own
  // errors say why, unless there are none.
  const specific = errors.filter((error) => !["oneOf", "anyOf", "if"].includes(error.keyword));
  const seen = new Set();
  const problems = [];
  for (const error of specific.length ? specific : errors) {
    const problem = { path: readablePath(error.instancePath, document), message: message(error) };
    const key = `${problem.path}\n${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function resolve(node) {
  let current = node;
  for (let depth = 0; current?.$ref && depth < 20; depth++) {
    const name = current.$ref.replace("#/$defs/", "");
    current = { ...schema.$defs[name], description: current.description ?? schema.$defs[name]?.description };
  }
  return current;
}

/** The schema and its alternatives (oneOf/anyOf), resolved. */
function alternatives(node) {
  const resolved = resolve(node);
  if (!resolved) return [];
  const more = [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? [])].flatMap(alternatives);
  return [resolved, ...more];
}

function child(node, segment) {
  for (const candidate of alternatives(node)) {
    if (typeof segment === "number") {
      if (candidate.items) return candidate.items;
    } else {
      if (candidate.properties?.[segment]) return candidate.properties[segment];
      if (candidate.additionalProperties && typeof candidate.additionalProperties === "object") return candidate.additionalProperties;
    }
  }
  return null;
}

/**
 * The keys an object at `segments` may have, with their descriptions,
 * those it has (`present`) left out: [{name, description}].
 */
export function keysAt(segments, present = new Set()) {
  let node = schema;
  for (const segment of segments) {
    node = child(node, segment);
    if (!node) return [];
  }
  const keys = new Map();
  for (const candidate of alternatives(node)) {
    for (const [name, property] of Object.entries(candidate.properties ?? {})) {
      if (!present.has(name) && !keys.has(name)) {
        keys.set(name, resolve(property)?.description ?? property.description ?? "");
      }
    }
  }
  return [...keys].map(([name, description]) => ({ name, description }));
}
