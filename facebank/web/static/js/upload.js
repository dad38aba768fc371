// A multipart upload with progress. fetch() cannot report how much of a request body has
// been sent, so this one request goes through XMLHttpRequest; everything else keeps using
// api.js, whose conventions it copies: the session cookie, the X-CSRF-Token header, errors
// as ApiError from the API's {error: {code, message, details}}, a 401 back to sign-in.
import { ApiError } from "./api.js";

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

function errorOf(xhr) {
  let error = {};
  try {
    error = JSON.parse(xhr.responseText).error ?? {};
  } catch {
    // not JSON (a proxy's error page, say): the status line is all there is
  }
  return new ApiError(xhr.status, error.code ?? "http_error",
    error.message ?? (xhr.statusText || "request failed"), error.details);
}

function toSignIn() {
  const here = location.pathname + location.search;
  location.assign(`/ui/sign-in?next=${encodeURIComponent(here)}`);
}

// POSTs `form` to `path`; onProgress(sentBytes, totalBytes) as the body goes out. Resolves
// with the parsed JSON answer; rejects with ApiError (status 0: the server unreachable) or,
// when `signal` aborts, a DOMException named AbortError (as fetch would).
export function uploadForm(path, form, { onProgress = () => {}, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 401) {
        toSignIn();
        reject(errorOf(xhr));
      } else if (xhr.status < 200 || xhr.status >= 300) {
        reject(errorOf(xhr));
      } else {
        try {
          resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null);
        } catch {
          reject(new ApiError(xhr.status, "http_error", "the server's answer is not JSON"));
        }
      }
    });
    xhr.addEventListener("error", () => reject(
      new ApiError(0, "network_error", "the server cannot be reached; check the connection")));
    xhr.addEventListener("abort", () => reject(new DOMException("upload cancelled", "AbortError")));
    if (signal) {
      if (signal.aborted) {
        reject(new DOMException("upload cancelled", "AbortError"));
        return;
      }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(form);
  });
}
