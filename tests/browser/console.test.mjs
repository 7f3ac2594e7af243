// The console in a real browser: headless Chromium (Debian's) driven by
// playwright-core against the built worker in workerd, its pages served
// by the assets as wrangler.toml configures them, over a local KV with the
// office example published and a local journal. Everything an office
// manager does in it, checked against what real pushes then get.
//
// The clock is fixed on both sides: the page's (Playwright's clock) and the
// worker's (every request to the API carries `x-test-now`, which the test
// wrapper of the worker reads, tests/e2e/faulty-kv.mjs).
//
// Screenshots of every page go to build/screenshots/ (git-ignored).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { accessTeam, ADMIN_TOKEN, example, localStore, root, startWorker } from "../e2e/harness.mjs";
import { launch } from "./chromium.mjs";

/** Tuesday 24 November 2026, 10:00 in Berlin: office hours. */
const NOW = Date.parse("2026-11-24T10:00:00+01:00");
const OFFICE = "4921100000";
const CALLER = "492111234567";
const SCREENSHOTS = join(root, "build", "screenshots");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The first bytes of a 16-bit PCM WAV file of `rate` Hz and `channels` channels. */
function wavHeader(rate, channels) {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  return header;
}

/**
 * The page's accessibility problems that axe-core (WCAG 2 A and AA: labels,
 * names, contrast, structure) rates serious or critical, one line each.
 * Evaluated through the DevTools protocol: the page's own CSP stays on.
 */
async function accessibilityProblems(page) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, targets: violation.nodes.map((node) => node.target.join(" ")) }));
  });
  return found.filter((violation) => ["serious", "critical"].includes(violation.impact)).map((violation) => `${violation.id}: ${violation.targets.slice(0, 3).join(", ")}`);
}

