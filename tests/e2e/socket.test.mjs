// End to end over a real socket: raw HTTP/1.1 written byte by byte to the
// built worker in workerd on loopback, for what a fetch() client never
// sends — chunked bodies around the 16 KiB limit, a Content-Length that
// lies, a Host header naming someone else. Nothing may get a 5xx; a push
// the router can read is answered, one it cannot is refused with a reason.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { example, localStore, startWorker } from "./harness.mjs";

const MAX_BODY = 16 * 1024;
const PUSH = "from=492111234567&to=4930123456&direction=in&callId=raw";

/** A form body of exactly `length` bytes: a push, padded with a field the router ignores. */
function pushOf(length) {
  const prefix = `${PUSH}&pad=`;
  return prefix + "a".repeat(length - prefix.length);
}

/**
 * Writes `parts` (strings or Buffers, with a pause between them) to the
 * worker's socket, then reads until the server closes; answers every
 * response found on the wire, in order.
 */
function exchange(url, parts, { endAfterWriting = false } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(parseResponses(Buffer.concat(chunks).toString("latin1"))));
    socket.setTimeout(15_000, () => socket.destroy(new Error("no answer within 15 s")));
    socket.on("connect", async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((next) => setTimeout(next, 5));
      }
      if (endAfterWriting) socket.end();
    });
  });
}

/** Responses on an HTTP/1.1 wire: status, lower-cased headers, body (by length or chunks). */
function parseResponses(wire) {
  const responses = [];
  let rest = wire;
  while (rest.startsWith("HTTP/1.1 ")) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd < 0) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split("\r\n");
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    rest = rest.slice(headEnd + 4);
    let body = "";
    if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const sizeEnd = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, sizeEnd), 16);
        rest = rest.slice(sizeEnd + 2);
        if (!size) {
          rest = rest.slice(rest.indexOf("\r\n") + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      const length = Number(headers["content-length"] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    responses.push({ status: Number(statusLine.split(" ")[1]), headers, body });
  }
  return responses;
}

function head(lines) {
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** `body` as chunked transfer coding, in chunks of `size` bytes. */
function chunked(body, size = 1000) {
  const parts = [];
  for (let at = 0; at < body.length; at += size) {
    const chunk = body.slice(at, at + size);
    parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  }
  parts.push("0\r\n\r\n");
  return parts;
}

let store;
before(() => {
  store = localStore();
  store.publish(example("office"));
});
after(() => store.dispose());

describe("raw HTTP on a socket", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ store, listen: true });
  });
  after(() => worker.dispose());

  const form = (host = "127.0.0.1") => [
    "POST / HTTP/1.1",
    `Host: ${host}`,
    "Content-Type: application/x-www-form-urlencoded",
    "Connection: close",
  ];

  for (const length of [MAX_BODY - 1, MAX_BODY, MAX_BODY + 1, MAX_BODY + 1000]) {
    test(`a chunked body of ${length} bytes`, async () => {
      const [response, ...more] = await exchange(worker.url, [head([...form(), "Transfer-Encoding: chunked"]), ...chunked(pushOf(length))]);
      assert.equal(more.length, 0);
      if (length <= MAX_BODY) {
        assert.equal(response.status, 200, response.body);
        assert.equal(response.body, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
      } else {
        assert.equal(response.status, 413);
        assert.equal(response.body, "body larger than 16384 bytes: a push is a few hundred bytes\n");
      }
    });
  }

  test("a Content-Length above the limit is refused at once, the body not awaited", async () => {
    // 1,000,000 bytes declared, a few hundred sent, the socket left open:
    // the answer must not wait for the rest. workerd then closes a
    // connection whose request body went unread, at times so fast that the
    // reset overtakes the 413 on the client's side (ECONNRESET) — either
    // is a prompt refusal; waiting for the body would time out.
    try {
      const [response] = await exchange(worker.url, [head([...form(), "Content-Length: 1000000"]), PUSH]);
      assert.equal(response.status, 413);
    } catch (error) {
      assert.equal(error.code, "ECONNRESET", String(error));
    }
  });

  test("a Content-Length that promises more than is sent: a refusal, never a 5xx", async () => {
    // The body ends short: a 400, or a reset of the connection (also a refusal).
    const responses = await exchange(worker.url, [head([...form(), `Content-Length: ${PUSH.length + 100}`]), PUSH], {
      endAfterWriting: true,
    }).catch((error) => {
      assert.equal(error.code, "ECONNRESET", String(error));
      return [];
    });
    for (const response of responses) assert.ok(response.status < 500, `${response.status} ${response.body}`);
    assert.ok(responses.every((response) => response.status !== 200), "a short body is not a push");
  });

  test("a Content-Length shorter than what is sent: the declared bytes are the push, the rest is not smuggled in", async () => {
    const smuggled = `${PUSH}GET /calls/raw HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer nope\r\n\r\n`;
    const responses = await exchange(worker.url, [head([...form(), `Content-Length: ${PUSH.length}`]), smuggled], {
      endAfterWriting: true,
    });
    assert.equal(responses[0].status, 200, responses[0].body);
    assert.equal(responses[0].body, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
    // Whatever follows is a request of its own, refused like any other.
    for (const response of responses.slice(1)) assert.ok([400, 404].includes(response.status), `${response.status}`);
  });
});

describe("the Host header", () => {
  // Saturday morning: the office number answers with its after-hours menu,
  // whose onData URL points back at the router.
  const SATURDAY_10 = Date.parse("2026-11-28T10:00:00+01:00");
  const menu = "from=492111234567&to=4921100000&direction=in&callId=host";
  const request = (host) => [
    head([
      "POST / HTTP/1.1",
      `Host: ${host}`,
      "Content-Type: application/x-www-form-urlencoded",
      `Content-Length: ${menu.length}`,
      `X-Test-Now: ${SATURDAY_10}`,
      "Connection: close",
    ]),
    menu,
  ];

  test("without PUBLIC_URL, menus point back at the host the request names", async () => {
    const worker = await startWorker({ store, listen: true, fault: "clock" });
    try {
      const [response] = await exchange(worker.url, request("evil.example"));
      assert.equal(response.status, 200);
      assert.match(response.body, /<Gather onData="http:\/\/evil\.example\/\?menu=after-hours&amp;try=0"/);
    } finally {
      await worker.dispose();
    }
  });

  test("with PUBLIC_URL, callbacks and menus point there whatever the Host header says", async () => {
    const worker = await startWorker({
      store,
      listen: true,
      fault: "clock",
      vars: { PUBLIC_URL: "https://router.example.com/", FORWARD_URLS: "http://127.0.0.1:9/unused" },
    });
    try {
      const [response] = await exchange(worker.url, request("evil.example"));
      assert.equal(response.status, 200);
      assert.match(response.body, /onAnswer="https:\/\/router\.example\.com\/"/);
      assert.match(response.body, /<Gather onData="https:\/\/router\.example\.com\/\?menu=after-hours&amp;try=0"/);
      assert.ok(!response.body.includes("evil.example"), response.body);
    } finally {
      await worker.dispose();
    }
  });
});
