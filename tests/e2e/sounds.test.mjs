// `check --sounds` against a local HTTP server serving sound files the
// test makes: one sipgate plays, one at 44,100 Hz stereo, an MP3 named
// .wav, a redirect to the good one, a missing one, and a slow one — each
// fetched at most 4 at a time, only its first bytes. The admin API's
// `POST rules/sounds` gives the same verdicts, the worker in workerd
// fetching (its outbound requests sent on to the same server).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADMIN_TOKEN, root, startWorker } from "./harness.mjs";

/** The CLI, run without blocking this process (its server answers the fetches). */
function cli(...args) {
  return new Promise((resolve) => {
    execFile(join(root, "target", "debug", "sipgate-rules"), args, { cwd: root }, (error, stdout, stderr) =>
      resolve({ status: error ? error.code : 0, stdout, stderr }),
    );
  });
}

/** A WAV file's header and a little silence. */
function wav(rate, channels, bits) {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + 1600, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write("data", 36);
  header.writeUInt32LE(1600, 40);
  return Buffer.concat([header, Buffer.alloc(100_000)]);
}

/** What the CLI and the worker both say of soundsDocument()'s sounds. */
const VERDICTS = {
  "menus.main.prompt": "ok",
  "menus.main.options.1.play.url": "unplayable",
  "menus.main.options.2.play.url": "ok",
  "menus.main.options.3.play.url": "ok",
  "menus.main.noInput.play.url": "unreachable",
  "numbers.4921100000[0].then.play.url": "unplayable",
};

describe("check --sounds", () => {
  let server;
  let base;
  let dir;
  const ranges = [];
  let inFlight = 0;
  let mostInFlight = 0;
  before(async () => {
    const files = {
      "/good.wav": wav(8000, 1, 16),
      "/stereo.wav": wav(44_100, 2, 16),
      "/song.wav": Buffer.concat([Buffer.from("ID3\x04\x00\x00\x00\x00\x00\x00"), Buffer.alloc(5000)]),
    };
    server = createServer((request, response) => {
      ranges.push(request.headers.range);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      // Slow enough that a fifth request would overlap the first four.
      setTimeout(() => {
        inFlight--;
        if (request.url === "/moved.wav") return response.writeHead(302, { location: "/good.wav" }).end();
        const body = files[request.url.replace(/\?.*/, "")];
        if (!body) return response.writeHead(404).end("not here");
        response.writeHead(200, { "content-type": "audio/wav" }).end(body);
      }, 150);
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${server.address().port}`;
    dir = mkdtempSync(join(tmpdir(), "sipgate-router-sounds-"));
  });
  /** A document playing each file of the server: a good one, 44,100 Hz stereo, a redirect, the good one again, a 404, an MP3. */
  const soundsDocument = () => ({
    menus: {
      main: {
        prompt: `${base}/good.wav`,
        options: { 1: { play: { url: `${base}/stereo.wav` } }, 2: { play: { url: `${base}/moved.wav` } }, 3: { play: { url: `${base}/good.wav?again` } } },
        noInput: { play: { url: `${base}/missing.wav` } },
        invalid: { voicemail: {} },
      },
    },
    numbers: { 4921100000: [{ id: "song", then: { play: { url: `${base}/song.wav` } } }] },
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("names each unplayable file and what is wrong, warns of an unreachable one, follows a redirect, 4 at a time", async () => {
    const document = soundsDocument();
    const file = join(dir, "sounds.json");
    writeFileSync(file, JSON.stringify(document));
    const text = await cli("check", file, "--sounds");
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stderr, new RegExp(`error: menus\\.main\\.options\\.1\\.play\\.url: ${base}/stereo\\.wav is 44,100 Hz stereo: sipgate plays 16-bit PCM, 8,000 Hz, mono \\(convert with \`sox in\\.wav -r 8000 -c 1 -b 16 out\\.wav\`\\)`));
    assert.match(text.stderr, /error: numbers\.4921100000\[0\]\.then\.play\.url: \S+\/song\.wav is an MP3, not a WAV file/);
    assert.match(text.stderr, /warning: menus\.main\.noInput\.play\.url: \S+\/missing\.wav cannot be fetched here: answered 404/);
    assert.match(text.stdout, /sound ok: menus\.main\.options\.2\.play\.url \S+\/moved\.wav/);
    assert.match(text.stdout, /sound ok: menus\.main\.prompt \S+\/good\.wav/);
    assert.ok(mostInFlight <= 4, `${mostInFlight} fetches at once`);
    assert.ok(mostInFlight >= 2, "the fetches ran one at a time");
    assert.ok(ranges.every((range) => range === "bytes=0-4095"), JSON.stringify(ranges));

    const json = await cli("check", file, "--sounds", "--json");
    const statuses = Object.fromEntries(JSON.parse(json.stdout).sounds.map((sound) => [sound.path, sound.status]));
    assert.deepEqual(statuses, VERDICTS);

    // Unreachable alone is a warning: exit 0.
    const reachable = { menus: { main: { prompt: `${base}/good.wav`, noInput: { play: { url: `${base}/missing.wav` } }, invalid: { voicemail: {} } } } };
    writeFileSync(file, JSON.stringify(reachable));
    assert.equal((await cli("check", file, "--sounds")).status, 0);
    // Without --sounds nothing is fetched.
    const fetched = ranges.length;
    await cli("check", file);
    assert.equal(ranges.length, fetched);
  });

  test("the admin API's rules/sounds: the worker fetches them, the same verdicts, 4 at a time, first bytes only", async () => {
    const document = soundsDocument();
    // The worker's own fetches, sent on to the local server as they are (a redirect answered as such).
    const worker = await startWorker({
      outbound: (request) => fetch(request.url, { headers: request.headers, redirect: "manual" }),
    });
    try {
      ranges.length = 0;
      mostInFlight = 0;
      const reply = await worker.request("/admin/api/rules/sounds", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(document),
      });
      assert.equal(reply.status, 200, reply.body);
      const answer = JSON.parse(reply.body);
      const statuses = Object.fromEntries(answer.sounds.map((sound) => [sound.path, sound.status]));
      assert.deepEqual(statuses, VERDICTS);
      const message = (path) => answer.sounds.find((sound) => sound.path === path).message;
      assert.match(message("menus.main.options.1.play.url"), /44,100 Hz stereo: .*sox in\.wav -r 8000 -c 1 -b 16 out\.wav/);
      assert.match(message("numbers.4921100000[0].then.play.url"), /an MP3, not a WAV file/);
      assert.equal(message("menus.main.noInput.play.url"), "answered 404");
      assert.deepEqual([answer.errors, answer.warnings, answer.unchecked], [2, 1, []]);
      assert.ok(mostInFlight <= 4 && mostInFlight >= 2, `${mostInFlight} fetches at once`);
      assert.ok(ranges.every((range) => range === "bytes=0-4095"), JSON.stringify(ranges));
      // Without the token the route does not exist.
      const anonymous = await worker.request("/admin/api/rules/sounds", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      assert.equal(anonymous.status, 404);
    } finally {
      await worker.dispose();
    }
  });
});
