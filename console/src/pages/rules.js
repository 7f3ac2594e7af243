// Rules: the live document in an editor that validates as you type (the
// rules schema) and completes keys, the worker's own check with paths that
// jump to the place, the diff against live, publish (If-Match: a conflict
// is shown, never overwritten) — for everyone, or as the draft for test
// callers — the draft to promote or discard, and the kept versions with
// rollback.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { analyse, lineColumn, pathText, placeOf } from "../json-text.js";
import { keysAt, schemaProblems } from "../schema-help.js";
import { ConfirmButton, ErrorNotice, html, Notice, when } from "../ui.js";
import { callersProblem, DraftPanel, parseCallers } from "./draft.js";
import { Trace } from "./simulate.js";

/** Larger documents are edited without analysis on every keystroke. */
const LIVE_ANALYSIS_BYTES = 2 * 1024 * 1024;
const CHECK_DELAY_MS = 600;

/** A problem's place for people: its JSON path, or the line and column its message names. */
function where(problem) {
  if (problem.path) return problem.path;
  const place = /line (\d+),? column (\d+)/.exec(problem.message ?? "");
  return place ? `line ${place[1]}, column ${place[2]}` : "(document)";
}

function Problems({ title, problems, onJump, kind }) {
  if (!problems?.length) return null;
  return html`<div class=${`problems ${kind}`}>
    <h3>${title}</h3>
    <ul>${problems.map((problem) => html`<li>
      <button type="button" class="path" onClick=${() => onJump(problem)} title="Show in the editor">${where(problem)}</button>
      <span class="message">${problem.message}</span></li>`)}</ul>
  </div>`;
}

/**
 * A document as published may be one line (a CI step's output, say):
 * shown indented. The diff compares parts, not whitespace, so this is no
 * change.
 */
function readable(source) {
  if (source.length < 200 || source.slice(0, 200).includes("\n")) return source;
  try {
    return `${JSON.stringify(JSON.parse(source), null, 2)}\n`;
  } catch {
    return source;
  }
}

