// What the three session pages share: status badges, durations, camera lines and the
// people-seen summary, all built as text (names come from users).
import { h } from "./dom.js";

const STATUS_KIND = {
  active: "ok", running: "ok", delivered: "ok", starting: "warn", reconnecting: "warn",
  pending: "warn", ended: "", stopped: "", failed: "bad",
};

export function badge(status) {
  const kind = STATUS_KIND[status] ?? "";
  return h("span", { class: `badge ${kind}`.trim(), dataset: { status }, text: status });
}

export function duration(startIso, endIso) {
  if (!startIso) return "—";
  const ms = (endIso ? new Date(endIso) : new Date()) - new Date(startIso);
  if (!(ms >= 0)) return "—";
  const s = Math.round(ms / 1000);
  const [hh, mm, ss] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (hh) return `${hh} h ${mm} min`;
  if (mm) return `${mm} min ${ss} s`;
  return `${ss} s`;
}

export function fps(value) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(1);
}

export function personName(person) {
  return person?.name ?? `person #${person?.person_id} (deleted)`;
}

// "Ada, Bo, Cy +2" for a list of people seen (or "nobody").
export function peopleLine(people, shown = 3) {
  if (!people?.length) return "nobody";
  const names = people.slice(0, shown).map(personName).join(", ");
  return people.length > shown ? `${names} +${people.length - shown}` : names;
}

export function recognitions(session) {
  return session?.events?.recognition ?? 0;
}

export const sessionPath = (id) => `/api/v1/sessions/${encodeURIComponent(id)}`;
export const sessionPage = (id) => `/ui/sessions/${encodeURIComponent(id)}`;

// Each cell of the rows gets its column's heading as data-label: at phone width the
// tables stack (sessions.css) and show the headings beside the values.
export function labelled(tbody) {
  const headings = [...tbody.closest("table").querySelectorAll("thead th")]
    .map((th) => th.textContent.trim());
  for (const row of tbody.rows) {
    if (row.cells.length !== headings.length) continue; // a detail row spanning all columns
    [...row.cells].forEach((cell, i) => { if (headings[i]) cell.dataset.label = headings[i]; });
  }
  return tbody;
}
