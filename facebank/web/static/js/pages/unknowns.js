// The unknown faces review page: clusters of faces nobody in the gallery matched, largest or
// newest first, filtered by session, camera and time, a page at a time; one cluster's detail
// and actions (unknowns_detail.js). The query and the open cluster live in the address bar.
import { api } from "../api.js";
import { $, $$, h, replace } from "../dom.js";
import { busy, describeError, showError } from "../ui.js";
import { showCluster, wireDetail } from "../unknowns_detail.js";
import { unknowns } from "../unknowns_api.js";
import { clusterCard, plural } from "../unknowns_view.js";

const FILTERS = ["status", "session_id", "camera_id", "seen_after", "seen_before"];
const PAGE_SIZES = ["12", "24", "48", "96"];
const SESSIONS_LISTED = 100; // the session filter offers the latest ones
const form = $("#filters");
const grid = $("#clusters");
const names = new Map(); // person id -> name, for the flags
let state = readState();
let pending = null;

function readState() {
  const query = new URLSearchParams(location.search);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ""]));
  if (!filters.status) filters.status = "open";
  const size = query.get("limit");
  return {
    filters,
    order: query.get("order") === "newest" ? "newest" : "largest",
    page: Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1),
    limit: PAGE_SIZES.includes(size) ? Number(size) : 24,
    cluster: Number.parseInt(query.get("cluster") ?? "", 10) || null,
  };
}

function stateQuery(cluster = state.cluster) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(state.filters)) {
    if (value && !(key === "status" && value === "open")) query.set(key, value);
  }
  if (state.order !== "largest") query.set("order", state.order);
  if (state.page > 1) query.set("page", String(state.page));
  if (state.limit !== 24) query.set("limit", String(state.limit));
  if (cluster) query.set("cluster", String(cluster));
  const text = query.toString();
  return text ? `?${text}` : location.pathname;
}

// The datetime-local fields hold local time; the API takes ISO instants.
const toInstant = (local) => (local ? new Date(local).toISOString() : "");
const toLocal = (instant) => {
  if (!instant) return "";
  const d = new Date(instant);
  if (Number.isNaN(d.getTime())) return "";
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};

function apiQuery() {
  const f = state.filters;
  return {
    status: f.status, session_id: f.session_id, camera_id: f.camera_id,
    seen_after: f.seen_after, seen_before: f.seen_before, order: state.order,
    offset: (state.page - 1) * state.limit, limit: state.limit,
  };
}

// The names of the people clusters look like (flagged) or became (named, added).
async function peopleNames(clusters) {
  const wanted = [...new Set(clusters.flatMap((c) => [c.match_person_id, c.person_id]).filter(Boolean))]
    .filter((id) => !names.has(id));
  await Promise.all(wanted.map(async (id) => {
    try {
      names.set(id, (await api.get(`/api/v1/people/${id}`)).name);
    } catch {
      names.set(id, null);
    }
  }));
}

async function load() {
  pending?.abort();
  pending = new AbortController();
  busy(grid);
  try {
    const answer = await unknowns.clusters(apiQuery(), { signal: pending.signal });
    if (!answer.items.length && state.page > 1 && answer.total !== undefined) {
      state.page = Math.max(1, Math.ceil(answer.total / state.limit)); // the last page emptied
      if (answer.total) return load();
    }
    await peopleNames(answer.items);
    render(answer);
  } catch (err) {
    if (err.name === "AbortError") return;
    $("#summary").textContent = `Could not load the clusters: ${describeError(err)}`;
    replace(grid);
  } finally {
    busy(grid, false);
  }
}

function render(answer) {
  const { items } = answer;
  const total = answer.total ?? null;
  const first = (state.page - 1) * state.limit + 1;
  const filtered = ["session_id", "camera_id", "seen_after", "seen_before"].some((k) => state.filters[k]);
  const pages = total === null ? null : Math.max(1, Math.ceil(total / state.limit));
  const all = total !== null && state.page === 1 && items.length === total; // one page holds them
  $("#summary").textContent = items.length
    ? all ? plural(total, "cluster")
      : `${first}–${first + items.length - 1}${total === null ? "" : ` of ${plural(total, "cluster")}`}`
    : filtered ? "No cluster matches these filters."
      : state.filters.status === "open" ? "No unknown faces to review." : "No clusters here.";
  replace(grid, items.map((c) => clusterCard(c, stateQuery(c.id), names, open)));
  $("#page-of").textContent = pages === null ? `Page ${state.page}` : `Page ${state.page} of ${pages}`;
  $("#prev").disabled = state.page <= 1;
  $("#next").disabled = pages === null ? items.length < state.limit : state.page >= pages;
}

