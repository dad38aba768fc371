// Add a person: the fields and photos go in one multipart request, which the API stores all
// or nothing. A refused photo is named (number, file, reason) and marked among the previews;
// the form keeps everything so the user can remove it and submit again.
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import {
  clearProblems, FIELDS, focusFirstProblem, parseMetadata, photoLabel, photoReason,
  setProblem, showProblems, watchMetadata,
} from "../person_fields.js";
import { PhotoPicker } from "../photos.js";
import { describeError, guarded } from "../ui.js";

const form = $("#add-form");
const refusal = $("#refusal");
const state = $("#create-state");
const checkMetadata = watchMetadata(form);
const picker = new PhotoPicker($("#dropzone"), { multiple: true, onChange: hideRefusal });

function hideRefusal() {
  show(refusal, false);
  state.textContent = "";
}

function refuse(title, detail) {
  replace(refusal, h("strong", { text: title }), detail && h("span", { text: detail }));
  show(refusal);
  refusal.focus();
}

function formData() {
  const body = new FormData();
  for (const field of FIELDS) {
    const value = form.elements[field].value.trim();
    if (value) body.append(field, field === "metadata" ? JSON.stringify(parseMetadata(value)) : value);
  }
  for (const file of picker.files) body.append("photos", file, file.name);
  return body;
}

function localProblems() {
  clearProblems(form);
  let ok = checkMetadata();
  if (!form.elements.name.value.trim()) {
    setProblem(form, "name", "A name is required.");
    ok = false;
  }
  for (const field of ["age"]) {
    if (!form.elements[field].checkValidity()) {
      setProblem(form, field, form.elements[field].validationMessage);
      ok = false;
    }
  }
  return ok;
}

function markPhoto(index) {
  const previews = $$(".previews .preview", $("#dropzone"));
  previews[index]?.classList.add("refused");
  previews[index]?.querySelector("button")?.focus({ preventScroll: true });
}

async function submit(event) {
  event.preventDefault();
  hideRefusal();
  if (!localProblems()) return focusFirstProblem(form);
  const photos = picker.files.length;
  state.textContent = photos ? `Sending with ${photos} photo${photos === 1 ? "" : "s"}…` : "Sending…";
  try {
    const created = await api.postForm("/api/v1/people", formData());
    location.assign(`/ui/people/${created.id}`);
  } catch (err) {
    state.textContent = "";
    explain(err);
  }
}

function explain(err) {
  const index = err.details?.photo_index;
  if (Number.isInteger(index)) {
    const file = picker.files[index];
    refuse(`Nothing was stored: ${photoLabel(index, file)}: ${photoReason(err)}.`,
      "The API stores a person with photos all or nothing. Remove that photo (or replace it) and submit again.");
    markPhoto(index);
    return;
  }
  if (err.code === "validation_error" && showProblems(form, err)) {
    refuse("Nothing was stored: some fields need a change.", "See the marked fields.");
    return focusFirstProblem(form);
  }
  if (err.code === "conflict" && err.details?.external_id !== undefined) {
    setProblem(form, "external_id", err.message);
    refuse("Nothing was stored: this external id is taken.", err.message);
    return;
  }
  refuse("Nothing was stored.", describeError(err));
}

form.addEventListener("submit", guarded(submit, $("#create")));
form.addEventListener("input", (event) => {
  if (event.target.name && event.target.name !== "metadata") setProblem(form, event.target.name, "");
});
