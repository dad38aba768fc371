// Finding one person by name: a labelled search box whose matches are buttons. Used where a
// page needs a person picked (recognise: add a face to them; verify: compare a photo to them).
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { showError } from "./ui.js";

const WAIT_MS = 250; // typing pauses this long before a search goes out
const SHOWN = 8;

// Builds the search into `container`; `onPick(person)` runs when a match is chosen.
// `actionLabel(person)` names each match's button (e.g. "Add to Ada").
export function personSearch(container, { id, label, onPick, actionLabel = (p) => p.name }) {
  const input = h("input", { id, type: "search", autocomplete: "off", placeholder: "Type a name" });
  const results = h("ul", { class: "person-results", "aria-live": "polite" });
  let timer = 0;
  let latest = 0;

  async function search() {
    const query = input.value.trim();
    const mine = ++latest;
    if (!query) return replace(results);
    try {
      const page = await api.get("/api/v1/people", { q: query, page_size: SHOWN });
      if (mine !== latest) return; // a newer search is on its way
      replace(results, page.items.length ? page.items.map((person) =>
        h("li", {}, h("button", { type: "button", class: "secondary pick",
          onclick: () => onPick(person), text: actionLabel(person) }),
          person.external_id ? h("span", { class: "muted", text: ` ${person.external_id}` }) : null))
        : h("li", { class: "muted", text: `Nobody named like “${query}”` }));
    } catch (err) {
      showError(err);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, WAIT_MS);
  });
  replace(container, h("div", { class: "field" }, h("label", { for: id, text: label }), input),
    results);
  return { input, clear: () => { input.value = ""; replace(results); } };
}
