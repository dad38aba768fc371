// The recognise page: one photo in, every face boxed and named (or unknown); a face's top-k
// candidates on the side, and an unknown face enrolled from there (new person or existing).
import { api } from "../api.js";
import { $, h, replace, show } from "../dom.js";
import { personSearch } from "../person_search.js";
import { PhotoPicker } from "../photos.js";
import { busy, can, formatScore, guarded, notify } from "../ui.js";

const stage = $("#stage");
const view = $("#photo-view");
const boxes = $("#boxes");
const summary = $("#summary");
const detail = $("#face-detail");
const threshold = $("#threshold");
const topK = $("#top-k");
const LABEL_ROOM = 0.08; // a box this near the top gets its label below it, inside the photo

const state = { file: null, url: "", result: null, selected: null, runs: 0 };

new PhotoPicker($("#dropzone"), { multiple: false, onChange: choose });
for (const input of [threshold, topK]) input.addEventListener("change", () => recognise());

function choose(files) {
  if (!files.length) return;
  if (state.url) URL.revokeObjectURL(state.url);
  state.file = files[0];
  state.url = URL.createObjectURL(state.file);
  state.result = null;
  state.selected = null;
  view.src = state.url;
  replace(boxes);
  show(stage, true);
  showDetail();
  recognise();
}

// Sends the photo with the page's settings; an answer to an older request is dropped.
async function recognise() {
  if (!state.file) return;
  if (!threshold.checkValidity() || !topK.checkValidity()) {
    summary.textContent = "Threshold must be between -1 and 1 and top-k between 1 and 100.";
    return;
  }
  const mine = ++state.runs;
  const form = new FormData();
  form.append("file", state.file);
  summary.textContent = `Recognising ${state.file.name}…`;
  busy(stage);
  try {
    const result = await api.postForm("/api/v1/recognize", form,
      { top_k: topK.value, threshold: threshold.value });
    if (mine !== state.runs) return;
    state.result = result;
    if (threshold.value === "") threshold.value = String(result.threshold);
    if (state.selected !== null && state.selected >= result.faces.length) state.selected = null;
    render();
  } catch (err) {
    if (mine !== state.runs) return;
    summary.textContent = `Not recognised: ${err.message}`;
    replace(boxes);
  } finally {
    if (mine === state.runs) busy(stage, false);
  }
}

function render() {
  const { faces, image } = state.result;
  const named = faces.filter((f) => f.match).length;
  const counts = faces.length
    ? `${faces.length} face${faces.length === 1 ? "" : "s"}: ${named} named, `
      + `${faces.length - named} unknown (threshold ${formatScore(state.result.threshold)}).`
    : "no face was found in this photo.";
  summary.textContent = `${state.file.name}: ${counts}`;
  replace(boxes, faces.map((face, i) => faceBox(face, i, image)));
  showDetail();
}

// A face's box, placed in percent of the photo so it follows the displayed size as the page
// resizes (the photo scales with its container; the boxes scale with it).
function faceBox(face, index, image) {
  const [x1, y1, x2, y2] = face.box;
  const pct = (v, total) => `${(100 * v) / total}%`;
  const name = face.match ? face.match.name : "unknown";
  const text = face.match ? `${name} ${formatScore(face.match.score)}` : "unknown";
  const nearTop = y1 / image.height < LABEL_ROOM;
  return h("button", {
    type: "button",
    class: face.match ? "face-box" : "face-box unknown",
    "aria-pressed": String(index === state.selected),
    "aria-label": `Face ${index + 1}: ${text}`,
    dataset: { index: String(index) },
    style: { left: pct(x1, image.width), top: pct(y1, image.height),
      width: pct(x2 - x1, image.width), height: pct(y2 - y1, image.height) },
    onclick: () => select(index),
  }, h("span", { class: nearTop ? "label below" : "label", title: text, "aria-hidden": "true" },
    h("span", { class: "name", text: name }),
    face.match ? h("span", { class: "score", text: ` ${formatScore(face.match.score)}` }) : null));
}