describe("the console", () => {
  let store;
  let worker;
  let browser;
  let page;
  const errors = [];

  /** A push as sipgate sends it, at `at`, to the worker's socket (the origin the page is on); answers the XML. */
  const push = async (body, at = NOW) => {
    const response = await fetch(worker.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-test-now": String(at) },
      body,
    });
    return response.text();
  };
  const call = (callId, at = NOW) => push(`event=newCall&from=${CALLER}&to=${OFFICE}&direction=in&callId=${callId}`, at);
  /** Opens a page of the console afresh (a hash change alone would keep the page's state). */
  const open = async (hash) => {
    await page.goto("about:blank");
    await page.goto(new URL(`/admin/${hash}`, worker.url).toString());
  };
  const shot = (name) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const confirm = async (action) => {
    await page.locator(`[data-action="${action}"]`).click();
    await page.locator(`[data-action="${action}-confirm"]`).click();
  };

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    store = localStore();
    store.publish(example("office"));
    store.migrateJournal();
    // The office's prompts as the worker fetches them: one sipgate plays, one a CD-quality recording.
    const sounds = {
      "https://sounds.example.com/office/after-hours.wav": wavHeader(8000, 1),
      "https://sounds.example.com/office/lunch-break.wav": wavHeader(44_100, 2),
    };
    const outbound = (request) => {
      const body = sounds[request.url];
      return body ? new Response(body, { status: 206, headers: { "content-type": "audio/wav" } }) : new Response("not here", { status: 404 });
    };
    worker = await startWorker({ store, journal: true, fault: "clock", listen: true, outbound });
    browser = await launch();
    // The office's zone and a fixed locale: the same pages on any machine.
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: "Europe/Berlin", locale: "en-GB" });
    // The worker's clock: every API request of the page at NOW.
    await context.route("**/admin/api/**", (route) =>
      route.continue({ headers: { ...route.request().headers(), "x-test-now": String(NOW) } }),
    );
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.clock.setFixedTime(NOW);
    page.on("pageerror", (error) => errors.push(error.message));
  });
  after(async () => {
    await browser?.close();
    await worker?.dispose();
    store?.dispose();
  });

  test("the pages are assets at /admin/, and the webhook at / answers POSTs as before", async () => {
    const page = await worker.request("/admin/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /text\/html/);
    assert.match(page.body, /<script type="module" src="console.js">/);
    const script = await worker.request("/admin/console.js");
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type"), /javascript/);
    assert.match(await push(`from=${CALLER}&to=${OFFICE}&direction=in&callId=webhook`), /<Dial callerId="4921100000"><Number>4921100001<\/Number>/);
    assert.equal((await worker.request("/", { method: "GET" })).status, 405, "GET / is the worker's, not a page");
    // The door without its slash leads in; a push there is still a push.
    const door = await worker.request("/admin", { redirect: "manual" });
    assert.deepEqual([door.status, door.headers.get("location")], [308, "/admin/"]);
    const posted = await worker.post(`from=${CALLER}&to=${OFFICE}&direction=in&callId=door`, { path: "/admin", headers: { "x-test-now": String(NOW) } });
    assert.match(posted.body, /<Dial callerId="4921100000">/);
    // Signed out, the API does not exist; the page says so and asks for the token.
    assert.equal((await worker.request("/admin/api/status")).status, 404);
  });

  test("sign in: a wrong token is refused, the right one kept in the tab only", async () => {
    await open("");
    await page.getByLabel("Admin token").fill("not-the-token-0123456789abcdefghijkl");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The worker did not accept that token").waitFor();
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Live rules" }).waitFor();
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem("sipgate-router.admin-token"),
      local: localStorage.length,
      url: location.href,
    }));
    assert.equal(storage.session, ADMIN_TOKEN);
    assert.equal(storage.local, 0);
    assert.ok(!storage.url.includes(ADMIN_TOKEN));
    assert.equal(await page.locator('[data-field="live-version"]').textContent(), "1");
    assert.equal(await page.locator('[data-field="journal"]').textContent(), "on");
    await shot("status");
  });

  test("rules: an error with its path as you type and from the check, the jump to it, the diff, publish, a real push", async () => {
    await open("#/rules");
    const editor = page.getByLabel("Rules document (JSON)");
    await page.getByText("Editing version 1").waitFor();
    const live = await editor.inputValue();
    assert.match(live, /"business-hours"/);

    // A typo: an hour that does not exist.
    await editor.fill(live.replace('"13:00-17:00"', '"13:00-17:99"'));
    const path = "numbers.4921100000[2].when.time.hours[1]";
    await page.locator(".check .problems.error button.path", { hasText: path }).waitFor();
    await page.locator(".problems.error button.path", { hasText: path }).first().waitFor(); // the schema's, as you typed
    assert.equal(await page.locator('[data-action="publish"]').isDisabled(), true, "a document with errors can be published");
    await page.locator(".check .problems.error button.path", { hasText: path }).click();
    const selected = await editor.evaluate((area) => area.value.slice(area.selectionStart, area.selectionEnd));
    assert.equal(selected, '"13:00-17:99"', "the path did not jump to the value");

    // A key the reader does not know: the check names its line and column, the click goes there.
    await editor.fill(live.replace('"id": "lunch-break",', '"id": "lunch-break", "thne": 1,'));
    const shape = page.locator(".check .problems.error li", { hasText: "unknown field `thne`" });
    await shape.waitFor();
    assert.match(await shape.locator("button.path").textContent(), /^line \d+, column \d+$/);
    await shape.locator("button.path").click();
    const line = await editor.evaluate((area) => area.value.slice(0, area.selectionStart).split("\n").length);
    assert.equal(line, live.split("\n").findIndex((text) => text.includes('"id": "lunch-break"')) + 1, "the line of the unknown key");
    await page.locator(".problems.error button.path", { hasText: "numbers.4921100000[1]" }).first().waitFor(); // the schema's, as you typed

    // Completion: inside a time window, the keys it may still have.
    await editor.evaluate((area) => {
      const at = area.value.indexOf('"weekdays"');
      area.focus();
      area.setSelectionRange(at, at);
      area.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    });
    await page.getByText("Keys for numbers.4921100000[1].when.time").waitFor();
    const keys = await page.locator(".completions button.key").allTextContents();
    assert.deepEqual(keys.sort(), ["dates", "timezone"]);

    // Fixed, and the business-hours call rings another second phone.
    await editor.fill(live.replace('"4921100002"', '"4921100009"'));
    await page.locator('[data-check="ok"]').waitFor();
    await page.locator('[data-expectations="ok"]').waitFor();
    await page.getByRole("button", { name: "Diff against live" }).click();
    const change = page.locator(".diff li", { hasText: "numbers.4921100000[2].then.dial.numbers[1]" });
    await change.waitFor();
    assert.match(await change.textContent(), /"4921100002".*"4921100009"/);
    await change.locator("button.path").click();
    assert.equal(await editor.evaluate((area) => area.value.slice(area.selectionStart, area.selectionEnd)), '"4921100009"');
    await shot("rules");

    await confirm("publish");
    await page.getByText("Published version 2").waitFor();
    assert.match(await call("rules-published"), /<Number>4921100009<\/Number>/);
  });

  test("publish: a version published meanwhile is a conflict, shown and never overwritten unasked", async () => {
    await open("#/rules");
    const editor = page.getByLabel("Rules document (JSON)");
    await page.getByText("Editing version 2").waitFor();
    // Someone publishes version 3 with the CLI while the page is open.
    const elsewhere = example("office");
    elsewhere.numbers[OFFICE][2].then.dial.numbers[2] = "4921100007";
    store.publish(elsewhere);
    await editor.fill((await editor.inputValue()).replace('"4921100003"', '"4921100008"'));
    await page.locator('[data-check="ok"]').waitFor();
    await confirm("publish");
    await page.getByText("Version 3 was published meanwhile").waitFor();
    assert.match(await call("conflict"), /<Number>4921100007<\/Number>/, "the conflict overwrote");
    await confirm("publish-over");
    await page.getByText("Published version 4").waitFor();
    assert.match(await call("published-over"), /<Number>4921100008<\/Number>/);
  });

  test("roll back to version 1 from the versions list", async () => {
    await open("#/rules");
    await page.locator('tr[data-version="1"]').waitFor();
    await confirm("rollback-1");
    await page.getByText("Rolled back from version 4 to 1").waitFor();
    const answer = await call("rolled-back");
    assert.match(answer, /<Number>4921100001<\/Number>/);
    assert.doesNotMatch(answer, /4921100008/);
  });

  test("expectations: a failing one is shown with what happened, blocks publish until forced, and the forced version is marked", async () => {
    await open("#/rules");
    const editor = page.getByLabel("Rules document (JSON)");
    await page.getByText("Editing version 1").waitFor();
    await editor.fill((await editor.inputValue()).replace('"4921100001"', '"4921100009"'));
    await page.locator('[data-check="ok"]').waitFor(); // no errors: the rules are valid
    const failing = page.locator('[data-expectations="failing"]');
    await failing.waitFor();
    assert.equal(await failing.textContent(), "1 of 13 fail");
    const failure = page.locator('li[data-expectation="a weekday morning rings the office"]');
    assert.equal(await failure.locator('[data-field="got"]').textContent(), "rule business-hours, dial 4921100009 4921100002 4921100003");
    await failure.getByText("What happened instead").click();
    assert.equal(await failure.locator('[data-field="decision"]').textContent(), "Decided by business-hours: dial");
    assert.equal(await page.locator('[data-action="publish"]').isDisabled(), true, "a failing expectation does not block publish");
    await shot("rules-expectations");
    await page.getByLabel(/Publish although 1 expectation fails/).check();
    await confirm("publish");
    const published = page.getByText(/Published version \d+ .*Forced past 1 failing expectation\(s\)/);
    await published.waitFor();
    const version = /Published version (\d+)/.exec(await published.textContent())[1];
    await page.locator(`tr[data-version="${version}"] .badge.forced`).waitFor();
    assert.match(await call("forced"), /<Number>4921100009<\/Number>/);
    // Back to version 1 for what follows.
    await confirm("rollback-1");
    await page.getByText(`Rolled back from version ${version} to 1`).waitFor();
  });

  test("sounds: the worker fetches the prompts and names the one sipgate cannot play, with the command that converts it", async () => {
    await open("#/rules");
    await page.getByText("Editing version 1").waitFor();
    await page.locator('[data-action="check-sounds"]').click();
    const summary = page.locator('[data-sounds="failing"]');
    await summary.waitFor();
    assert.equal(await summary.textContent(), "2 checked: 1 cannot be played, 0 not fetched.");
    const lunch = page.locator('li[data-sound="menus.lunch-break.prompt"]');
    assert.equal(await lunch.locator(".verdict").textContent(), "✗ cannot play");
    assert.match(await lunch.locator(".message").textContent(), /44,100 Hz stereo: .*sox in\.wav -r 8000 -c 1 -b 16 out\.wav/);
    assert.equal(await page.locator('li[data-sound="menus.after-hours.prompt"] .verdict').textContent(), "✓ plays");
    assert.deepEqual(await accessibilityProblems(page), [], "the rules page with the sounds' verdicts");
    // A change of the document clears the verdicts: they were for another text.
    const editor = page.getByLabel("Rules document (JSON)");
    await editor.fill((await editor.inputValue()).replace("lunch-break.wav", "lunch-break-8k.wav"));
    await summary.waitFor({ state: "detached" });
  });

  test("drafts: published for a test caller, who alone gets it on real pushes; shown, promoted; another discarded", async () => {
    const TESTER = "4915790000123";
    const callFrom = (from, callId) => push(`event=newCall&from=${from}&to=${OFFICE}&direction=in&callId=${callId}`);
    await open("#/rules");
    const editor = page.getByLabel("Rules document (JSON)");
    await page.getByText("Editing version 1").waitFor();
    await editor.fill((await editor.inputValue()).replace('"4921100003"', '"4921100008"'));
    await page.locator('[data-check="ok"]').waitFor();
    const callers = page.getByLabel("Test callers");
    await callers.fill("4915790000123, abc");
    await page.getByText("abc is not a number or a prefix").waitFor();
    assert.equal(await page.locator('[data-action="publish-draft"]').isDisabled(), true, "a wrong test caller does not block");
    await callers.fill(TESTER);
    await confirm("publish-draft");
    const published = page.getByText(/Published draft version (\d+): live only for 4915790000123; everyone else keeps version 1/);
    await published.waitFor();
    const draft = /Published draft version (\d+)/.exec(await published.textContent())[1];
    await page.locator(`tr[data-version="${draft}"] .badge.draft`).waitFor();
    assert.match(await callFrom(TESTER, "draft-tester"), /<Number>4921100008<\/Number>/, "the test caller did not get the draft");
    assert.match(await callFrom(CALLER, "draft-other"), /<Number>4921100003<\/Number>/, "another caller got the draft");
    await shot("rules-draft");
    // The status page shows it; promote makes it live for everyone.
    await open("#/status");
    assert.equal(await page.locator('[data-field="test-callers"]').textContent(), TESTER);
    assert.deepEqual(await accessibilityProblems(page), [], "the status page with a draft");
    await confirm("promote");
    await page.getByText(`Promoted draft version ${draft}: it is live for every caller (version 1 stays for rollback).`).waitFor();
    assert.equal(await page.locator('[data-field="live-version"]').textContent(), draft);
    assert.match(await callFrom(CALLER, "promoted"), /<Number>4921100008<\/Number>/);
    // Another draft, discarded from the rules page: its test caller gets live again.
    await open("#/rules");
    await page.getByText(`Editing version ${draft}`).waitFor();
    await editor.fill((await editor.inputValue()).replace('"4921100008"', '"4921100005"'));
    await page.locator('[data-check="ok"]').waitFor();
    await callers.fill(`+${TESTER}`);
    await confirm("publish-draft");
    await page.getByText(/Published draft version \d+: live only for \+4915790000123/).waitFor();
    assert.match(await callFrom(TESTER, "second-draft"), /<Number>4921100005<\/Number>/);
    await page.locator("section.draft").waitFor();
    await confirm("discard");
    await page.getByText(`its test callers get version ${draft} again`).waitFor();
    assert.match(await callFrom(TESTER, "discarded"), /<Number>4921100008<\/Number>/);
    // Back to version 1 for what follows.
    await confirm("rollback-1");
    await page.getByText(/Rolled back from version \d+ to 1/).waitFor();
  });

  test("the kill switch: every call to one number, confirmed; then off", async () => {
    await open("#/status");
    await page.getByLabel("Send every call to").fill("4915790000099");
    await page.locator('[data-action="kill-set"]').click();
    await page.getByText("Send every call to 4915790000099?").waitFor();
    await page.locator('[data-action="kill-set-confirm"]').click();
    await page.getByRole("heading", { name: "Kill switch: on" }).waitFor();
    assert.equal(await page.locator('[data-field="kill"]').textContent(), "dial 4915790000099");
    assert.match(await call("killed"), /<Dial><Number>4915790000099<\/Number><\/Dial>/);
    await shot("status-kill");
    await confirm("kill-off");
    await page.getByRole("heading", { name: "Kill switch: off" }).waitFor();
    assert.match(await call("unkilled"), /<Number>4921100001<\/Number>/);
  });

  test("simulate: the trace of a lunch-time call and the XML a real push gets", async () => {
    await open("#/simulate");
    await page.getByLabel("Time (the rules' clock; empty: now)").fill("2026-11-24T12:30");
    await page.getByRole("button", { name: "Simulate" }).click();
    const decision = page.locator('[data-field="decision"]');
    await decision.waitFor();
    assert.equal(await decision.textContent(), "Decided by lunch-break: gather");
    assert.match(await page.locator('tr[data-rule="holidays"]').textContent(), /✗.*holidays/);
    const xml = await page.locator('[data-field="xml"]').textContent();
    const real = await push(`from=${CALLER}&to=${OFFICE}&direction=in&callId=simulated`, Date.parse("2026-11-24T12:30:00+01:00"));
    assert.equal(xml, real);
    await shot("simulate");
  });

  test("week: office hours, lunch and evenings at a glance; a slot's rule and XML", async () => {
    await open("#/week");
    // The page offers the live document's numbers once it has read them: fill the form after that.
    await page.locator("#week-numbers option").first().waitFor({ state: "attached" });
    await page.getByLabel("Number").fill(OFFICE);
    assert.equal(await page.getByLabel("Number").inputValue(), OFFICE);
    await page.getByLabel("From", { exact: true }).fill("2026-11-23");
    await page.getByRole("button", { name: "Show" }).click();
    const tuesday = page.locator('.day[data-date="2026-11-24"]');
    await tuesday.waitFor();
    const slots = await tuesday.locator(".slot").evaluateAll((buttons) => buttons.map((slot) => `${slot.dataset.from}-${slot.dataset.to} ${slot.dataset.rule}`));
    assert.deepEqual(slots, ["00:00-08:00 after-hours", "08:00-12:00 business-hours", "12:00-13:00 lunch-break", "13:00-17:00 business-hours", "17:00-00:00 after-hours"]);
    assert.deepEqual(
      await page.locator('.day[data-date="2026-11-28"] .slot').evaluateAll((buttons) => buttons.map((slot) => slot.dataset.rule)),
      ["after-hours"],
      "Saturday",
    );
    await tuesday.locator('.slot[data-from="12:00"]').click();
    assert.equal(await page.locator('[data-field="slot-rule"]').textContent(), "lunch-break");
    assert.match(await page.locator(".slot-detail pre.xml").textContent(), /<Gather onData=/);
    await shot("week");
  });

  test("week: the number the page offers is never put under the cursor of someone typing one", async () => {
    // The live document's numbers arrive while the Number field has the focus.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route("**/admin/api/rules", async (route) => {
      await held;
      await route.fallback();
    });
    try {
      await open("#/week");
      await page.getByLabel("Number").focus();
      release();
      await page.locator("#week-numbers option").first().waitFor({ state: "attached" });
      await page.keyboard.type(OFFICE);
      assert.equal(await page.getByLabel("Number").inputValue(), OFFICE);
    } finally {
      release();
      await page.unroute("**/admin/api/rules");
    }
  });

  test("calls: a call's timeline after real pushes, and the rules no call met", async () => {
    await call("browser-call");
    await push(`event=answer&callId=browser-call&user=Alice&from=${CALLER}&to=${OFFICE}&direction=in&answeringNumber=4921100001`, NOW + 4000);
    await push(`event=hangup&cause=normalClearing&callId=browser-call&from=${CALLER}&to=${OFFICE}&direction=in`, NOW + 60_000);
    await open("#/calls");
    const link = page.locator('a[data-call="browser-call"]');
    // The journal is written after the answer: refresh until it is there.
    for (let tries = 0; tries < 40 && !(await link.count()); tries++) {
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.waitForTimeout(100);
    }
    await page.locator('tr[data-rule="holidays"].dead').waitFor();
    await shot("calls");
    await link.click();
    await page.getByRole("heading", { name: "Call browser-call" }).waitFor();
    for (let tries = 0; tries < 40 && (await page.locator("li[data-event]").count()) < 3; tries++) {
      await page.reload();
      await page.getByRole("heading", { name: "Call browser-call" }).waitFor();
      await page.waitForTimeout(100);
    }
    const events = await page.locator("li[data-event]").evaluateAll((items) => items.map((item) => item.dataset.event));
    assert.deepEqual(events, ["newCall", "answer", "hangup"]);
    assert.equal(await page.locator('li[data-event="newCall"] [data-field="rule"]').textContent(), "business-hours");
    await shot("call");
  });

  test("every page: labels, names, contrast (axe-core, WCAG 2 AA), and the keyboard with a visible focus", async () => {
    for (const hash of ["#/status", "#/rules", "#/week", "#/simulate", "#/calls"]) {
      await open(hash);
      await page.locator("main h1").waitFor();
      await page.waitForTimeout(200);
      assert.deepEqual(await accessibilityProblems(page), [], hash);
    }
    // Keyboard only: from the page's start to the Week link, then a slot.
    await open("#/status");
    await page.locator("main h1").waitFor();
    for (let tries = 0; tries < 10; tries++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate(() => document.activeElement?.textContent)) === "Week") break;
    }
    const focus = await page.evaluate(() => ({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle }));
    assert.deepEqual(focus, { text: "Week", outline: "solid" }, "the focused link is not visibly focused");
    await page.keyboard.press("Enter");
    await page.getByLabel("Number").fill(OFFICE);
    await page.getByLabel("From", { exact: true }).fill("2026-11-23");
    await page.getByLabel("Days").press("Enter");
    // The chart asked for is the one shown; a failure says what was asked and shown.
    const hint = await page.locator(".week p.hint").textContent();
    const shown = await page.evaluate(() => ({
      fields: Object.fromEntries([...document.querySelectorAll(".week form input")].map((input) => [input.name, input.value])),
      wednesday: [...document.querySelectorAll('.day[data-date="2026-11-25"] .slot')].map((slot) => `${slot.dataset.from}-${slot.dataset.to} ${slot.dataset.rule}`),
    }));
    assert.match(hint, /: 2026-11-23 00:00 to 2026-11-30 00:00\.$/);
    assert.deepEqual(
      shown.wednesday,
      ["00:00-08:00 after-hours", "08:00-12:00 business-hours", "12:00-13:00 lunch-break", "13:00-17:00 business-hours", "17:00-00:00 after-hours"],
      `${hint} ${JSON.stringify(shown.fields)}`,
    );
    await page.locator('.day[data-date="2026-11-25"] .slot[data-from="08:00"]').focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.locator('[data-field="slot-rule"]').textContent(), "business-hours");
    assert.deepEqual(await accessibilityProblems(page), [], "the week with a chart");
  });

  test("no page threw", () => {
    assert.deepEqual(errors, []);
  });
});

