// Week: for one number, who gets a call when — a column per day, a block
// per slice of time with one outcome, coloured by the deciding rule. The
// slices come from POST /admin/api/schedule: the core's own evaluation, the
// same as simulate's, at every instant a time window can change.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";
import { ErrorNotice, html, palette } from "../ui.js";

const PX_PER_HOUR = 28;
const DAY_MINUTES = 24 * 60;

/** A local wall-clock reading (`2026-12-21T08:00:00`) as minutes on a timeline. */
function minutesOf(local) {
  return Date.parse(`${local}Z`) / 60000;
}

function localDate(minutes) {
  return new Date(minutes * 60000).toISOString().slice(0, 10);
}

function clock(minutes) {
  const inDay = ((minutes % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
  return `${String(Math.floor(inDay / 60)).padStart(2, "0")}:${String(inDay % 60).padStart(2, "0")}`;
}

function dayTitle(date) {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

/** The chart's days, each with the pieces of slices that fall on it. */
function days(chart) {
  const first = minutesOf(chart.since);
  const last = minutesOf(chart.until);
  const columns = [];
  for (let start = first - (first % DAY_MINUTES); start < last; start += DAY_MINUTES) {
    const end = start + DAY_MINUTES;
    const pieces = chart.slices.flatMap((slice, index) => {
      const from = Math.max(minutesOf(slice.start), start);
      const to = Math.min(minutesOf(slice.end), end);
      return to > from ? [{ slice, index, from: from - start, to: to - start }] : [];
    });
    columns.push({ date: localDate(start), pieces });
  }
  return columns;
}

function Chart({ chart, selected, onSelect }) {
  const legend = new Map();
  const colourOf = palette();
  for (const slice of chart.slices) {
    const name = slice.rule ?? (slice.kill ? "kill switch" : "no rule");
    legend.set(name, slice.answer);
    colourOf(name);
  }
  return html`<div class="week-chart">
    <ul class="legend" aria-label="Rules">${[...legend].map(([rule, answer]) => html`<li><span class="swatch" style=${`background:${colourOf(rule)}`}></span>${rule} <span class="hint">(${answer})</span></li>`)}</ul>
    <div class="grid" style=${`--day-height:${24 * PX_PER_HOUR}px`}>
      <div class="hours" aria-hidden="true">${Array.from({ length: 24 }, (_, hour) => html`<span style=${`top:${hour * PX_PER_HOUR}px`}>${String(hour).padStart(2, "0")}:00</span>`)}</div>
      ${days(chart).map((day) => html`<div class="day" role="group" aria-label=${dayTitle(day.date)} data-date=${day.date}>
        <div class="day-title">${dayTitle(day.date)}</div>
        <div class="day-body">${day.pieces.map(({ slice, index, from, to }) => {
          const name = slice.rule ?? (slice.kill ? "kill switch" : "no rule");
          const label = `${dayTitle(day.date)} ${clock(from)}–${clock(to)}: ${name}, ${slice.answer}`;
          return html`<button type="button" class=${`slot${selected === index ? " selected" : ""}`} aria-label=${label} title=${label}
            data-rule=${name} data-from=${clock(from)} data-to=${clock(to)}
            style=${`top:${(from / 60) * PX_PER_HOUR}px;height:${Math.max(2, ((to - from) / 60) * PX_PER_HOUR)}px;background:${colourOf(name)}`}
            onClick=${() => onSelect(index)}>${to - from >= 90 ? html`<span>${name}</span><span class="answer">${slice.answer}</span>` : to - from >= 40 ? html`<span>${name}</span>` : null}</button>`;
        })}</div>
      </div>`)}
    </div>
  </div>`;
}

export function WeekPage() {
  const [numbers, setNumbers] = useState([]);
  const [form, setForm] = useState({ to: "", from: "492111234567", since: today(), days: 7 });
  const [chart, setChart] = useState(null);
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    api("rules")
      .then(({ data }) => {
        const known = Object.keys(data?.numbers ?? {});
        setNumbers(known);
        // The first number, offered while the field is empty and nobody is
        // in it: a value put under the cursor is typed onto (a number typed
        // as the rules arrived read "49211000004921100000").
        const typing = document.activeElement?.id === "week-to";
        if (known.length && !typing) setForm((previous) => ({ ...previous, to: previous.to || known[0] }));
      })
      .catch(() => setNumbers([]));
  }, []);

  // The request is what the fields show at the moment of submitting.
  const show = async (event) => {
    event.preventDefault();
    const fields = event.currentTarget.elements;
    setError(null);
    setSelected(null);
    try {
      const body = { from: fields.from.value.trim(), to: fields.to.value.trim(), since: fields.since.value, days: Number(fields.days.value) };
      setChart((await api("schedule", { method: "POST", body })).data);
    } catch (failure) {
      setChart(null);
      setError(failure);
    }
  };
  const field = (name) => (event) => setForm((previous) => ({ ...previous, [name]: event.target.value }));
  const slice = selected !== null ? chart?.slices[selected] : null;
  return html`<div class="week">
    <form class="inline" onSubmit=${show}>
      <div><label for="week-to">Number</label>
        <input id="week-to" name="to" list="week-numbers" value=${form.to} onInput=${field("to")} required inputmode="tel" />
        <datalist id="week-numbers">${numbers.map((number) => html`<option value=${number} />`)}</datalist></div>
      <div><label for="week-from">Caller</label><input id="week-from" name="from" value=${form.from} onInput=${field("from")} required /></div>
      <div><label for="week-since">From</label><input id="week-since" name="since" type="date" value=${form.since} onInput=${field("since")} required /></div>
      <div><label for="week-days">Days</label><input id="week-days" name="days" type="number" min="1" max="31" value=${form.days} onInput=${field("days")} required /></div>
      <button type="submit" class="primary">Show</button>
    </form>
    <${ErrorNotice} error=${error} />
    ${chart ? html`<p class="hint">Rules version ${chart.version}, on the clock of ${chart.timezone}: ${chart.since.slice(0, 16).replace("T", " ")} to ${chart.until.slice(0, 16).replace("T", " ")}.</p>` : null}
    ${chart ? html`<${Chart} chart=${chart} selected=${selected} onSelect=${setSelected} />` : null}
    ${slice
      ? html`<section class="slot-detail" aria-labelledby="slot-title" aria-live="polite">
          <h2 id="slot-title">${slice.start.slice(0, 16).replace("T", " ")} – ${slice.end.slice(0, 16).replace("T", " ")}</h2>
          <dl class="facts"><dt>Rule</dt><dd data-field="slot-rule">${slice.rule ?? (slice.kill ? "the kill switch" : "none matched")}</dd>
            <dt>Answer</dt><dd data-field="slot-answer">${slice.answer}</dd><dt>Length</dt><dd>${Math.floor(slice.minutes / 60)} h ${slice.minutes % 60} min</dd></dl>
          <pre class="xml">${slice.xml}</pre>
        </section>`
      : null}
  </div>`;
}
