// The dashboard: counts, index state, health, active sessions with their cameras and the
// people the latest sessions recognised. Each card fills in on its own; a failing card
// says so without blanking the others.
import { api } from "../api.js";
import { $, h, replace } from "../dom.js";
import { badge, emptyRow, facts, formatDuration, okBadge, readHealth, row } from "../admin.js";
import { busy, can, describeError, formatScore, formatTime } from "../ui.js";

const RECENT_SESSIONS = 5; // sessions whose people seen make up "recent recognitions"
const RECENT_ROWS = 8;

function failed(el, err) {
  replace(el, h("p", { class: "alert error", role: "alert", text: describeError(err) }));
}

// Fills `el` from `load()`; the card keeps its reserved size meanwhile.
async function card(el, load, onError = failed) {
  try {
    await load();
  } catch (err) {
    onError(el, err);
  } finally {
    busy(el, false);
  }
}

async function loadIndex() {
  const index = await api.get("/api/v1/index");
  $("#people-count").textContent = String(index.person_count);
  $("#face-count").textContent = String(index.db_count);
  busy($("#people-count"), false);
  busy($("#face-count"), false);
  const other = Object.values(index.other_model_faces ?? {}).reduce((a, b) => a + b, 0);
  $("#faces-other").textContent = other ? `${other} embedded with another model` : "";
  replace($("#index-badge"), okBadge(index.consistent, "consistent", "not consistent"));
  replace($("#index-state"),
    facts([
      ["Model", h("code", { text: index.model_id })],
      ["Indexed", `${index.index_size} of ${index.db_count} faces`],
      ["Last sync", formatTime(index.last_sync)],
    ]));
}

// For admins, a few lines of the detailed report: where the data lives and how the
// machine is doing.
async function detailedLines() {
  const report = await readHealth("/health/detailed");
  const machine = report.system?.machine ?? {};
  return [
    ["Database", report.database?.kind],
    ["Memory", machine.memory_percent === undefined ? "—" : `${machine.memory_percent}% used`],
    ["Disk", machine.disk?.percent === undefined ? "—" : `${machine.disk.percent}% used`],
  ];
}

async function loadHealth() {
  const health = await readHealth("/health");
  const items = [
    ["Version", health.version],
    ["Up for", formatDuration(health.uptime_s)],
  ];
  if (health.failing?.length) items.push(["Failing", health.failing.join(", ")]);
  if (can("read_metrics")) items.push(...await detailedLines());
  replace($("#health-badge"), okBadge(health.status === "ok", "ok", health.status));
  const parts = [facts(items)];
  if (can("read_metrics")) {
    parts.push(h("p", { class: "dash-foot" }, h("a", { href: "/ui/admin/system", text: "Detailed health" })));
  }
  replace($("#health-state"), parts);
}

function cameraLine(camera) {
  const ok = camera.status === "running";
  const fps = camera.fps === null || camera.fps === undefined ? "" : ` · ${camera.fps.toFixed(1)} fps`;
  return h("li", {},
    h("span", { text: camera.name }), " ",
    badge(camera.status, ok ? "ok" : camera.status === "failed" ? "bad" : "warn"),
    h("span", { class: "muted", text: fps }));
}

async function loadSessions() {
  const active = await api.get("/api/v1/sessions", { status: "active", page_size: 5 });
  const el = $("#active-sessions");
  if (!active.items.length) {
    replace(el, h("p", { class: "muted", text: "No session is running." }));
    return;
  }
  const views = await Promise.all(active.items.map((s) => api.get(`/api/v1/sessions/${s.id}`)));
  const list = h("ul", { class: "session-list" }, views.map((view) => h("li", {},
    h("a", { href: `/ui/sessions/${view.id}`, text: view.key }),
    h("span", { class: "muted", text: ` · since ${formatTime(view.created_at)}` }),
    h("ul", { class: "camera-list", "aria-label": `Cameras of ${view.key}` }, view.cameras.map(cameraLine)))));
  const more = active.total > views.length ? h("p", { class: "muted", text: `and ${active.total - views.length} more` }) : null;
  replace(el, list, more);
}

// The API keeps no log of one-off /recognize calls; what it keeps are the camera
// sessions' recognitions, summed up per person seen. The latest sessions' are merged here.
async function loadRecent() {
  const latest = await api.get("/api/v1/sessions", { page_size: RECENT_SESSIONS });
  const views = await Promise.all(latest.items.map((s) => api.get(`/api/v1/sessions/${s.id}`)));
  const seen = views.flatMap((view) => view.people.map((person) => ({ person, view })));
  seen.sort((a, b) => new Date(b.person.last_seen) - new Date(a.person.last_seen));
  const body = $("#recent-rows");
  const labels = ["Person", "Last seen", "Best score", "Session"];
  if (!seen.length) {
    replace(body, emptyRow(4, "No recognitions yet: none of the latest sessions saw anyone."));
    return;
  }
  replace(body, seen.slice(0, RECENT_ROWS).map(({ person, view }) => row([
    h("a", { href: `/ui/people/${person.person_id}`, text: person.name ?? `#${person.person_id}` }),
    formatTime(person.last_seen),
    formatScore(person.best_score),
    h("a", { href: `/ui/sessions/${view.id}`, text: view.key }),
  ], labels)));
}

const REFRESH_MS = 15000; // the dashboard stays current while it is open

function refresh() {
  card($("#index-state"), loadIndex);
  card($("#health-state"), loadHealth);
  card($("#active-sessions"), loadSessions);
  card($("#recent-rows"), loadRecent, (el, err) => replace(el,
    h("tr", {}, h("td", { colspan: 4, class: "alert error", role: "alert", text: describeError(err) }))));
}

refresh();
setInterval(() => {
  if (!document.hidden) refresh();
}, REFRESH_MS);
