// Small shared pieces: the html template tag (htm over Preact), a
// two-step confirmation button, notices, a loader hook and formatting.
import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

/** A notice: `alert` for failures (read out at once), `status` otherwise. */
export function Notice({ kind = "info", children }) {
  return html`<div class=${`notice ${kind}`} role=${kind === "error" ? "alert" : "status"}>${children}</div>`;
}

/** An API error as a notice, with the document's problems when there are. */
export function ErrorNotice({ error }) {
  if (!error) return null;
  return html`<${Notice} kind="error">${error.message}${error.body?.errors?.length
    ? html`<ul>${error.body.errors.map((problem) => html`<li><code>${problem.path || "(document)"}</code> ${problem.message}</li>`)}</ul>`
    : null}<//>`;
}

/**
 * A button that acts only after a second, explicit confirmation: the
 * first click asks (`question`), "Confirm" acts, "Cancel" or Escape backs out.
 */
export function ConfirmButton({ label, question, onConfirm, disabled, danger = false, primary = false, name }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return html`<button type="button" class=${danger ? "danger" : primary ? "primary" : ""} disabled=${disabled} data-action=${name} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return html`<span class="confirm" role="group" aria-label=${question} onKeyDown=${(event) => event.key === "Escape" && setAsking(false)}>
    <span>${question}</span>
    <button type="button" class=${danger ? "danger" : "primary"} disabled=${busy} data-action=${`${name}-confirm`} onClick=${confirm} ref=${(button) => button?.focus()}>Confirm</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** Loads `load()` now and whenever `deps` change; `reload()` again. */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const reload = useCallback(async () => {
    setState((previous) => ({ ...previous, loading: true }));
    try {
      setState({ loading: false, data: await load(), error: null });
    } catch (error) {
      setState({ loading: false, data: null, error });
    }
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { ...state, reload };
}

/** ms since the epoch, or an RFC 3339 string, as the browser's local time. */
export function when(value) {
  if (value === null || value === undefined) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/**
 * Colours that tell rules apart and carry white text at a contrast of at
 * least 4.5:1, handed out in order of first appearance.
 */
const PALETTE = ["#1f5fa8", "#b3471b", "#2e7d32", "#6a3d9a", "#a61e4d", "#00695c", "#7a5c00", "#37474f", "#4e5bb0", "#8a3f2c"];

/** A colour per name, the same for the same name within a palette run. */
export function palette() {
  const given = new Map();
  return (name) => {
    if (!given.has(name)) given.set(name, PALETTE[given.size % PALETTE.length]);
    return given.get(name);
  };
}
