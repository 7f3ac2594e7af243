// Status: what is live, who published it, the kill switch, and anything
// wrong with the configuration — the first thing to look at.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ConfirmButton, ErrorNotice, html, Notice, useLoad, when } from "../ui.js";
import { DraftPanel } from "./draft.js";

/** An action spec (`{"dial": {"numbers": […]}}`) in words. */
export function describeAction(action) {
  if (!action) return "–";
  const [verb, details] = Object.entries(action)[0] ?? [];
  switch (verb) {
    case "dial":
      return `dial ${details.numbers.join(", ")}`;
    case "menu":
      return `menu ${details}`;
    case "reject":
      return details?.reason ? `reject (${details.reason})` : "reject";
    default:
      return verb ?? "–";
  }
}

function KillSwitch({ kill, onChanged }) {
  const [number, setNumber] = useState("");
  const [error, setError] = useState(null);
  const act = async (request) => {
    setError(null);
    try {
      await request();
      await onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  if (kill) {
    return html`<section aria-labelledby="kill-title" class="kill on">
      <h2 id="kill-title">Kill switch: on</h2>
      <${Notice} kind="error">Every call gets <strong data-field="kill">${describeAction(kill)}</strong>; the rules are not read.<//>
      <${ConfirmButton} name="kill-off" label="Turn the kill switch off" question="Route calls by the rules again?" onConfirm=${() => act(() => api("kill", { method: "DELETE" }))} />
      <${ErrorNotice} error=${error} />
    </section>`;
  }
  const valid = /^\+?\d{6,15}$/.test(number.trim());
  return html`<section aria-labelledby="kill-title" class="kill">
    <h2 id="kill-title">Kill switch: off</h2>
    <p>In an emergency, send every call to one number, whatever the rules say.</p>
    <div class="row">
      <label for="kill-number">Send every call to</label>
      <input id="kill-number" inputmode="tel" placeholder="4915790000099" value=${number} onInput=${(event) => setNumber(event.target.value)} aria-describedby="kill-hint" />
      <${ConfirmButton} name="kill-set" danger label="Send every call there" disabled=${!valid}
        question=${`Send every call to ${number.trim()}?`}
        onConfirm=${() => act(() => api("kill", { method: "PUT", body: { dial: { numbers: [number.trim().replace(/^\+/, "")] } } }))} />
    </div>
    <p id="kill-hint" class="hint">E.164 digits, e.g. 4915790000099.</p>
    <${ErrorNotice} error=${error} />
  </section>`;
}

export function StatusPage() {
  const status = useLoad(() => api("status").then((reply) => reply.data));
  if (status.error) return html`<${ErrorNotice} error=${status.error} />`;
  if (!status.data) return html`<p class="loading">Loading…</p>`;
  const data = status.data;
  const problems = data.configuration ?? [];
  return html`<div class="status">
    ${!data.rulesPublished ? html`<${Notice} kind="error"><strong>No rules published.</strong> Every call is connected as if the router were not there. <a href="#/rules">Publish rules</a>.<//>` : null}
    ${data.storeError ? html`<${Notice} kind="error">The rules store cannot be read: ${data.storeError}<//>` : null}
    ${problems.length
      ? html`<section aria-labelledby="config-title"><h2 id="config-title">Configuration problems</h2>
          <ul class="problems">${problems.map((problem) => html`<li class=${problem.level}><span class="level">${problem.level}</span> ${problem.message}</li>`)}</ul></section>`
      : null}
    <section aria-labelledby="live-title">
      <h2 id="live-title">Live rules</h2>
      <dl class="facts">
        <dt>Version</dt><dd data-field="live-version">${data.liveVersion || "none"}</dd>
        <dt>Published</dt><dd>${when(data.live?.publishedAt)}</dd>
        <dt>By</dt><dd>${data.live?.publishedBy ?? "–"}</dd>
        <dt>From</dt><dd>${data.live?.source ?? "–"}</dd>
        <dt>Numbers</dt><dd>${data.live?.numbers ?? "–"}</dd>
        <dt>Versions kept</dt><dd>${data.versionsKept ?? 0}</dd>
        <dt>Call journal</dt><dd data-field="journal">${data.journal ? "on" : "off (no D1 binding JOURNAL)"}</dd>
      </dl>
    </section>
    <${DraftPanel} draft=${data.draft} entry=${data.draftEntry} live=${data.liveVersion} onChanged=${status.reload} />
    <${KillSwitch} kill=${data.kill} onChanged=${status.reload} />
  </div>`;
}
