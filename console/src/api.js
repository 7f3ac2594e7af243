// The admin API, from the page: same origin only (absolute paths, never a
// URL), the token (when signing in with one) from sessionStorage — never
// localStorage, never the URL — as `Authorization: Bearer`. With Cloudflare
// Access in front, no token is needed: Access adds its assertion itself.

const TOKEN_KEY = "sipgate-router.admin-token";
const PREFIX = "/admin/api/";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal of the API: its status and `{"error", "errors"?, …}`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `the API answered ${status}`);
    this.status = status;
    this.body = body ?? {};
  }
}

/**
 * Calls `path` (below /admin/api/) and answers `{data, etag}`, or throws an
 * ApiError. `body` is sent as JSON (a string as it is).
 */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  // The API never redirects; Cloudflare Access does, to its sign-in page,
  // when its session has run out.
  const init = { method, headers: { ...headers }, credentials: "same-origin", cache: "no-store", redirect: "manual" };
  const bearer = token.get();
  if (bearer) init.headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(PREFIX + path, init);
  if (response.type === "opaqueredirect") {
    throw new ApiError(401, { error: "Your Cloudflare Access session has run out: reload the page to sign in again." });
  }
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text.trim() || response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  const etag = response.headers.get("etag");
  return { data, text, etag: etag ? Number(etag.replaceAll('"', "").replace(/^W\//, "")) : null };
}
