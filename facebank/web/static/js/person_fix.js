// The person page's fixes: merge another person into this one (picked by name, confirmed),
// and split the ticked face photos off into a new person. Both go through the JSON API,
// which moves the faces and history in one transaction and updates the index.
import { api } from "./api.js";
import { $, $$, h } from "./dom.js";
import { personSearch } from "./person_search.js";
import { confirmAction, notify, showError } from "./ui.js";

const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

// `person()` is the shown person; `reload()` reads them and their photos again.
export function wirePeopleFix({ base, person, reload }) {
  const form = $("#split-form");
  if (!form) return { decorate: () => {} }; // not allowed to enroll: the panels are absent
  const button = $("#split");

  const selected = () => $$(".split-pick input:checked").map((box) => Number(box.value));
  const refresh = () => {
    const n = selected().length;
    button.textContent = `Split ${plural(n, "face")} off`;
    button.disabled = n === 0;
  };

  async function merge(other) {
    const me = person();
    if (other.id === me.id) return notify("That is this person: pick someone else.", "error");
    const faces = plural(other.face_count, "face photo");
    if (!(await confirmAction(`Merge ${other.name} (${faces}) into ${me.name}? ${other.name} ` +
      "is deleted; their photos and sessions' history move here.", "Merge"))) return;
    try {
      const merged = await api.post(`${base}/merge`, { from_person_id: other.id });
      search.clear();
      notify(`${other.name} merged into ${merged.name}: ${plural(merged.face_count, "face")} now.`, "ok");
      await reload();
    } catch (err) {
      showError(err);
    }
  }

  async function split(event) {
    event.preventDefault();
    const name = form.elements.name;
    $("#split-name-problem").textContent = "";
    name.removeAttribute("aria-invalid");
    if (!name.value.trim()) {
      name.setAttribute("aria-invalid", "true");
      $("#split-name-problem").textContent = "The new person needs a name.";
      return name.focus();
    }
    const faceIds = selected();
    const created = await api.post(`${base}/split`,
      { face_ids: faceIds, person: { name: name.value.trim() } });
    name.value = "";
    const state = $("#split-state");
    state.replaceChildren(`Moved ${plural(faceIds.length, "face")} to `,
      h("a", { href: `/ui/people/${created.id}`, text: created.name }), ".");
    notify(`${created.name} created with ${plural(created.face_count, "face")}.`, "ok");
    await reload();
  }

  const search = personSearch($("#merge-search"), {
    id: "merge-q", label: "Person to merge into this one", onPick: merge,
    actionLabel: (p) => `Merge ${p.name} (${plural(p.face_count, "face")}) into this person`,
  });
  form.addEventListener("submit", async (event) => {
    button.disabled = true;
    try {
      await split(event);
    } catch (err) {
      showError(err);
    } finally {
      refresh(); // enabled again only while faces are ticked
    }
  });

  // Adds a "split off" tick box to each photo card of the grid (after every load).
  function decorate(grid) {
    for (const card of $$(".photo-card", grid)) {
      const id = card.dataset.faceId;
      const box = h("input", { type: "checkbox", value: id, id: `split-${id}` });
      box.addEventListener("change", refresh);
      card.append(h("label", { class: "split-pick", for: `split-${id}` }, box, " Split off"));
    }
    refresh();
  }
  return { decorate };
}
