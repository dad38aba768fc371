// The sessions page: the active ones (cameras and who was seen so far, refreshed), then
// the past ones, newest first, each with its summary.
import { api } from "../api.js";
import { $, h, replace, show } from "../dom.js";
import { busy, formatTime, guarded, showError } from "../ui.js";
import {
  badge, duration, fps, labelled, peopleLine, recognitions, sessionPage, sessionPath,
} from "../sessions_view.js";

const PAGE_SIZE = 10;
const REFRESH_MS = 3000;
let pastPage = 1;

// The list answers briefs; the details (cameras, people, counts) are one GET each.
async function withDetails(briefs) {
  return Promise.all(briefs.map((s) => api.get(sessionPath(s.id))));
}

function cameraLine(camera) {
  return h("li", {},
    h("span", { class: "cam-name", text: camera.name }), " ", badge(camera.status),
    h("span", { class: "muted", text: ` ${fps(camera.fps)} fps` }));
}

function activeCard(s) {
  return h("article", { class: "session-card", dataset: { sessionId: s.id } },
    h("h3", {}, h("a", { href: sessionPage(s.id), text: s.key }), " ", badge(s.status)),
    h("p", { class: "muted",
      text: `#${s.id} · ${s.mode} · started ${formatTime(s.created_at)}` +
        (s.ends_at ? ` · ends ${formatTime(s.ends_at)}` : "") }),
    h("ul", { class: "cam-list" }, s.cameras.map(cameraLine)),
    h("p", {}, h("strong", { text: `${s.people.length} seen: ` }), peopleLine(s.people)));
}

async function loadActive() {
  const box = $("#active");
  const page = await api.get("/api/v1/sessions", { status: "active", page_size: 50 });
  const sessions = await withDetails(page.items);
  if (!sessions.length) {
    replace(box, h("p", { class: "muted placeholder", text: "No session is running." }));
  } else {
    replace(box, sessions.map(activeCard));
  }
  busy(box, false);
}

function pastRow(s) {
  const status = h("td", {}, badge(s.status));
  if (s.reason) status.append(h("div", { class: "muted small", text: s.reason }));
  return h("tr", { dataset: { sessionId: s.id } },
    h("th", { scope: "row" }, h("a", { href: sessionPage(s.id), text: s.key }),
      h("div", { class: "muted small", text: `#${s.id} · ${s.mode}` })),
    status,
    h("td", { text: formatTime(s.created_at) }),
    h("td", { text: duration(s.created_at, s.ended_at) }),
    h("td", { text: s.cameras.map((c) => c.name).join(", ") }),
    h("td", { class: "num", text: recognitions(s) }),
    h("td", { class: "people-seen" },
      h("strong", { text: `${s.people.length}` }), " ", peopleLine(s.people)));
}

async function loadPast() {
  const body = $("#past");
  busy(body, true);
  const page = await api.get("/api/v1/sessions",
    { status: ["ended", "failed"], page: pastPage, page_size: PAGE_SIZE });
  const sessions = await withDetails(page.items);
  labelled(replace(body, sessions.map(pastRow)));
  busy(body, false);
  show($("#past-empty"), page.total === 0);
  show($("#past-table"), page.total > 0);
  show($("#past-pager"), page.pages > 1);
  $("#page-info").textContent = page.total
    ? `Page ${page.page} of ${page.pages} · ${page.total} sessions` : "";
  $("#prev").disabled = page.page <= 1;
  $("#next").disabled = page.page >= page.pages;
}

// Refreshes the active list until the page is left; a session that ended meanwhile moves
// to the past list.
async function refresh() {
  const before = $$ids();
  try {
    await loadActive();
    const after = $$ids();
    if (before.some((id) => !after.includes(id))) await loadPast();
  } catch (err) {
    showError(err);
  }
  setTimeout(refresh, REFRESH_MS);
}

const $$ids = () => [...document.querySelectorAll("#active [data-session-id]")]
  .map((el) => el.dataset.sessionId);

$("#prev").addEventListener("click", guarded(async () => { pastPage -= 1; await loadPast(); }));
$("#next").addEventListener("click", guarded(async () => { pastPage += 1; await loadPast(); }));
loadPast().catch(showError);
refresh();
