// JSON text as the editor needs it: where each value is (to jump to a
// problem's path), which object the cursor is in (to complete its keys),
// and where the text stops being JSON. Paths are written as the router
// writes them: `numbers.4921100000[2].when.time.hours[1]`.

/** `["numbers", "4921100000", 2, "when"]` → `numbers.4921100000[2].when` */
export function pathText(segments) {
  return segments.map((segment, index) => (typeof segment === "number" ? `[${segment}]` : index ? `.${segment}` : segment)).join("");
}

/** The inverse of pathText (keys with dots cannot be told apart: rare in rules). */
export function pathSegments(text) {
  const segments = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  }
  return segments;
}

class Stop extends Error {}

/**
 * Reads `text` as far as it is JSON. Answers
 *   spans:  path text → {start, end, keyStart} of every value read
 *   at:     the innermost object or array containing `cursor`:
 *           {kind, path (segments), keys (Set, objects only)}
 *   error:  null, or the offset where the text stopped being JSON
 */
export function analyse(text, cursor = -1) {
  const spans = new Map();
  let at = null;
  let i = 0;
  const stop = () => {
    throw new Stop();
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    let out = "";
    i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        const next = text[i + 1];
        if (next === "u") {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          out += { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" }[next] ?? next;
          i += 2;
        }
        continue;
      }
      if (c === "\n") stop();
      out += c;
      i++;
    }
    stop();
  };
  const container = (path, kind) => {
    const frame = { kind, path, keys: new Set() };
    const outer = at;
    if (cursor > i) at = frame;
    i++;
    space();
    const close = kind === "object" ? "}" : "]";
    if (text[i] === close) {
      i++;
    } else {
      for (let index = 0; ; index++) {
        space();
        if (kind === "object") {
          if (text[i] !== '"') stop();
          const keyStart = i;
          const key = string();
          frame.keys.add(key);
          space();
          if (text[i] !== ":") stop();
          i++;
          value([...path, key], keyStart);
        } else {
          value([...path, index]);
        }
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          break;
        }
        stop();
      }
    }
    if (cursor >= i && at === frame) at = outer;
  };
  const value = (path, keyStart) => {
    space();
    const start = i;
    const c = text[i];
    if (c === "{") container(path, "object");
    else if (c === "[") container(path, "array");
    else if (c === '"') string();
    else {
      const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
      if (!literal) stop();
      i += literal[0].length;
    }
    spans.set(pathText(path), { start, end: i, keyStart: keyStart ?? start });
  };
  let error = null;
  try {
    value([]);
    space();
    if (i < text.length) stop();
  } catch (thrown) {
    if (!(thrown instanceof Stop)) throw thrown;
    error = Math.min(i, text.length);
  }
  return { spans, at, error };
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** The offset of 1-based `line`, `column`. */
export function offsetOf(text, line, column) {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + Math.max(0, column - 1));
}

/**
 * Where a problem is: the value at its path, or the nearest enclosing one
 * that exists (a missing key points at its object); a message that names a
 * line and column (the reader's shape errors) points there.
 */
export function placeOf(text, problem) {
  const lineCol = /line (\d+),? column (\d+)/.exec(problem.message ?? "");
  if (lineCol) {
    const offset = offsetOf(text, Number(lineCol[1]), Number(lineCol[2]));
    return { start: offset, end: offset };
  }
  const { spans } = analyse(text);
  const segments = pathSegments(problem.path ?? "");
  for (let length = segments.length; length >= 0; length--) {
    const span = spans.get(pathText(segments.slice(0, length)));
    if (span) return { start: span.keyStart, end: span.end };
  }
  return { start: 0, end: 0 };
}