describe("the console behind Cloudflare Access, before anything is published", () => {
  const team = accessTeam();
  let store;
  let worker;
  let browser;
  let page;
  before(async () => {
    store = localStore();
    worker = await startWorker({
      store,
      listen: true,
      // No token: Access alone opens the API. A user without a password: a configuration error.
      vars: { ADMIN_TOKEN: "", ...team.vars, BASIC_AUTH_USER: "sipgate" },
      outbound: () => new Response(JSON.stringify(team.jwks), { headers: { "content-type": "application/json" } }),
    });
    browser = await launch();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: "Europe/Berlin", locale: "en-GB" });
    await context.route("**/admin/api/**", (route) =>
      route.continue({ headers: { ...route.request().headers(), "cf-access-jwt-assertion": team.jwt(team.claims()) } }),
    );
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  after(async () => {
    await browser?.close();
    await worker?.dispose();
    store?.dispose();
  });

  test("no token asked; no rules and the configuration problem shown first; a first publish is recorded under the e-mail", async () => {
    await page.goto(new URL("/admin/", worker.url).toString());
    await page.getByText("signed in by Cloudflare Access").waitFor();
    assert.equal(await page.getByLabel("Admin token").count(), 0);
    await page.getByText("No rules published.").waitFor();
    assert.match(await page.locator("ul.problems li.error").first().textContent(), /BASIC_AUTH_USER/);
    await page.locator('a[href="#/rules"]').first().click();
    await page.getByText("No rules published yet").waitFor();
    const editor = page.getByLabel("Rules document (JSON)");
    await editor.fill(JSON.stringify(example("hotline"), null, 2));
    await page.locator('[data-check="ok"]').waitFor();
    await page.locator('[data-action="publish"]').click();
    await page.locator('[data-action="publish-confirm"]').click();
    await page.getByText("Published version 1").waitFor();
    assert.match(await page.locator('tr[data-version="1"]').textContent(), /office@example\.com/);
  });
});
