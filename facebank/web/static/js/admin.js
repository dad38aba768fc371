// What the dashboard and the admin pages share: a pager, health reads, badges and
// key/value lists. Everything goes in as text (dom.js).
import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";

// /health and /health/detailed answer 503 with their full report when degraded, so the
// report is read either way (api.js would turn a 503 into an error and drop it).
export async function readHealth(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network_error", "the server cannot be reached; check the connection");
  }
  if (response.status !== 200 && response.status !== 503) {
    let message = response.statusText || "request failed";
    try {
      message = (await response.json()).error?.message ?? message;
    } catch { /* not JSON: keep the status text */ }
    throw new ApiError(response.status, "http_error", message);
  }
  return response.json();
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind ?? ""}`, text });
}

export const okBadge = (ok, yes = "ok", no = "failing") => badge(ok ? yes : no, ok ? "ok" : "bad");

// A <dl> of label/value pairs; values may be nodes or text.
export function facts(pairs) {
  return h("dl", { class: "facts" },
    pairs.flatMap(([label, value]) => [h("dt", { text: label }), h("dd", {}, value ?? "—")]));
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  let s = Math.round(seconds);
  const days = Math.floor(s / 86400);
  s %= 86400;
  const hours = Math.floor(s / 3600);
  s %= 3600;
  const minutes = Math.floor(s / 60);
  s %= 60;
  if (days) return `${days} d ${hours} h`;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${s} s`;
  return `${s} s`;
}

// Previous / "page x of y" / next under a table; `onPage(n)` loads page n.
export function renderPager(el, result, onPage) {
  const { page, pages, total } = result;
  const last = Math.max(pages, 1);
  replace(el,
    h("span", { class: "muted", text: `${total} in all · page ${Math.min(page, last)} of ${last}` }),
    h("button", { type: "button", class: "secondary", text: "Previous", disabled: page <= 1,
      onclick: () => onPage(page - 1) }),
    h("button", { type: "button", class: "secondary", text: "Next", disabled: page >= last,
      onclick: () => onPage(page + 1) }));
}

// A table body row of cells (text or nodes); `label`s let the phone layout name each cell.
// Each cell's content sits in one wrapper, so the phone layout's two columns hold it whole.
export function row(cells, labels) {
  return h("tr", {}, cells.map((cell, i) =>
    h("td", { "data-label": labels?.[i] }, h("div", { class: "cell" }, cell ?? "—"))));
}

export function emptyRow(columns, text) {
  return h("tr", {}, h("td", { colspan: columns, class: "muted", text }));
}
