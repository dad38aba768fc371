// One person: edit the fields (PATCH only what changed), their face photos with the quality
// record, add photos one request per photo (the API refuses a whole request for one bad
// photo, and each photo here gets its own verdict), delete a photo or the whole person.
import { api } from "../api.js";
import { $, h, replace, show } from "../dom.js";
import {
  clearProblems, FIELDS, focusFirstProblem, parseMetadata, photoLabel, photoReason,
  showProblems, watchMetadata,
} from "../person_fields.js";
import { wirePeopleFix } from "../person_fix.js";
import { PhotoPicker } from "../photos.js";
import {
  busy, can, confirmAction, describeError, formatScore, formatTime, guarded, notify, param,
} from "../ui.js";

const personId = param("personId");
const base = `/api/v1/people/${personId}`;
const form = $("#person-form");
const mayEdit = can("enroll");
let person = null;
let faceCount = 0; // as last listed: photos come and go on this page
// Merge and split (person_fix.js); ticks on the photo cards come with every load.
const fix = mayEdit ? wirePeopleFix({ base, person: () => person, reload }) : null;

// --- details --------------------------------------------------------------------------------

function fill(record) {
  person = record;
  document.title = `${record.name} · facebank`;
  $("#person-name").textContent = record.name;
  for (const field of FIELDS) {
    const value = record[field];
    form.elements[field].value = field === "metadata"
      ? (Object.keys(value ?? {}).length ? JSON.stringify(value, null, 2) : "")
      : (value ?? "");
  }
  $("#stamps").textContent =
    `Added ${formatTime(record.created_at)} · changed ${formatTime(record.updated_at)}`;
}

// The fields that differ from the stored person; an emptied optional field becomes null.
function changes() {
  const out = {};
  for (const field of FIELDS) {
    const raw = form.elements[field].value;
    let value;
    if (field === "metadata") value = parseMetadata(raw);
    else if (field === "age") value = raw === "" ? null : Number(raw);
    else if (field === "name") value = raw.trim();
    else value = raw.trim() === "" ? null : raw.trim();
    const before = person[field] ?? (field === "metadata" ? {} : null);
    if (JSON.stringify(value) !== JSON.stringify(before)) out[field] = value;
  }
  return out;
}

async function save(event) {
  event.preventDefault();
  clearProblems(form);
  if (!checkMetadata()) return focusFirstProblem(form);
  if (!form.elements.name.value.trim()) {
    form.elements.name.setAttribute("aria-invalid", "true");
    $("#p-name-problem").textContent = "A name is required.";
    return focusFirstProblem(form);
  }
  const changed = changes();
  if (!Object.keys(changed).length) {
    $("#save-state").textContent = "Nothing changed.";
    return;
  }
  try {
    fill(await api.patch(base, changed));
    $("#save-state").textContent = `Saved ${Object.keys(changed).join(", ").replace("_", " ")}.`;
    notify("Changes saved.", "ok");
  } catch (err) {
    if (err.code === "validation_error" && showProblems(form, err)) {
      $("#save-state").textContent = "Not saved: see the marked fields.";
      return focusFirstProblem(form);
    }
    $("#save-state").textContent = `Not saved: ${describeError(err)}`;
    throw err;
  }
}

const checkMetadata = watchMetadata(form);

// --- photos ---------------------------------------------------------------------------------

function quality(face) {
  const q = face.quality ?? {};
  const rows = [
    ["Face", `${q.face_px} px`],
    ["Blur", q.blur === undefined ? "—" : Number(q.blur).toFixed(0)],
    ["Pose", `yaw ${Math.round(q.yaw)}°, pitch ${Math.round(q.pitch)}°`],
    ["Detection", formatScore(face.det_score)],
    ["Photo", `${face.image_width}×${face.image_height}`],
  ];
  return h("dl", {}, rows.map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })]));
}

