// The audit log: who created, changed or deleted what, newest first; filtered by actor,
// action, target kind and a time window. The filters live in the address, so a filtered
// view can be bookmarked or shared.
import { api } from "../api.js";
import { $, h, replace } from "../dom.js";
import { badge, emptyRow, renderPager, row } from "../admin.js";
import { busy, guarded, showError } from "../ui.js";

const FIELDS = ["actor_name", "action", "target_kind", "since", "until"];
const TIMES = new Set(["since", "until"]);
const LABELS = ["Time", "Actor", "Action", "Target", "Details"];
const PAGE_SIZE = 25;
const form = $("#audit-filters");

// The form's filters as API query values: local times become instants with a zone.
function criteria() {
  const data = new FormData(form);
  const query = {};
  for (const name of FIELDS) {
    const value = String(data.get(name) ?? "").trim();
    if (value) query[name] = TIMES.has(name) ? new Date(value).toISOString() : value;
  }
  return query;
}

function remember(page) {
  const params = new URLSearchParams();
  const data = new FormData(form);
  for (const name of FIELDS) if (data.get(name)) params.set(name, data.get(name));
  if (page > 1) params.set("page", String(page));
  const text = params.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function restore() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) if (params.has(name)) form.elements[name].value = params.get(name);
  return Math.max(1, Number(params.get("page")) || 1);
}

function details(entry) {
  const text = Object.keys(entry.details ?? {}).length ? JSON.stringify(entry.details) : "";
  return h("span", { class: "details-cell", text });
}

// Targets that have a page link to it (a deleted one answers that page's 404).
const TARGET_PAGES = { person: "/ui/people/", session: "/ui/sessions/" };

function target(entry) {
  const text = `${entry.target_kind.replace("_", " ")}${entry.target_id ? ` #${entry.target_id}` : ""}`;
  const page = TARGET_PAGES[entry.target_kind];
  return page && entry.target_id ? h("a", { href: page + entry.target_id, text }) : text;
}

// The actor's name filters the log down to what they did.
function actor(entry) {
  const only = h("button", {
    type: "button", class: "link", text: entry.actor_name, title: `Only what ${entry.actor_name} did`,
    onclick: () => {
      form.elements.actor_name.value = entry.actor_name;
      load(1).catch(showError);
    },
  });
  return [only, " ", h("span", { class: "muted", text: entry.actor_kind.replace("_", " ") })];
}

function entryRow(entry) {
  const time = new Date(entry.at);
  return row([
    h("time", { datetime: entry.at, text: time.toLocaleString() }),
    actor(entry),
    badge(entry.action.replace("_", " "), entry.action === "delete" || entry.action === "revoke" ? "bad" : ""),
    target(entry),
    details(entry),
  ], LABELS);
}

async function load(page = 1) {
  const body = $("#audit-rows");
  busy(body);
  try {
    const result = await api.get("/api/v1/audit", { ...criteria(), page, page_size: PAGE_SIZE });
    remember(result.page);
    replace(body, result.items.length ? result.items.map(entryRow) : emptyRow(5, "No entries match."));
    $("#audit-count").textContent = `(${result.total})`;
    renderPager($("#audit-pager"), result, (n) => load(n).catch(showError));
  } finally {
    busy(body, false);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(() => load(1), $("#apply-filters"))();
});
$("#clear-filters").addEventListener("click", guarded(async () => {
  form.reset();
  await load(1);
}));

load(restore()).catch(showError);
