// The console: one page at /admin/, served by the worker's static assets,
// talking only to the admin API (/admin/api/…) of the same origin.
//
// Sign-in: behind Cloudflare Access the API answers at once (Access adds
// its assertion to every request); otherwise the API does not exist (404)
// until the worker's ADMIN_TOKEN is given, kept in this tab's
// sessionStorage.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, token } from "./api.js";
import { CallsPage } from "./pages/calls.js";
import { RulesPage } from "./pages/rules.js";
import { SimulatePage } from "./pages/simulate.js";
import { StatusPage } from "./pages/status.js";
import { WeekPage } from "./pages/week.js";
import { html, Notice } from "./ui.js";

const PAGES = [
  { id: "status", title: "Status", Page: StatusPage },
  { id: "rules", title: "Rules", Page: RulesPage },
  { id: "week", title: "Week", Page: WeekPage },
  { id: "simulate", title: "Simulate", Page: SimulatePage },
  { id: "calls", title: "Calls", Page: CallsPage },
];

/** `#/calls/abc` → {id: "calls", rest: "abc"} */
function route() {
  const [id, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = PAGES.find((candidate) => candidate.id === id) ?? PAGES[0];
  return { page, rest: rest.map(decodeURIComponent).join("/") };
}

function useRoute() {
  const [current, setCurrent] = useState(route);
  useEffect(() => {
    const changed = () => setCurrent(route());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return current;
}

function SignIn({ refused, onSignIn }) {
  const [value, setValue] = useState("");
  const submit = (event) => {
    event.preventDefault();
    if (value.trim()) onSignIn(value.trim());
  };
  return html`<main class="sign-in">
    <h1>sipgate-router console</h1>
    ${refused ? html`<${Notice} kind="error">The worker did not accept that token (or has no ADMIN_TOKEN set).<//>` : null}
    <form onSubmit=${submit}>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" value=${value} onInput=${(event) => setValue(event.target.value)} required />
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p class="hint">The worker's <code>ADMIN_TOKEN</code> (locally: <code>.dev.vars</code>, printed by <code>npm start</code>).
      It is kept in this browser tab only (sessionStorage) and sent only to this worker.
      Behind Cloudflare Access you are signed in without it.</p>
  </main>`;
}

function App() {
  const [auth, setAuth] = useState({ state: "checking" });
  const { page, rest } = useRoute();
  const check = async () => {
    try {
      await api("status");
      setAuth({ state: "in", byToken: Boolean(token.get()) });
    } catch (error) {
      if (error.status === 404) {
        const refused = Boolean(token.get());
        token.clear();
        setAuth({ state: "out", refused });
      } else {
        setAuth({ state: "in", byToken: Boolean(token.get()), error });
      }
    }
  };
  useEffect(() => {
    check();
  }, []);
  useEffect(() => {
    document.title = `${page.title} · sipgate-router console`;
  }, [page]);
  if (auth.state === "checking") return html`<p class="loading">Signing in…</p>`;
  if (auth.state === "out") {
    return html`<${SignIn} refused=${auth.refused} onSignIn=${(value) => {
      token.set(value);
      setAuth({ state: "checking" });
      check();
    }} />`;
  }
  const signOut = () => {
    token.clear();
    setAuth({ state: "out", refused: false });
  };
  return html`<div class="shell">
    <header>
      <span class="brand">sipgate-router</span>
      <nav aria-label="Pages">
        ${PAGES.map((candidate) => html`<a href=${`#/${candidate.id}`} aria-current=${candidate === page ? "page" : undefined}>${candidate.title}</a>`)}
      </nav>
      ${auth.byToken ? html`<button type="button" class="quiet" onClick=${signOut}>Sign out</button>` : html`<span class="who">signed in by Cloudflare Access</span>`}
    </header>
    <main id="page" tabindex="-1">
      <h1>${page.title}</h1>
      <${page.Page} rest=${rest} />
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
