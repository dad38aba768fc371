// API keys: create one (its secret is in the create answer only, so it is shown once here
// with a copy button), list them with when they were last used, revoke one.
import { api } from "../api.js";
import { $, h, replace, show } from "../dom.js";
import { badge, emptyRow, renderPager, row } from "../admin.js";
import { busy, confirmAction, formatTime, guarded, notify, showError } from "../ui.js";

const LABELS = ["Name", "Key starts", "Role", "Created", "Last used", "Expires", "Actions"];
const PAGE_SIZE = 25;
let currentPage = 1;

async function load(page = currentPage) {
  const body = $("#key-rows");
  busy(body);
  try {
    const result = await api.get("/api/v1/api-keys", {
      page, page_size: PAGE_SIZE, include_revoked: $("#show-revoked").checked,
    });
    currentPage = result.page;
    replace(body, result.items.length ? result.items.map(keyRow) : emptyRow(7, "No API keys."));
    renderPager($("#keys-pager"), result, (n) => load(n).catch(showError));
  } finally {
    busy(body, false);
  }
}

function revokeButton(key) {
  const button = h("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke ${key.name}` });
  button.addEventListener("click", guarded(async () => {
    if (!(await confirmAction(`Revoke the key "${key.name}"? Whatever uses it stops working at once.`, "Revoke"))) return;
    await api.delete(`/api/v1/api-keys/${key.id}`);
    notify(`Revoked ${key.name}.`, "ok");
    await load();
  }, button));
  return button;
}

function expiry(key) {
  if (!key.expires_at) return "never";
  const past = new Date(key.expires_at) <= new Date();
  return [formatTime(key.expires_at), past ? [" ", badge("expired", "bad")] : null];
}

function keyRow(key) {
  const status = key.revoked_at ? badge(`revoked ${formatTime(key.revoked_at)}`, "bad") : revokeButton(key);
  const tr = row([
    h("strong", { text: key.name }),
    h("code", { text: `${key.prefix}…` }),
    key.role,
    formatTime(key.created_at),
    key.last_used_at ? formatTime(key.last_used_at) : "never",
    expiry(key),
    status,
  ], LABELS);
  tr.dataset.keyName = key.name;
  return tr;
}

function showCreated(created) {
  $("#new-key-value").value = created.key;
  show($("#new-key-shown"));
  $("#new-key-value").focus();
  $("#new-key-value").select();
}

async function copyKey() {
  const field = $("#new-key-value");
  try {
    await navigator.clipboard.writeText(field.value);
    notify("Copied the key to the clipboard.", "ok");
  } catch {
    // No clipboard access (plain http, a refused permission): select it for Ctrl+C.
    field.focus();
    field.select();
    notify("Copying is not allowed here: the key is selected, press Ctrl+C (⌘C) to copy it.");
  }
}

function hideKey() {
  $("#new-key-value").value = "";
  show($("#new-key-shown"), false);
}

const form = $("#new-key");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const data = new FormData(form);
    const expires = data.get("expires_at");
    const created = await api.post("/api/v1/api-keys", {
      name: data.get("name"), role: data.get("role"),
      expires_at: expires ? new Date(expires).toISOString() : null,
    });
    form.reset();
    showCreated(created);
    await load();
  }, $("#create-key"))();
});
$("#copy-key").addEventListener("click", copyKey);
$("#hide-key").addEventListener("click", hideKey);
$("#show-revoked").addEventListener("change", () => load(1).catch(showError));

load().catch(showError);
