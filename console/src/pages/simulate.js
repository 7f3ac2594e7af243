// Simulate: a call (or digits typed into a menu) against the live rules →
// which rule decided and why each earlier one did not, and the exact XML.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorNotice, html } from "../ui.js";

const list = (text) => text.split(",").map((item) => item.trim()).filter(Boolean);

/** A simulation's trace: the decision, each rule looked at and why, the XML. */
export function Trace({ trace, id = "trace" }) {
  return html`<section class="trace" aria-labelledby=${`${id}-title`}>
    <h2 id=${`${id}-title`} data-field="decision">${trace.matched ? `Decided by ${trace.matched}: ${trace.answer}` : trace.kill ? `Kill switch: ${trace.answer}` : `No rule matched: ${trace.answer}`}</h2>
    <p class="hint">Rules version ${trace.version ?? "–"}, ${trace.at.weekday} ${trace.at.local.replace("T", " ")} ${trace.at.timezone} (${trace.at.utc})${trace.at.note ? ` — ${trace.at.note}` : ""}</p>
    ${trace.kill ? html`<p>${trace.kill}</p>` : null}
    ${trace.rules.length
      ? html`<table class="rule-trace"><thead><tr><th scope="col"></th><th scope="col">Rule</th><th scope="col">Scope</th><th scope="col">Why</th></tr></thead>
          <tbody>${trace.rules.map((step) => html`<tr class=${step.matched ? "matched" : ""} data-rule=${step.rule}>
            <td aria-label=${step.matched ? "matched" : "did not match"}>${step.matched ? "✓" : "✗"}</td><td>${step.rule}</td><td>${step.scope}</td><td>${step.why ?? "matched"}</td></tr>`)}</tbody></table>`
      : null}
    ${trace.menu ? html`<p>Menu <strong>${trace.menu.name}</strong>, attempt ${trace.menu.attempt}: digits ${trace.menu.digits || "(none)"} → ${trace.menu.step}${trace.menu.replay ? ", the menu plays again" : ""}</p>` : null}
    <h3>The XML sipgate gets</h3>
    <pre class="xml" data-field="xml">${trace.xml}</pre>
  </section>`;
}

export function SimulatePage() {
  const [menus, setMenus] = useState([]);
  const [form, setForm] = useState({ from: "492111234567", to: "4921100000", direction: "in", at: "", users: "", diversion: "", menu: "", dtmf: "" });
  const [trace, setTrace] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api("rules")
      .then(({ data }) => setMenus(Object.keys(data?.menus ?? {})))
      .catch(() => setMenus([]));
  }, []);
  const field = (name) => (event) => setForm((previous) => ({ ...previous, [name]: event.target.value }));
  const run = async (event) => {
    event.preventDefault();
    setError(null);
    const body = { from: form.from.trim(), to: form.to.trim(), direction: form.direction };
    if (form.at) body.at = form.at;
    if (form.users.trim()) body.users = list(form.users);
    if (form.diversion.trim()) body.diversion = form.diversion.trim();
    if (form.menu) {
      body.menu = form.menu;
      body.dtmf = form.dtmf.trim();
    }
    try {
      setTrace((await api("simulate", { method: "POST", body })).data);
    } catch (failure) {
      setTrace(null);
      setError(failure);
    }
  };
  return html`<div class="simulate">
    <form class="stacked" onSubmit=${run}>
      <div><label for="sim-from">From (caller)</label><input id="sim-from" value=${form.from} onInput=${field("from")} required /></div>
      <div><label for="sim-to">To (called)</label><input id="sim-to" value=${form.to} onInput=${field("to")} required /></div>
      <div><label for="sim-direction">Direction</label>
        <select id="sim-direction" value=${form.direction} onChange=${field("direction")}><option value="in">in</option><option value="out">out</option></select></div>
      <div><label for="sim-at">Time (the rules' clock; empty: now)</label><input id="sim-at" type="datetime-local" value=${form.at} onInput=${field("at")} /></div>
      <div><label for="sim-users">Users (comma-separated)</label><input id="sim-users" value=${form.users} onInput=${field("users")} /></div>
      <div><label for="sim-diversion">Diverted from</label><input id="sim-diversion" value=${form.diversion} onInput=${field("diversion")} /></div>
      <div><label for="sim-menu">Digits typed into menu</label>
        <select id="sim-menu" value=${form.menu} onChange=${field("menu")}><option value="">(none: the call itself)</option>${menus.map((menu) => html`<option value=${menu}>${menu}</option>`)}</select></div>
      <div><label for="sim-dtmf">Digits</label><input id="sim-dtmf" value=${form.dtmf} onInput=${field("dtmf")} disabled=${!form.menu} inputmode="numeric" /></div>
      <button type="submit" class="primary">Simulate</button>
    </form>
    <${ErrorNotice} error=${error} />
    ${trace ? html`<${Trace} trace=${trace} />` : null}
  </div>`;
}
