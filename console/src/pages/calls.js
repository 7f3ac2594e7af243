// Calls: the latest calls from the journal, one call's timeline (every
// push: event, rule, answer, latency, XML), and rule hit counts with the
// rules no call met highlighted.
import { api } from "../api.js";
import { ErrorNotice, html, Notice, useLoad, when } from "../ui.js";

function journalOff(error) {
  return error?.status === 404 && /journal is off/.test(error.message);
}

function Timeline({ callId }) {
  const timeline = useLoad(() => api(`calls/${encodeURIComponent(callId)}`).then((reply) => reply.data), [callId]);
  return html`<section aria-labelledby="timeline-title" class="timeline">
    <p><a href="#/calls">← all calls</a></p>
    <h2 id="timeline-title">Call ${callId}</h2>
    ${timeline.error ? html`<${ErrorNotice} error=${timeline.error} />` : null}
    ${timeline.data?.legs.map((leg) => html`<div class="leg">
      <h3>Leg ${leg.callId}${leg.origCallId ? ` (from ${leg.origCallId})` : ""}</h3>
      <ol>${leg.pushes.map((push) => html`<li data-event=${push.event}>
        <span class="time">${when(push.atMs)}</span> <strong>${push.event}</strong>
        ${push.event === "newCall" ? html` ${push.direction} from ${push.from ?? "–"} to ${push.to ?? "–"}` : null}
        ${push.rule ? html` · rule <code data-field="rule">${push.rule}</code>` : null}
        ${push.answer ? html` · ${push.answer}` : null}
        ${push.menu ? html` · menu ${push.menu}${push.step ? ` (${push.step})` : ""}` : null}
        ${push.dtmf ? html` · digits ${push.dtmf}` : null}
        ${push.cause ? html` · ${push.cause}` : null}
        ${push.decisionMs !== null && push.decisionMs !== undefined ? html` · decided in ${push.decisionMs} ms` : null}
        ${push.version ? html` · rules v${push.version}` : null}
        ${push.xml ? html`<details><summary>XML</summary><pre class="xml">${push.xml}</pre></details>` : null}
      </li>`)}</ol>
    </div>`)}
  </section>`;
}

function Hits() {
  const hits = useLoad(() => api("hits").then((reply) => reply.data));
  if (hits.error) return journalOff(hits.error) ? null : html`<${ErrorNotice} error=${hits.error} />`;
  if (!hits.data) return null;
  return html`<section aria-labelledby="hits-title">
    <h2 id="hits-title">Rule hits, last 7 days</h2>
    <table class="hits"><thead><tr><th scope="col">Rule</th><th scope="col">Calls</th><th scope="col">Last</th><th scope="col">Note</th></tr></thead>
      <tbody>${hits.data.hits.map((hit) => html`<tr class=${hit.neverMatched ? "dead" : ""} data-rule=${hit.rule}>
        <td>${hit.rule}</td><td>${hit.hits}</td><td>${when(hit.lastAtMs)}</td>
        <td>${hit.neverMatched ? "no call met this rule" : !hit.inLiveRules ? "not in the live rules" : ""}</td></tr>`)}</tbody></table>
  </section>`;
}

export function CallsPage({ rest }) {
  const calls = useLoad(() => (rest ? Promise.resolve(null) : api("calls?limit=50").then((reply) => reply.data)), [rest]);
  if (rest) return html`<${Timeline} callId=${rest} />`;
  if (journalOff(calls.error)) {
    return html`<${Notice} kind="error">The call journal is off: the worker has no D1 binding JOURNAL (docs/journal.md).<//>`;
  }
  return html`<div class="calls">
    ${calls.error ? html`<${ErrorNotice} error=${calls.error} />` : null}
    <div class="toolbar"><span>Latest calls, last 7 days</span><button type="button" class="quiet" onClick=${calls.reload}>Refresh</button></div>
    ${calls.data && !calls.data.calls.length ? html`<p>No calls yet.</p>` : null}
    ${calls.data?.calls.length
      ? html`<table class="call-list"><thead><tr><th scope="col">When</th><th scope="col">Call</th><th scope="col">Direction</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Rule</th><th scope="col">Answer</th><th scope="col">Decided in</th></tr></thead>
          <tbody>${calls.data.calls.map((call) => html`<tr>
            <td><a href=${`#/calls/${encodeURIComponent(call.callId ?? "")}`} data-call=${call.callId} aria-label=${`Call ${call.callId}, ${when(call.atMs)}`}>${when(call.atMs)}</a></td>
            <td><code>${call.callId ?? "–"}</code></td><td>${call.direction ?? "–"}</td><td>${call.from ?? "–"}</td><td>${call.to ?? "–"}</td>
            <td>${call.rule ?? "–"}</td><td>${call.answer ?? "–"}</td><td>${call.decisionMs ?? "–"} ms</td></tr>`)}</tbody></table>`
      : null}
    <${Hits} />
  </div>`;
}
