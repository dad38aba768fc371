// The verify page (1:1): are two photos the same person, or is a photo this enrolled person?
// The answer shows the score against the threshold and the verdict in words.
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { personSearch } from "../person_search.js";
import { PhotoPicker } from "../photos.js";
import { busy, formatScore, guarded } from "../ui.js";

const form = $("#verify-form");
const button = $("#verify-button");
const threshold = $("#threshold");
const verdict = $("#verdict");
const picked = $("#picked");
const state = { person: null, answered: false };
const first = new PhotoPicker($("#zone-a"), { multiple: false, onChange: changed });
const second = new PhotoPicker($("#zone-b"), { multiple: false, onChange: changed });

// A verdict about photos (or a person) no longer chosen would mislead: say it is stale.
function changed() {
  if (!state.answered) return;
  state.answered = false;
  replace(verdict, h("p", { class: "muted", text: "The choice changed: Verify again for a new verdict." }));
}

personSearch($("#person-search"), {
  id: "person-query", label: "Person", actionLabel: (p) => `Choose ${p.name}`,
  onPick: (person) => {
    state.person = person;
    replace(picked, "Comparing with ", h("a", { href: `/ui/people/${person.id}`, text: person.name }),
      ` (${person.face_count} enrolled face${person.face_count === 1 ? "" : "s"})`);
    picked.classList.remove("muted");
    changed();
  },
});

const mode = () => $('input[name="mode"]:checked').value;
for (const radio of $$('input[name="mode"]')) radio.addEventListener("change", showMode);
function showMode() {
  changed();
  show($("#zone-b"), mode() === "photo");
  show($("#person-side"), mode() === "person");
}
showMode();

form.addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(verify, button)();
});
threshold.addEventListener("change", () => {
  if (state.answered) guarded(verify, button)();
});

// What is missing before a comparison can be sent, in words; null when nothing is.
function missing() {
  if (!first.files.length) return "Choose the first photo.";
  if (mode() === "photo" && !second.files.length) return "Choose the second photo.";
  if (mode() === "person" && !state.person) return "Find and choose the person.";
  if (!threshold.checkValidity()) return "The threshold must be between -1 and 1.";
  return null;
}

async function verify() {
  const problem = missing();
  if (problem) {
    replace(verdict, h("p", { class: "alert warning", text: problem }));
    return;
  }
  const data = new FormData();
  data.append("file_a", first.files[0]);
  if (mode() === "photo") data.append("file_b", second.files[0]);
  else data.append("person_id", String(state.person.id));
  busy(verdict);
  try {
    const result = await api.postForm("/api/v1/verify", data, { threshold: threshold.value });
    state.answered = true;
    if (threshold.value === "") threshold.value = String(result.threshold);
    render(result);
  } catch (err) {
    replace(verdict, h("p", { class: "alert error", text: `No verdict: ${err.message}` }));
  } finally {
    busy(verdict, false);
  }
}

function render(result) {
  const same = result.match;
  const against = result.person
    ? h("p", {}, "Compared with the closest enrolled face of ",
      h("a", { href: `/ui/people/${result.person.id}`, text: result.person.name }), ".")
    : null;
  const percent = (v) => `${Math.max(0, Math.min(1, v)) * 100}%`;
  replace(verdict,
    h("p", { class: same ? "verdict same" : "verdict different",
      text: same ? "✓ Same person" : "✗ Not the same person" }),
    h("div", { class: "verdict-numbers" },
      h("div", {}, h("div", { class: "stat", text: formatScore(result.score) }),
        h("div", { class: "stat-label", text: "score (cosine similarity)" })),
      h("div", {}, h("div", { class: "stat", text: formatScore(result.threshold) }),
        h("div", { class: "stat-label", text: "threshold" }))),
    h("div", { class: "meter", role: "img",
      "aria-label": `score ${formatScore(result.score)} against threshold ${formatScore(result.threshold)}` },
      h("span", { class: "fill", style: { width: percent(result.score) } }),
      h("span", { class: "mark", style: { left: percent(result.threshold) } })),
    h("p", { class: "muted", text: same
      ? "The score reaches the threshold."
      : "The score is below the threshold." }),
    against);
}