function select(index) {
  state.selected = index;
  for (const box of boxes.children) {
    box.setAttribute("aria-pressed", String(Number(box.dataset.index) === index));
  }
  showDetail();
  if (matchMedia("(max-width: 860px)").matches) detail.scrollIntoView({ block: "nearest" });
}

function showDetail() {
  const face = state.selected === null ? null : state.result?.faces[state.selected];
  if (!face) {
    replace(detail, h("p", { class: "muted", text: state.result?.faces.length
      ? "Select a face (click it, or Tab to it and press Enter) to see its candidates."
      : "Faces found in the photo are listed here once it is recognised." }));
    return;
  }
  const title = face.match
    ? `Face ${state.selected + 1}: ${face.match.name} (${formatScore(face.match.score)})`
    : `Face ${state.selected + 1}: unknown`;
  replace(detail,
    h("h3", { text: title }),
    candidates(face),
    can("enroll") && !face.match ? enrollment(face) : null);
}

function candidates(face) {
  if (!face.candidates.length) return h("p", { class: "muted", text: "Nobody is enrolled yet." });
  const limit = state.result.threshold;
  return h("div", { class: "table-wrap" }, h("table", { class: "candidates" },
    h("caption", { class: "muted", text: `Top ${face.candidates.length}, best first` }),
    h("thead", {}, h("tr", {}, h("th", { text: "#" }), h("th", { text: "Name" }),
      h("th", { text: "Score" }))),
    h("tbody", {}, face.candidates.map((c, i) => h("tr", {},
      h("td", { text: String(i + 1) }),
      h("td", {}, h("a", { href: `/ui/people/${c.person_id}`, text: c.name })),
      h("td", {}, h("span", { class: c.score >= limit ? "badge ok" : "badge",
        title: c.score >= limit ? "at or above the threshold" : "below the threshold",
        text: formatScore(c.score) })))))));
}

// Enrolling the selected unknown face: its box tells the server which face of the photo.
function enrollment(face) {
  const existing = h("div", { class: "existing" });
  personSearch(existing, {
    id: "existing-person", label: "Find the person by name",
    actionLabel: (p) => `Add to ${p.name}`,
    onPick: guarded((person) => enroll(`/api/v1/people/${person.id}/faces`, new FormData(), face,
      `Added the face to ${person.name}`)),
  });
  return h("section", { class: "enroll", "aria-labelledby": "enroll-title" },
    h("h3", { id: "enroll-title", text: "Enroll this face" }),
    newPersonForm(face),
    h("h4", { text: "Or add it to an existing person" }),
    existing);
}

function newPersonForm(face) {
  const field = (id, label, props = {}) => h("div", { class: "field" },
    h("label", { for: id, text: label }), h("input", { id, name: id.replace("new-", ""), ...props }));
  const submit = h("button", { type: "submit", text: "Create person with this face" });
  const form = h("form", { class: "new-person", "aria-label": "New person" },
    h("h4", { text: "New person" }),
    field("new-name", "Name", { required: true, maxlength: 200, autocomplete: "off" }),
    h("div", { class: "form-grid" },
      field("new-age", "Age (optional)", { type: "number", min: 0, max: 150 }),
      field("new-gender", "Gender (optional)", { maxlength: 32 }),
      field("new-external_id", "External id (optional)", { maxlength: 128 })),
    submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData();
    for (const [key, value] of new FormData(form)) if (value !== "") data.append(key, value);
    guarded(() => enroll("/api/v1/people", data, face, `Created ${data.get("name")}`), submit)();
  });
  return form;
}

async function enroll(path, form, face, done) {
  form.append("box", face.box.join(","));
  form.append("photos", state.file);
  await api.postForm(path, form);
  notify(`${done}; recognising again.`, "ok");
  await recognise();
}
