// System: the index against the database (and a rebuild), and /health/detailed laid out
// as sections a person can read; the raw report stays one click away.
import { api } from "../api.js";
import { $, h, replace } from "../dom.js";
import { facts, formatDuration, okBadge, readHealth } from "../admin.js";
import { busy, confirmAction, describeError, formatTime, guarded, notify } from "../ui.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const label = (key) => key.replaceAll("_", " ");
const SUMMARY = new Set(["status", "version", "uptime_s", "checks"]);

function failed(el, err) {
  replace(el, h("p", { class: "alert error", role: "alert", text: describeError(err) }));
}

function renderIndex(index) {
  const other = Object.entries(index.other_model_faces ?? {});
  replace($("#index-status"),
    h("p", {}, okBadge(index.consistent, "consistent with the database", "not consistent: rebuild it")),
    facts([
      ["Model", h("code", { text: index.model_id })],
      ["Dimensions", String(index.dim)],
      ["Faces indexed", String(index.index_size)],
      ["Faces in database", String(index.db_count)],
      ["People", String(index.person_count)],
      ["Other models", other.length ? other.map(([m, n]) => `${m}: ${n}`).join(", ") : "none"],
      ["Last sync", `${formatTime(index.last_sync)}${index.last_sync_kind ? ` (${index.last_sync_kind})` : ""}`],
      ["Sync took", index.last_sync_seconds === null ? "—" : `${index.last_sync_seconds.toFixed(2)} s`],
      ["Snapshot saved", formatTime(index.snapshot_saved_at)],
    ]));
}

// A value of the report: objects become fact lists, lists of records become tables.
function present(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (Array.isArray(value)) {
    if (value.length && value.every(isObject)) return records(value.map((v) => [null, v]));
    return value.map(String).join(", ") || "—";
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length > 1 && entries.every(([, v]) => isObject(v) && !Object.values(v).some(isObject))) {
      return records(entries);
    }
    if (!entries.length) return "none";
    return factList(entries);
  }
  return String(value);
}

// Like admin.js facts, but a table or a nested list takes the whole width under its label
// (nested lists side by side would squeeze the innermost into a sliver).
function factList(entries) {
  return h("dl", { class: "facts" }, entries.flatMap(([key, v]) => {
    const shown = present(v);
    const wide = shown instanceof Element && (shown.classList.contains("table-wrap") || shown.tagName === "DL");
    return [h("dt", { class: wide ? "span" : null, text: label(key) }), h("dd", { class: wide ? "span" : null }, shown)];
  }));
}

// Rows of flat records (e.g. per-route request stats), one column per key.
function records(entries) {
  const columns = [...new Set(entries.flatMap(([, v]) => Object.keys(v)))];
  const named = entries.some(([name]) => name !== null);
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, named ? h("th", { scope: "col" }) : null,
      columns.map((c) => h("th", { scope: "col", text: label(c) })))),
    h("tbody", {}, entries.map(([name, v]) => h("tr", {},
      named ? h("th", { scope: "row", text: name }) : null,
      columns.map((c) => h("td", {}, present(v[c]))))))));
}

function checkList(checks) {
  return h("ul", { class: "check-list" }, Object.entries(checks).map(([name, check]) => {
    const rest = Object.entries(check).filter(([k]) => k !== "ok");
    return h("li", {}, h("strong", { text: label(name) }), " ", okBadge(check.ok),
      rest.length ? h("span", { class: "muted", text: ` ${rest.map(([k, v]) => `${label(k)}: ${v}`).join(" · ")}` }) : null);
  }));
}

function renderHealth(report) {
  replace($("#health-summary"),
    h("p", {}, okBadge(report.status === "ok", "ok", report.status)),
    facts([["Version", report.version], ["Up for", formatDuration(report.uptime_s)]]),
    h("h3", { text: "Checks" }), checkList(report.checks ?? {}));
  const sections = Object.entries(report).filter(([key]) => !SUMMARY.has(key));
  replace($("#health-sections"), sections.map(([key, value]) => {
    const shown = present(value);
    // A table of many columns (per-route request numbers) gets the row to itself.
    const wide = shown instanceof Element && (shown.querySelector("thead tr")?.children.length ?? 0) > 5;
    return h("section", { class: wide ? "panel wide" : "panel", "aria-labelledby": `health-${key}` },
      h("h3", { id: `health-${key}`, text: label(key) }), shown);
  }));
  $("#health-raw").textContent = JSON.stringify(report, null, 2);
}

async function loadIndex() {
  const el = $("#index-status");
  try {
    renderIndex(await api.get("/api/v1/index"));
  } catch (err) {
    failed(el, err);
  } finally {
    busy(el, false);
  }
}

async function loadHealth() {
  try {
    renderHealth(await readHealth("/health/detailed"));
  } catch (err) {
    failed($("#health-summary"), err);
  } finally {
    busy($("#health-summary"), false);
    busy($("#health-sections"), false);
  }
}

const rebuild = $("#rebuild");
rebuild.addEventListener("click", guarded(async () => {
  if (!(await confirmAction("Rebuild the index from the database now?", "Rebuild"))) return;
  const index = await api.post("/api/v1/index/rebuild");
  renderIndex(index);
  notify(`Index rebuilt: ${index.index_size} faces.`, "ok");
  await loadHealth();
}, rebuild));
$("#refresh").addEventListener("click", guarded(() => Promise.all([loadIndex(), loadHealth()]), $("#refresh")));

loadIndex();
loadHealth();
