// Start a session: cameras (rows added and removed), mode, roster picked from people,
// threshold, end time, evidence, webhook. The API validates; its refusals are shown next
// to the fields they name.
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { guarded, notify } from "../ui.js";
import { sessionPage } from "../sessions_view.js";

const SEARCH_DELAY_MS = 250;
const roster = new Map(); // person id -> name, in the order picked

// ---- cameras ----------------------------------------------------------------------------

// The row's legend says "Camera n"; the labels repeat it for screen readers only.
function cameraField(index, key, label, input) {
  const id = `camera-${index}-${key}`;
  input.id = id;
  input.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: `field cam-${key}`, dataset: { field: `cameras.${index}.${key}` } },
    h("label", { for: id },
      h("span", { class: "visually-hidden", text: `Camera ${index + 1} ` }), label), input,
    h("p", { class: "field-error", id: `${id}-error` }));
}

function cameraRow(values = {}) {
  const row = h("fieldset", { class: "camera-row" }, h("legend", {}));
  row.append(
    h("div", { class: "camera-fields" }),
    h("button", { type: "button", class: "secondary remove-camera",
      onclick: () => { row.remove(); renumber(); } }));
  row.values = values;
  return row;
}

// Labels, ids and error slots follow the row's position, so "Camera 2" is always the
// second row and an API error about cameras.1 lands on it.
function renumber() {
  const rows = $$(".camera-row", $("#cameras"));
  rows.forEach((row, i) => {
    const n = i + 1;
    const old = readRow(row) ?? row.values;
    row.querySelector("legend").textContent = `Camera ${n}`;
    const remove = row.querySelector(".remove-camera");
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove camera ${n}`);
    remove.hidden = rows.length === 1;
    const loop = h("input", { type: "checkbox", name: "loop" });
    loop.checked = Boolean(old.loop);
    replace(row.querySelector(".camera-fields"),
      cameraField(i, "url", "URL or path",
        h("input", { name: "url", required: true, value: old.url ?? "",
          placeholder: "rtsp://… , /path/video.mp4 or 0" })),
      cameraField(i, "name", "Name",
        h("input", { name: "name", maxlength: 128, value: old.name ?? "",
          placeholder: `camera-${n}` })),
      cameraField(i, "fps", "fps",
        h("input", { name: "fps", type: "number", min: 0, step: "any", value: old.fps ?? "",
          placeholder: "default" })),
      h("div", { class: "field cam-loop", dataset: { field: `cameras.${i}.loop` } },
        h("label", {}, loop, ` Loop (video files)`)));
  });
}

function readRow(row) {
  const get = (name) => row.querySelector(`[name="${name}"]`);
  if (!get("url")) return null;
  return { url: get("url").value, name: get("name").value, fps: get("fps").value,
    loop: get("loop").checked };
}

function addCamera(values) {
  $("#cameras").append(cameraRow(values));
  renumber();
}

// ---- roster -----------------------------------------------------------------------------

function renderChips() {
  replace($("#roster-chips"), [...roster].map(([id, name]) => h("li", { class: "chip" },
    h("span", { text: name }),
    h("button", { type: "button", class: "link", "aria-label": `Remove ${name}`, text: "×",
      onclick: () => { roster.delete(id); renderChips(); search(); } }))));
}

let searchTimer;
let searchSeq = 0;

async function search() {
  const q = $("#roster-q").value.trim();
  const seq = ++searchSeq;
  if (!q) { replace($("#roster-results")); return; }
  const page = await api.get("/api/v1/people", { q, page_size: 8 });
  if (seq !== searchSeq) return; // an older answer arriving late
  const items = page.items.map((p) => {
    const picked = roster.has(p.id);
    const label = p.external_id ? `${p.name} (${p.external_id})` : p.name;
    return h("li", {}, h("button", { type: "button", class: "secondary", disabled: picked,
      "aria-label": `Add ${p.name} to the roster`,
      onclick: () => { roster.set(p.id, p.name); renderChips(); search(); } },
    h("span", { text: label }), h("span", { class: "muted", text: picked ? " added" : " +" })));
  });
  if (!items.length) items.push(h("li", { class: "muted", text: `Nobody's name contains "${q}".` }));
  replace($("#roster-results"), items);
}

// ---- the request ------------------------------------------------------------------------

const number = (text) => (text.trim() === "" ? undefined : Number(text));

function request() {
  const body = {
    key: $("#key").value,
    mode: $("#mode").value,
    cameras: $$(".camera-row").map(readRow).map((c) => ({
      url: c.url.trim(), name: c.name.trim() || undefined, fps: number(c.fps), loop: c.loop,
    })),
    threshold: number($("#threshold").value),
    evidence: $("#evidence").checked,
    unknown_events: $("#unknown-events").checked,
  };
  if (body.mode === "every") body.cooldown_s = number($("#cooldown").value);
  if (roster.size) body.roster = [...roster.keys()];
  const ends = $("#ends-at").value;
  if (ends) body.ends_at = new Date(ends).toISOString(); // the browser's local time, as UTC
  const url = $("#webhook-url").value.trim();
  if (url) body.webhook = { url, secret: $("#webhook-secret").value };
  return body;
}

// ---- errors next to fields --------------------------------------------------------------

// Camera-level refusals of the service name "url" or "fps" without the row.
const SERVICE_FIELDS = { url: "cameras", fps: "cameras", loop: "cameras" };

function slotFor(field) {
  const parts = field.replace(/^body\.?/, "").split(".").filter(Boolean);
  const name = parts.length === 1 ? (SERVICE_FIELDS[parts[0]] ?? parts[0]) : null;
  const candidates = name ? [name] : parts.map((_, i) => parts.slice(0, parts.length - i).join("."));
  for (const candidate of candidates) {
    const box = document.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (box) return box.querySelector(":scope > .field-error") ?? box.querySelector(".field-error");
  }
  return null;
}

function clearErrors() {
  $$(".field-error").forEach((el) => { el.textContent = ""; });
  $$("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  show($("#form-error"), false);
}

function showProblems(err) {
  const problems = err.details?.problems
    ?? [{ field: err.details?.field ?? (err.code === "conflict" ? "key" : ""), message: err.message }];
  const unplaced = [];
  for (const { field, message } of problems) {
    const slot = field ? slotFor(field) : null;
    if (!slot) { unplaced.push(message); continue; }
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    slot.parentElement.querySelector("input, select")?.setAttribute("aria-invalid", "true");
  }
  const alert = $("#form-error");
  replace(alert, h("strong", { text: "The session was not started. " }),
    unplaced.length ? unplaced.join("; ") : "See the fields marked below.");
  show(alert, true);
  alert.scrollIntoView({ block: "nearest" });
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  try {
    const session = await api.post("/api/v1/sessions", request());
    notify(`Session ${session.key} started`, "ok");
    location.assign(sessionPage(session.id));
  } catch (err) {
    if (err.status === 422 || err.status === 409 || err.status === 400) showProblems(err);
    else throw err;
  }
}

// ---- wiring -----------------------------------------------------------------------------

const now = new Date();
const pad = (n) => String(n).padStart(2, "0");
$("#key").value = `session-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}` +
  `-${pad(now.getHours())}${pad(now.getMinutes())}`;
addCamera();
$("#add-camera").addEventListener("click", () => {
  addCamera();
  $$(".camera-row").at(-1).querySelector("input").focus();
});
$("#mode").addEventListener("change", () => show($("#cooldown-field"), $("#mode").value === "every"));
$("#roster-q").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(guarded(search), SEARCH_DELAY_MS);
});
$("#start-form").addEventListener("submit", guarded(submit, $("#submit")));
