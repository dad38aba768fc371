// What the person and add-person pages share: the person's fields as a form (read, check,
// show the API's problems by field) and a refused photo's reason in words.
import { $, $$ } from "./dom.js";

export const FIELDS = ["name", "age", "gender", "address", "external_id", "metadata"];

// The reason a photo was refused, from the API's error code (facebank/errors.py).
const REASONS = {
  no_face: "no face found",
  multiple_faces: "several faces of similar size; crop it to the one person",
  image_invalid: "not a readable image",
  image_too_large: "the file is too large",
};

export function photoReason(err) {
  return REASONS[err?.code] ?? err?.message ?? String(err);
}

// "photo 2 (beach.jpg)": 1-based, as a person counts.
export function photoLabel(index, file) {
  return `photo ${index + 1} (${file?.name ?? "unnamed"})`;
}

// The metadata text as an object, or an Error saying what is wrong with it.
export function parseMetadata(text) {
  if (!text.trim()) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new Error(`not valid JSON: ${err.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return new Error('must be a JSON object, e.g. {"class_id": "CS101"}');
  }
  return value;
}

export function setProblem(form, field, message) {
  const input = form.elements[field];
  const note = $(`#${input.id}-problem`, form);
  if (note) note.textContent = message ?? "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export function clearProblems(form) {
  for (const field of FIELDS) setProblem(form, field, "");
}

// Shows a validation_error's problems beside their fields; true when any was placed.
export function showProblems(form, err) {
  const problems = err?.details?.problems ?? [];
  let placed = false;
  for (const { field, message } of problems) {
    // "age" from the store, "body.age" from the API's request validation.
    const name = String(field).split(".").find((part) => FIELDS.includes(part));
    if (name) {
      setProblem(form, name, message);
      placed = true;
    }
  }
  if (!placed && err?.details?.field && FIELDS.includes(err.details.field)) {
    setProblem(form, err.details.field, err.message);
    placed = true;
  }
  return placed;
}

// Checks the metadata field as the user types; returns whether it holds an object.
export function watchMetadata(form) {
  const check = () => {
    const value = parseMetadata(form.elements.metadata.value);
    setProblem(form, "metadata", value instanceof Error ? `Metadata ${value.message}` : "");
    return !(value instanceof Error);
  };
  form.elements.metadata.addEventListener("input", check);
  return check;
}

export function focusFirstProblem(form) {
  $$('[aria-invalid="true"]', form)[0]?.focus();
}
