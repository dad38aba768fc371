// The one way pages talk to the server: the JSON API, with the session cookie and the
// session's CSRF token on every state-changing request. Errors come back as ApiError
// carrying the API's {code, message, details}.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const SAFE = new Set(["GET", "HEAD"]);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details ?? {};
  }
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    const error = body.error ?? {};
    return new ApiError(response.status, error.code ?? "http_error",
      error.message ?? response.statusText, error.details);
  } catch {
    return new ApiError(response.status, "http_error", response.statusText || "request failed");
  }
}

// request("/api/v1/people", {query: {...}}), {method: "POST", json: {...}} or {form: FormData}.
// Returns the parsed JSON (null for an empty body); throws ApiError. `signInOn401: false`
// is for a 401 that is an answer, not an ended session (a wrong current password).
export async function request(
  path, { method = "GET", json, form, query, signal, signInOn401 = true } = {},
) {
  const headers = { Accept: "application/json" };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(withQuery(path, query), {
      method, headers, body, signal, credentials: "same-origin",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "the server cannot be reached; check the connection");
  }
  if (response.status === 401 && signInOn401) {
    // The session ended (expired, signed out elsewhere): back to sign-in, then here again.
    const here = location.pathname + location.search;
    location.assign(`/ui/sign-in?next=${encodeURIComponent(here)}`);
    throw await errorOf(response);
  }
  if (!response.ok) throw await errorOf(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const api = {
  get: (path, query, options = {}) => request(path, { ...options, query }),
  post: (path, json) => request(path, { method: "POST", json }),
  postForm: (path, form, query) => request(path, { method: "POST", form, query }),
  patch: (path, json) => request(path, { method: "PATCH", json }),
  put: (path, json) => request(path, { method: "PUT", json }),
  delete: (path, query) => request(path, { method: "DELETE", query }),
};