function photoCard(face, index) {
  // The whole photo is served; centring the square crop on the face box shows the face.
  const [x1, y1, x2, y2] = face.box;
  const img = h("img", { src: face.image_url, alt: `face photo ${index + 1} of ${person?.name ?? "this person"}`,
    loading: "lazy" });
  img.style.objectPosition =
    `${(100 * (x1 + x2)) / 2 / face.image_width}% ${(100 * (y1 + y2)) / 2 / face.image_height}%`;
  const remove = mayEdit && h("button", { type: "button", class: "secondary danger-text",
    text: "Delete photo", "aria-label": `Delete photo ${index + 1}` });
  if (remove) remove.addEventListener("click", guarded(() => deletePhoto(face, index), remove));
  return h("figure", { class: "photo-card", dataset: { faceId: face.id } },
    h("a", { href: face.image_url, target: "_blank", rel: "noopener" }, img),
    h("figcaption", { class: "meta" }, quality(face)),
    remove && h("div", { class: "card-actions" }, remove));
}

async function loadPhotos() {
  const grid = $("#photos");
  busy(grid);
  try {
    const faces = await api.get(`${base}/faces`);
    faceCount = faces.length;
    $("#photo-count").textContent = String(faces.length);
    replace(grid, faces.length
      ? faces.map(photoCard)
      : h("p", { class: "muted photos-empty", text: "No face photos yet." }));
    fix?.decorate(grid);
  } finally {
    busy(grid, false);
  }
}

async function deletePhoto(face, index) {
  if (!(await confirmAction(`Delete photo ${index + 1} of ${person.name}? ` +
    "Its face will no longer be recognised.", "Delete photo"))) return;
  await api.delete(`/api/v1/faces/${face.id}`);
  notify(`Photo ${index + 1} deleted.`, "ok");
  await loadPhotos();
}

// One request per photo, in order: each gets its own verdict.
async function upload(picker) {
  const files = [...picker.files];
  const list = $("#verdicts");
  const items = files.map((file, i) =>
    h("li", { class: "waiting", text: `${photoLabel(i, file)}: sending…` }));
  replace(list, items);
  let added = 0;
  for (const [i, file] of files.entries()) {
    const body = new FormData();
    body.append("photos", file, file.name);
    try {
      await api.postForm(`${base}/faces`, body);
      items[i].className = "ok";
      items[i].textContent = `${photoLabel(i, file)}: added`;
      added += 1;
    } catch (err) {
      items[i].className = "refused";
      items[i].textContent = `${photoLabel(i, file)}: ${err.status === 403 ? describeError(err) : photoReason(err)}`;
    }
  }
  picker.clear();
  if (added) await loadPhotos();
  notify(`${added} of ${files.length} photo${files.length === 1 ? "" : "s"} added.`,
    added === files.length ? "ok" : "error");
}

function wirePhotos() {
  const zone = $("#dropzone");
  if (!zone) return;
  const button = $("#upload");
  const picker = new PhotoPicker(zone, {
    multiple: true,
    onChange: (files) => {
      button.disabled = files.length === 0;
      button.textContent = files.length ? `Add ${files.length} photo${files.length === 1 ? "" : "s"}` : "Add photos";
    },
  });
  $("#add-photos").addEventListener("submit", guarded(async (event) => {
    event.preventDefault();
    await upload(picker);
  }, button));
}

// --- the person -----------------------------------------------------------------------------

async function deletePerson() {
  const photos = faceCount ? ` and their ${faceCount} face photo${faceCount === 1 ? "" : "s"}` : "";
  if (!(await confirmAction(`Delete ${person.name}${photos}? This cannot be undone.`,
    "Delete person"))) return;
  await api.delete(base);
  location.assign("/ui/people");
}

async function reload() {
  fill(await api.get(base));
  await loadPhotos();
}

async function start() {
  wirePhotos();
  try {
    fill(await api.get(base));
  } catch (err) {
    const box = $("#load-problem");
    box.textContent = err.status === 404 ? "This person does not exist (any more)." : describeError(err);
    show(box);
    replace($("#photos"));
    $("#photo-count").textContent = "0";
    return;
  }
  if (mayEdit) {
    $("#person-fields").disabled = false;
    $("#save").disabled = false;
    form.addEventListener("submit", guarded(save, $("#save")));
    const remove = $("#delete-person");
    remove.disabled = false;
    remove.addEventListener("click", guarded(deletePerson, remove));
  }
  await loadPhotos().catch((err) => {
    replace($("#photos"), h("p", { class: "alert error", text: `Photos could not be loaded: ${describeError(err)}` }));
  });
}

start();