// --- the filters ------------------------------------------------------------------------------

async function fillSessions() {
  const select = form.elements.session_id;
  try {
    const page = await api.get("/api/v1/sessions", { page_size: SESSIONS_LISTED });
    replace(select, h("option", { value: "", text: "Any session" }),
      page.items.map((s) => h("option", { value: s.id, text: `${s.key} (#${s.id})` })));
  } catch (err) {
    showError(err);
  }
  if (state.filters.session_id && !select.querySelector(`option[value="${CSS.escape(state.filters.session_id)}"]`)) {
    select.append(h("option", { value: state.filters.session_id, text: `#${state.filters.session_id}` }));
  }
  select.value = state.filters.session_id;
}

// A camera belongs to one session: the camera list is the chosen session's.
async function fillCameras(sessionId, chosen = "") {
  const select = form.elements.camera_id;
  replace(select, h("option", { value: "", text: "Any camera" }));
  select.disabled = !sessionId;
  if (!sessionId) return;
  try {
    const session = await api.get(`/api/v1/sessions/${sessionId}`);
    select.append(...session.cameras.map((c) => h("option", { value: c.id, text: c.name })));
  } catch (err) {
    showError(err);
  }
  select.value = chosen;
}

function fillForm() {
  const f = state.filters;
  const status = form.elements.status;
  // A comma list from a typed address (the API takes one) gets an option of its own.
  if (![...status.options].some((o) => o.value === f.status)) {
    status.append(h("option", { value: f.status, text: f.status.replaceAll(",", ", ") }));
  }
  status.value = f.status;
  form.elements.seen_after.value = toLocal(f.seen_after);
  form.elements.seen_before.value = toLocal(f.seen_before);
  for (const radio of $$('input[name="order"]')) radio.checked = radio.value === state.order;
  $("#page-size").value = String(state.limit);
}

function formFilters() {
  return {
    status: form.elements.status.value,
    session_id: form.elements.session_id.value,
    camera_id: form.elements.camera_id.value,
    seen_after: toInstant(form.elements.seen_after.value),
    seen_before: toInstant(form.elements.seen_before.value),
  };
}

// --- list or detail ---------------------------------------------------------------------------

function showView() {
  const detail = state.cluster !== null;
  $("#list-view").hidden = detail;
  $("#detail-view").hidden = !detail;
  if (detail) {
    showCluster(state.cluster).catch((err) => {
      $("#detail-facts").textContent = `Could not load cluster ${state.cluster}: ${describeError(err)}`;
    });
  }
}

function open(id) {
  state.cluster = id;
  history.pushState(null, "", stateQuery());
  showView();
  window.scrollTo(0, 0);
}

function back() {
  const was = state.cluster;
  state.cluster = null;
  history.pushState(null, "", stateQuery());
  showView();
  // Keyboard users land on the card they opened, not at the top of the page.
  grid.querySelector(`[data-cluster-id="${was}"] a`)?.focus();
}

function reload() {
  history.replaceState(null, "", stateQuery());
  load();
}

function wire() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state = { ...state, filters: formFilters(), page: 1 };
    reload();
  });
  form.addEventListener("reset", () => setTimeout(() => {
    fillCameras("");
    state = { ...state, filters: formFilters(), page: 1 };
    reload();
  }));
  form.elements.session_id.addEventListener("change", (e) => fillCameras(e.target.value));
  form.elements.status.addEventListener("change", () => form.requestSubmit());
  for (const radio of $$('input[name="order"]')) {
    radio.addEventListener("change", () => { state = { ...state, order: radio.value, page: 1 }; reload(); });
  }
  $("#prev").addEventListener("click", () => { state.page -= 1; reload(); });
  $("#next").addEventListener("click", () => { state.page += 1; reload(); });
  $("#page-size").addEventListener("change", (e) => {
    state = { ...state, limit: Number(e.target.value), page: 1 };
    reload();
  });
  $("#back").addEventListener("click", back);
  window.addEventListener("popstate", () => {
    const before = JSON.stringify({ ...state, cluster: null });
    state = readState();
    fillForm();
    if (JSON.stringify({ ...state, cluster: null }) !== before) load();
    showView();
  });
  wireDetail(() => load());
}

fillForm();
wire();
fillSessions().then(() => fillCameras(state.filters.session_id, state.filters.camera_id));
load();
showView();
