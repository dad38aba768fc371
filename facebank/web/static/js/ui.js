// What every page shares: who may do what, notices, confirmation, errors, formatting.
import { $, h } from "./dom.js";

const main = document.getElementById("main");

// The phone-width menu opens and closes with its button.
const menu = document.getElementById("menu");
menu?.querySelector(".menu-toggle")?.addEventListener("click", (event) => {
  const open = menu.classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
const granted = new Set((main?.dataset.permissions ?? "").split(" ").filter(Boolean));

// Whether the signed-in user holds a permission (facebank.auth.roles). The server refuses
// anyway; this only keeps controls a role cannot use off the page.
export const can = (permission) => granted.has(permission);

export function param(name) {
  return main?.dataset[name];
}

export function notify(message, kind = "info", timeoutMs = 6000) {
  const box = $("#notices");
  const note = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { text: message }),
    h("button", { class: "link close", type: "button", "aria-label": "Dismiss",
      onclick: () => note.remove(), text: "×" }));
  box.append(note);
  if (timeoutMs) setTimeout(() => note.remove(), timeoutMs);
  return note;
}

// The message to show for an API failure; a refusal (403) says what is not allowed.
export function describeError(err) {
  if (err?.status === 403) return `Not allowed: ${err.message}`;
  return err?.message ?? String(err);
}

export function showError(err) {
  console.error(err);
  return notify(describeError(err), "error", 10000);
}

// Wraps an async handler so failures show as a notice and the control is disabled meanwhile.
export function guarded(handler, control) {
  return async (event) => {
    if (control) control.disabled = true;
    try {
      await handler(event);
    } catch (err) {
      if (err?.name !== "AbortError") showError(err);
    } finally {
      if (control) control.disabled = false;
    }
  };
}

export function confirmAction(text, okLabel = "Delete") {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

export function formatTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function formatScore(score) {
  return score === null || score === undefined ? "—" : Number(score).toFixed(3);
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A busy marker for a region being loaded, without changing its size (no layout shift).
export function busy(el, isBusy = true) {
  el.setAttribute("aria-busy", isBusy ? "true" : "false");
}