function compact(value) {
  if (value === undefined) return "";
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function Diff({ diff, onJump }) {
  if (!diff) return null;
  if (!diff.changes.length) return html`<${Notice}>No changes against version ${diff.from}.<//>`;
  return html`<section class="diff" aria-labelledby="diff-title">
    <h3 id="diff-title">Changes against version ${diff.from} (${diff.total})</h3>
    <ul>${diff.changes.map((change) => html`<li class=${change.op}>
      <span class="op">${change.op}</span>
      <button type="button" class="path" onClick=${() => onJump({ path: change.path })}>${change.path || "(document)"}</button>
      ${change.before !== undefined ? html`<del>${compact(change.before)}</del>` : null}
      ${change.after !== undefined ? html`<ins>${compact(change.after)}</ins>` : null}
    </li>`)}</ul>
    ${diff.total > diff.changes.length ? html`<p class="hint">The first ${diff.changes.length} of ${diff.total}.</p>` : null}
  </section>`;
}

/** How the document's expectations went (the check runs them): failures first, each with its trace. */
function Expectations({ outcomes }) {
  if (!outcomes?.length) return null;
  const failed = outcomes.filter((outcome) => !outcome.passed);
  return html`<section class=${`expectations${failed.length ? " failing" : ""}`} aria-labelledby="expectations-title">
    <h3 id="expectations-title">Expectations</h3>
    ${failed.length
      ? html`<p class="fail" data-expectations="failing">${failed.length} of ${outcomes.length} fail</p>`
      : html`<p class="ok" data-expectations="ok">All ${outcomes.length} pass.</p>`}
    <ul>${failed.map((outcome, index) => html`<li data-expectation=${outcome.name}>
      <strong>${outcome.name}</strong> <code>${outcome.path}</code>
      <div>expected <code>${outcome.expected}</code>, got <code data-field="got">${outcome.got}</code></div>
      ${outcome.trace ? html`<details><summary>What happened instead</summary><${Trace} trace=${outcome.trace} id=${`expectation-trace-${index}`} /></details>` : null}
    </li>`)}</ul>
    ${failed.length ? null : html`<details><summary>The ${outcomes.length} expectations</summary><ul>${outcomes.map((outcome) => html`<li>✓ ${outcome.name}</li>`)}</ul></details>`}
  </section>`;
}

/**
 * The sounds check: the worker fetches the first bytes of every prompt and
 * play URL and says which sipgate cannot play (an error: the call would
 * fail silently) or could not be fetched (a warning).
 */
function Sounds({ text, disabled }) {
  const [report, setReport] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => setReport(null), [text]);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setReport((await api("rules/sounds", { method: "POST", body: text })).data);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const label = { ok: "✓ plays", unplayable: "✗ cannot play", unreachable: "? not fetched" };
  return html`<section class="sounds" aria-labelledby="sounds-title">
    <h3 id="sounds-title">Sound files</h3>
    <button type="button" data-action="check-sounds" onClick=${run} disabled=${disabled || busy}>${busy ? "Fetching…" : "Check sound files"}</button>
    ${report
      ? html`<p class=${report.errors ? "fail" : "ok"} data-sounds=${report.errors ? "failing" : "ok"}>${report.sounds.length
          ? `${report.sounds.length} checked: ${report.errors} cannot be played, ${report.warnings} not fetched.`
          : "The document plays no sound files."}</p>
        <ul>${report.sounds.map((sound) => html`<li class=${sound.status} data-sound=${sound.path}>
          <span class="verdict">${label[sound.status] ?? sound.status}</span> <code>${sound.path}</code>
          <div class="url">${sound.url}</div>
          ${sound.message ? html`<div class="message">${sound.message}</div>` : null}
        </li>`)}</ul>
        ${report.unchecked.length ? html`<p class="hint">${report.unchecked.length} more not fetched here (a request may fetch ${report.sounds.length}): <code>npm run rules -- check FILE --sounds</code> fetches them all.</p>` : null}`
      : null}
    <${ErrorNotice} error=${error} />
  </section>`;
}

function Versions({ versions, onRollback, onLoad }) {
  if (!versions) return null;
  return html`<section aria-labelledby="versions-title">
    <h2 id="versions-title">Versions</h2>
    <table class="versions">
      <thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">From</th><th scope="col">Numbers</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${versions.versions.map((entry) => html`<tr data-version=${entry.version}>
        <td>${entry.version}${entry.version === versions.live ? html` <span class="badge">live</span>` : null}${entry.version === versions.draft?.version
          ? html` <span class="badge draft" title=${`live for ${versions.draft.callers.join(", ")}`}>draft</span>`
          : null}${entry.expectationsFailed
          ? html` <span class="badge forced" title=${`published although ${entry.expectationsFailed} of its expectations failed`}>forced</span>`
          : null}</td>
        <td>${when(entry.publishedAt)}</td><td>${entry.publishedBy ?? "–"}</td><td>${entry.source ?? "–"}</td><td>${entry.numbers}</td>
        <td class="actions">
          <button type="button" class="quiet" onClick=${() => onLoad(entry.version)}>Open</button>
          ${entry.version !== versions.live
            ? html`<${ConfirmButton} name=${`rollback-${entry.version}`} label=${`Roll back to ${entry.version}`} question=${`Make version ${entry.version} live?`} onConfirm=${() => onRollback(entry.version)} />`
            : null}
        </td></tr>`)}</tbody>
    </table>
  </section>`;
}

