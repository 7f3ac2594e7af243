// The draft: a version live only for its test callers. Published from the
// rules page ("Publish as draft"), shown on the status and rules pages
// with its test callers, promoted (refused while another version went live
// since, unless confirmed as a replacement) or discarded.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { ConfirmButton, ErrorNotice, html, Notice, when } from "../ui.js";

/** Test callers as typed (commas, spaces or lines between them) → a list. */
export function parseCallers(text) {
  return text
    .split(/[\s,;]+/)
    .map((caller) => caller.trim())
    .filter(Boolean);
}

/** Why `callers` cannot be a draft's, in words; null when they can. */
export function callersProblem(callers) {
  if (!callers.length) return "Name at least one test caller.";
  const bad = callers.find((caller) => !/^\+?\d{1,15}\*?$/.test(caller));
  return bad ? `${bad} is not a number or a prefix (digits, optionally ending in *).` : null;
}

/**
 * The draft, when there is one: `draft` as the API has it
 * (`{version, shards, callers, base}`), `entry` its index entry, `live` the
 * live version. `onChanged` after a promote or discard; `onOpen(version)`
 * opens its document in the editor (rules page only).
 */
export function DraftPanel({ draft, entry, live, onChanged, onOpen }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  if (!draft) return done ? html`<${Notice} kind="ok">${done}<//>` : null;
  const behind = draft.base !== live;
  const act = async (request, message) => {
    setError(null);
    try {
      const { data } = await request();
      setDone(message(data));
      await onChanged?.();
    } catch (failure) {
      setError(failure);
    }
  };
  const promote = (force) =>
    act(
      () => api("draft/promote", { method: "POST", body: { force } }),
      (data) => `Promoted draft version ${data.to.version}: it is live for every caller${data.from ? ` (version ${data.from} stays for rollback)` : ""}.`,
    );
  const discard = () =>
    act(
      () => api("draft", { method: "DELETE" }),
      (data) => `Discarded draft version ${data.discarded.version}: its test callers get ${live ? `version ${live}` : "no rules (nothing is live)"} again.`,
    );
  return html`<section class="draft" aria-labelledby="draft-title" data-draft=${draft.version}>
    <h2 id="draft-title">Draft: version ${draft.version}</h2>
    <p>Live only for its test callers; everyone else gets version ${live || "none"}.</p>
    <dl class="facts">
      <dt>Test callers</dt><dd data-field="test-callers">${draft.callers.join(", ")}</dd>
      <dt>Published</dt><dd>${when(entry?.publishedAt)}${entry?.publishedBy ? ` by ${entry.publishedBy}` : ""}</dd>
      <dt>Published on</dt><dd>${draft.base ? `version ${draft.base}` : "nothing live"}</dd>
    </dl>
    ${behind
      ? html`<${Notice} kind="error">Version ${live} went live after this draft was published ${draft.base ? `on version ${draft.base}` : "when nothing was live"}: promoting it would drop what version ${live} changed.<//>`
      : null}
    <div class="row">
      ${onOpen ? html`<button type="button" class="quiet" onClick=${() => onOpen(draft.version)}>Open in the editor</button>` : null}
      ${behind
        ? html`<${ConfirmButton} name="promote-force" danger label=${`Promote over version ${live}`} question=${`Replace version ${live} with draft ${draft.version} for every caller?`} onConfirm=${() => promote(true)} />`
        : html`<${ConfirmButton} name="promote" primary label="Promote to live" question=${`Make draft ${draft.version} live for every caller?`} onConfirm=${() => promote(false)} />`}
      <${ConfirmButton} name="discard" label="Discard draft" question=${`Drop draft ${draft.version}? Its test callers get version ${live || "none"} again.`} onConfirm=${discard} />
    </div>
    <${ErrorNotice} error=${error} />
  </section>`;
}
