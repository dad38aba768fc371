// The people page: server-side search, sort and pages (one API page at a time, never the
// whole gallery), and deleting several people after a confirmation. The query lives in the
// address bar, so a search can be bookmarked and Back returns to it.
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { busy, can, confirmAction, describeError, formatTime, guarded, notify } from "../ui.js";

const FILTERS = ["q", "age_min", "age_max", "address", "external_id"];
const PAGE_SIZES = ["25", "50", "100", "200"];
const COLUMNS = ["Name", "Age", "Gender", "Address", "External id", "Photos", "Added"];
const TYPING_PAUSE_MS = 300;

const form = $("#search");
const rows = $("#rows");
const mayDelete = can("enroll");
const selected = new Map(); // person id -> name, on the shown page
let state = readState();
let pending = null; // the request in flight, aborted when a newer one starts
let typingTimer = 0;

function readState() {
  const query = new URLSearchParams(location.search);
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ""]));
  const size = query.get("page_size");
  return {
    filters,
    sort: query.get("sort") || "name",
    page: Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1),
    pageSize: PAGE_SIZES.includes(size) ? Number(size) : 50,
  };
}

function writeState() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(state.filters)) if (value) query.set(key, value);
  if (state.sort !== "name") query.set("sort", state.sort);
  if (state.page > 1) query.set("page", String(state.page));
  if (state.pageSize !== 50) query.set("page_size", String(state.pageSize));
  const text = query.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}

function fillForm() {
  for (const key of FILTERS) form.elements[key].value = state.filters[key];
  $("#page-size").value = String(state.pageSize);
}

// The form's values, or null (with the browser's message shown) when one is out of range.
function formFilters() {
  if (!form.checkValidity()) {
    form.reportValidity();
    return null;
  }
  return Object.fromEntries(FILTERS.map((k) => [k, form.elements[k].value.trim()]));
}

async function load() {
  pending?.abort();
  pending = new AbortController();
  busy(rows);
  writeState();
  showSort();
  try {
    const result = await api.get("/api/v1/people", {
      ...state.filters, sort: state.sort, page: state.page, page_size: state.pageSize,
    }, { signal: pending.signal });
    if (result.pages > 0 && state.page > result.pages) { // e.g. the last page emptied
      state.page = result.pages;
      return load();
    }
    render(result);
  } catch (err) {
    if (err.name === "AbortError") return;
    $("#summary").textContent = `Could not load people: ${describeError(err)}`;
    replace(rows);
  } finally {
    busy(rows, false);
  }
}

function render(result) {
  selected.clear();
  const { total, page, pages } = result;
  const first = total ? (page - 1) * result.page_size + 1 : 0;
  const last = first ? first + result.items.length - 1 : 0;
  const filtered = FILTERS.some((k) => state.filters[k]);
  $("#summary").textContent = total
    ? `${first}–${last} of ${total} ${total === 1 ? "person" : "people"}${filtered ? " matching" : ""}`
    : filtered ? "No one matches this search." : "No people enrolled yet.";
  replace(rows, result.items.map(row));
  $("#page-of").textContent = `Page ${pages ? page : 0} of ${pages}`;
  $("#prev").disabled = page <= 1;
  $("#next").disabled = page >= pages;
  updateSelection();
}

function cell(label, ...content) {
  return h("td", { dataset: { label } }, ...content);
}

function row(person) {
  const name = person.name;
  const check = mayDelete && h("td", { class: "select" },
    h("input", { type: "checkbox", "aria-label": `Select ${name}`, dataset: { id: person.id },
      onchange: (event) => {
        if (event.target.checked) selected.set(person.id, name);
        else selected.delete(person.id);
        updateSelection();
      } }));
  return h("tr", {},
    check,
    cell(COLUMNS[0], h("a", { href: `/ui/people/${person.id}`, class: "person-link", text: name })),
    cell(COLUMNS[1], person.age ?? "—"),
    cell(COLUMNS[2], person.gender || "—"),
    cell(COLUMNS[3], person.address || "—"),
    cell(COLUMNS[4], person.external_id ? h("code", { text: person.external_id }) : "—"),
    cell(COLUMNS[5], person.face_count),
    cell(COLUMNS[6], formatTime(person.created_at)));
}

function updateSelection() {
  const boxes = $$("#rows input[type=checkbox]");
  const all = $("#select-all");
  all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
  all.indeterminate = !all.checked && boxes.some((b) => b.checked);
  $("#selected-count").textContent = `${selected.size} selected`;
  $("#delete-selected").disabled = selected.size === 0;
}

function showSort() {
  const key = state.sort.replace(/^-/, "");
  for (const th of $$("th[data-sort]")) {
    if (th.dataset.sort === key) {
      th.setAttribute("aria-sort", state.sort.startsWith("-") ? "descending" : "ascending");
    } else th.removeAttribute("aria-sort");
  }
}

function search() {
  const filters = formFilters();
  if (!filters) return;
  state = { ...state, filters, page: 1 };
  load();
}

async function deleteSelected() {
  const people = [...selected.entries()];
  const names = people.slice(0, 3).map(([, name]) => name).join(", ");
  const more = people.length > 3 ? ` and ${people.length - 3} more` : "";
  const ok = await confirmAction(
    `Delete ${people.length} ${people.length === 1 ? "person" : "people"} (${names}${more}) ` +
    "with all their photos? This cannot be undone.", "Delete");
  if (!ok) return;
  // One request each (the API deletes one person at a time); go on past a failure and say
  // which ones did not go.
  const failed = [];
  for (const [id, name] of people) {
    try {
      await api.delete(`/api/v1/people/${id}`);
    } catch (err) {
      failed.push(`${name}: ${describeError(err)}`);
    }
  }
  const done = people.length - failed.length;
  if (done) notify(`Deleted ${done} ${done === 1 ? "person" : "people"}.`, "ok");
  if (failed.length) notify(`Not deleted — ${failed.join("; ")}`, "error", 15000);
  await load();
}

function wire() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typingTimer);
    search();
  });
  form.addEventListener("reset", () => setTimeout(search)); // after the fields are emptied
  form.addEventListener("input", () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(search, TYPING_PAUSE_MS);
  });
  for (const th of $$("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      state = { ...state, sort: state.sort === key ? `-${key}` : key, page: 1 };
      load();
    });
  }
  $("#prev").addEventListener("click", () => { state.page -= 1; load(); });
  $("#next").addEventListener("click", () => { state.page += 1; load(); });
  $("#page-size").addEventListener("change", (event) => {
    state = { ...state, pageSize: Number(event.target.value), page: 1 };
    load();
  });
  if (mayDelete) {
    show($("#select-head"));
    show($("#bulk"));
    $("#select-all").addEventListener("change", (event) => {
      const want = event.target.checked; // read first: each row's change updates this box
      for (const box of $$("#rows input[type=checkbox]")) {
        if (box.checked !== want) box.click();
      }
    });
    // Not guarded(.., button): that would enable the button again after the list reloads
    // with nothing selected; updateSelection decides.
    $("#delete-selected").addEventListener("click", guarded(async () => {
      $("#delete-selected").disabled = true;
      try {
        await deleteSelected();
      } finally {
        updateSelection();
      }
    }));
  }
}

fillForm();
wire();
load();