export function RulesPage() {
  const editor = useRef(null);
  const [text, setText] = useState("");
  // What the editor was loaded from, and the version that was live then
  // (sent as If-Match: a publish since then is a conflict, not overwritten).
  const [base, setBase] = useState({ version: null, text: "", expected: 0 });
  const [cursor, setCursor] = useState(0);
  const [check, setCheck] = useState(null);
  const [diff, setDiff] = useState(null);
  const [outcome, setOutcome] = useState(null); // {kind, message, warnings?}
  const [conflict, setConflict] = useState(null);
  const [error, setError] = useState(null);
  const [versions, setVersions] = useState(null);
  const [live, setLive] = useState(null);
  const [forceExpectations, setForceExpectations] = useState(false);
  const [callersText, setCallersText] = useState("");

  const loadVersions = async () => {
    const { data } = await api("rules/versions");
    setVersions(data);
    setLive(data.live);
  };
  const load = async (version) => {
    setError(null);
    setDiff(null);
    setOutcome(null);
    setConflict(null);
    try {
      const { text: source, etag } = await api(version ? `rules/${version}` : "rules");
      const expected = version ? (await api("rules/versions")).data.live : etag;
      setText(readable(source));
      setBase({ version: version ?? etag, text: readable(source), expected });
    } catch (failure) {
      if (failure.status === 404 && !version) {
        const empty = '{\n  "$schema": "https://…/rules.schema.json",\n  "timezone": "Europe/Berlin",\n  "numbers": {}\n}\n';
        setText(empty);
        setBase({ version: 0, text: "", expected: 0 });
      } else {
        setError(failure);
      }
    }
  };
  useEffect(() => {
    load();
    loadVersions().catch(setError);
  }, []);

  const large = text.length > LIVE_ANALYSIS_BYTES;
  const typed = useMemo(() => {
    if (large) return { syntax: null, schema: [], at: null };
    const { at, error: stoppedAt } = analyse(text, cursor);
    if (stoppedAt !== null) {
      const { line, column } = lineColumn(text, stoppedAt);
      return { syntax: { path: "", message: `not JSON from line ${line}, column ${column}`, offset: stoppedAt }, schema: [], at };
    }
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (failure) {
      return { syntax: { path: "", message: failure.message, offset: 0 }, schema: [], at };
    }
    return { syntax: null, schema: schemaProblems(parsed), at };
  }, [text, cursor, large]);

  // The worker's own check, a moment after typing stops.
  useEffect(() => {
    if (!text || typed.syntax) {
      setCheck(null);
      return undefined;
    }
    const timer = setTimeout(async () => {
      try {
        const { data } = await api("rules/check", { method: "POST", body: text });
        setCheck(data);
      } catch (failure) {
        setCheck({ errors: [{ path: "", message: failure.message }], warnings: [], complete: false });
      }
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, typed.syntax]);

  const jump = (problem) => {
    const area = editor.current;
    if (!area) return;
    const { start, end } = problem.offset !== undefined ? { start: problem.offset, end: problem.offset } : placeOf(text, problem);
    area.focus();
    area.setSelectionRange(start, Math.max(start, end));
    const { line } = lineColumn(text, start);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 4) * lineHeight);
    setCursor(start);
  };

  const suggestions = typed.at?.kind === "object" ? keysAt(typed.at.path, typed.at.keys).slice(0, 14) : [];
  const insertKey = (name) => {
    const area = editor.current;
    const at = area.selectionStart;
    const before = text.slice(0, at);
    // After a value (a string, number, literal, object or list) a comma
    // first; after `{` or `,` none.
    const needsComma = /[}\]"\del]\s*$/.test(before) && !/[{,]\s*$/.test(before);
    const insertion = `${needsComma ? "," : ""}\n"${name}": `;
    const next = before + insertion + text.slice(area.selectionEnd);
    setText(next);
    requestAnimationFrame(() => {
      area.focus();
      area.setSelectionRange(at + insertion.length, at + insertion.length);
      setCursor(at + insertion.length);
    });
  };
  const onKeyDown = (event) => {
    if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      document.querySelector(".completions button")?.focus();
    }
  };

  const compare = async () => {
    setError(null);
    try {
      setDiff((await api("rules/diff", { method: "POST", body: text })).data);
    } catch (failure) {
      setError(failure);
    }
  };
  const publish = async (expected) => {
    setError(null);
    setOutcome(null);
    setConflict(null);
    try {
      const { data } = await api(forceExpectations ? "rules?force=expectations" : "rules", {
        method: "PUT",
        body: text,
        headers: { "if-match": `"${expected ?? 0}"`, "x-rules-source": "console" },
      });
      const forced = data.expectationsFailed ? ` Forced past ${data.expectationsFailed} failing expectation(s): the versions list records it.` : "";
      setOutcome({ kind: "ok", message: `Published version ${data.version} (${data.numbers} numbers): it is live.${forced}`, warnings: data.warnings });
      setForceExpectations(false);
      setBase({ version: data.version, text, expected: data.version });
      setDiff(null);
      await loadVersions();
    } catch (failure) {
      if (failure.status === 409) setConflict(failure.body);
      else setError(failure);
    }
  };
  const publishDraft = async () => {
    setError(null);
    setOutcome(null);
    setConflict(null);
    const callers = parseCallers(callersText);
    try {
      const force = forceExpectations ? "&force=expectations" : "";
      const { data } = await api(`draft?callers=${encodeURIComponent(callers.join(","))}${force}`, {
        method: "PUT",
        body: text,
        headers: { "if-match": `"${base.expected ?? 0}"`, "x-rules-source": "console" },
      });
      setOutcome({
        kind: "ok",
        message: `Published draft version ${data.version}: live only for ${callers.join(", ")}; everyone else keeps version ${data.previous ?? "none"}. Call from a test caller, then promote or discard it.`,
        warnings: data.warnings,
      });
      setForceExpectations(false);
      await loadVersions();
    } catch (failure) {
      if (failure.status === 409) setConflict(failure.body);
      else setError(failure);
    }
  };
  const rollback = async (version) => {
    setError(null);
    try {
      const { data } = await api("rules/rollback", { method: "POST", body: { to: version } });
      await loadVersions();
      await load();
      setOutcome({ kind: "ok", message: `Rolled back from version ${data.from} to ${data.to.version}: it is live.` });
    } catch (failure) {
      setError(failure);
    }
  };

  const changed = text !== base.text;
  const failing = (check?.expectations ?? []).filter((outcome) => !outcome.passed).length;
  const blocking = Boolean(typed.syntax) || (check?.errors?.length ?? 0) > 0 || (failing > 0 && !forceExpectations);
  const callers = parseCallers(callersText);
  const callersWrong = callersText.trim() ? callersProblem(callers) : null;
  const draft = versions?.draft;
  return html`<div class="rules">
    <div class="editor-pane">
      <div class="toolbar">
        <span>${base.version === null ? "Loading…" : base.version ? `Editing version ${base.version}` : "No rules published yet"}${changed ? " · changed" : ""}${live !== null && base.version && live !== base.version ? html` · <strong>version ${live} is live</strong>` : null}</span>
        <button type="button" class="quiet" onClick=${() => load()} disabled=${!changed && base.version === live}>Revert to live</button>
      </div>
      <label for="document" class="visually-hidden">Rules document (JSON)</label>
      <textarea id="document" ref=${editor} spellcheck="false" autocomplete="off" autocapitalize="off" wrap="off"
        aria-describedby="completion-hint"
        value=${text}
        onInput=${(event) => {
          setText(event.target.value);
          setCursor(event.target.selectionStart);
        }}
        onKeyUp=${(event) => setCursor(event.target.selectionStart)}
        onClick=${(event) => setCursor(event.target.selectionStart)}
        onKeyDown=${onKeyDown}></textarea>
      <div class="completions" aria-live="polite">
        <span id="completion-hint" class="hint">${large ? "A large document: checked on the server only." : suggestions.length ? html`Keys for <code>${typed.at.path.length ? pathText(typed.at.path) : "the document"}</code> (Ctrl+Space):` : "Put the cursor inside an object for the keys it may have."}</span>
        ${suggestions.map((key) => html`<button type="button" class="key" title=${key.description} onClick=${() => insertKey(key.name)}>${key.name}</button>`)}
      </div>
    </div>
    <aside class="side" aria-label="Checks and publishing">
      ${typed.syntax ? html`<${Problems} kind="error" title="Not JSON" problems=${[typed.syntax]} onJump=${jump} />` : null}
      <${Problems} kind="error" title="Schema (as you type)" problems=${typed.schema} onJump=${jump} />
      <section aria-labelledby="check-title" class="check">
        <h2 id="check-title">Check</h2>
        ${check === null
          ? html`<p class="hint">${typed.syntax ? "Waiting for JSON." : "Checking…"}</p>`
          : check.errors.length === 0
            ? html`<p class="ok" data-check="ok">No errors${check.warnings.length ? `, ${check.warnings.length} warning${check.warnings.length > 1 ? "s" : ""}` : ""}.</p>`
            : null}
        <${Problems} kind="error" title="Errors" problems=${check?.errors} onJump=${jump} />
        <${Problems} kind="warning" title="Warnings" problems=${check?.warnings} onJump=${jump} />
        <${Expectations} outcomes=${check?.expectations} />
        <${Sounds} text=${text} disabled=${Boolean(typed.syntax)} />
        ${failing
          ? html`<label class="force"><input type="checkbox" checked=${forceExpectations} onChange=${(event) => setForceExpectations(event.target.checked)} />
              Publish although ${failing} expectation${failing > 1 ? "s" : ""} fail${failing > 1 ? "" : "s"} (the versions list records it)</label>`
          : null}
      </section>
      <div class="actions">
        <button type="button" onClick=${compare} disabled=${Boolean(typed.syntax) || !live}>Diff against live</button>
        <${ConfirmButton} name="publish" primary label="Publish" question="Publish this document? It is live at once." disabled=${blocking} onConfirm=${() => publish(base.expected)} />
      </div>
      <fieldset class="draft-publish">
        <legend>Or try it on real calls first</legend>
        <label for="test-callers">Test callers</label>
        <input id="test-callers" inputmode="tel" placeholder="4915790000123, 4930123*" value=${callersText}
          onInput=${(event) => setCallersText(event.target.value)} aria-describedby="test-callers-hint" aria-invalid=${callersWrong ? "true" : "false"} />
        <p id="test-callers-hint" class=${callersWrong ? "hint wrong" : "hint"}>${callersWrong ?? "Numbers or prefixes ending in *: only these callers get the draft's answers."}</p>
        <${ConfirmButton} name="publish-draft" label="Publish as draft" disabled=${blocking || !callers.length || Boolean(callersWrong)}
          question=${`Publish as a draft for ${callers.join(", ")}? Everyone else keeps the live version.`} onConfirm=${publishDraft} />
      </fieldset>
      ${outcome ? html`<${Notice} kind=${outcome.kind}>${outcome.message}${outcome.warnings?.length ? ` ${outcome.warnings.length} warning(s).` : ""}<//>` : null}
      ${conflict
        ? html`<${Notice} kind="error"><strong>Version ${conflict.live} was published meanwhile</strong> (live was version ${conflict.expected} when you started). Nothing was written; your text is kept.
            <div class="row"><button type="button" onClick=${compare}>Compare with version ${conflict.live}</button>
            <${ConfirmButton} name="publish-over" danger label=${`Publish over version ${conflict.live}`} question="Replace what was published meanwhile?" onConfirm=${() => publish(conflict.live)} /></div><//>`
        : null}
      <${ErrorNotice} error=${error} />
      <${Diff} diff=${diff} onJump=${jump} />
    </aside>
    <${DraftPanel} draft=${draft} entry=${versions?.versions.find((entry) => entry.version === draft?.version)} live=${live}
      onChanged=${async () => {
        await loadVersions();
        await load();
      }} onOpen=${load} />
    <${Versions} versions=${versions} onRollback=${rollback} onLoad=${load} />
  </div>`;
}
