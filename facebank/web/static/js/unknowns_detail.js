// One cluster of unknown faces: all its faces, and what an operator can do with it (name it
// as a new person, add it to someone, dismiss it, delete one face, and for a cluster that
// looks like an enrolled person: confirm it or mark its faces "not this person").
import { api } from "./api.js";
import { $, h, replace, show } from "./dom.js";
import {
  clearProblems, FIELDS, focusFirstProblem, parseMetadata, setProblem, showProblems,
  watchMetadata,
} from "./person_fields.js";
import { personSearch } from "./person_search.js";
import { can, confirmAction, describeError, formatScore, guarded, notify } from "./ui.js";
import { unknowns } from "./unknowns_api.js";
import { faceCard, plural, seenSpan, STATUS_WORDS, whereSeen } from "./unknowns_view.js";

const mayAct = can("enroll");
// Whether the server takes "not this person" labels (POST /api/v1/people/{id}/negatives).
const negatives = true;
const form = $("#name-form");
let cluster = null;
let matchName = null; // the flagged person's name
let markedNot = new Set(); // faces of this cluster already marked "not" the flagged person
let onChanged = () => {}; // the list reloads after an action

// Problems the API reports in words a reviewer can act on.
function explain(err) {
  if (err.code === "low_quality") {
    return `The enrollment quality checks refused these faces: ${err.message}`;
  }
  if (err.status === 409) return `Not done, the cluster changed meanwhile: ${err.message}`;
  return `Not done: ${describeError(err)}`;
}

function result(kind, ...content) {
  const box = $("#detail-result");
  box.className = `alert ${kind}`;
  replace(box, ...content);
  show(box);
  box.scrollIntoView({ block: "nearest" });
}

function failed(err) {
  // A refused naming or adding lists each face's reason (details.refused).
  const refused = Array.isArray(err.details?.refused) && err.details.refused.length > 1
    ? refusals({ refused: err.details.refused }) : null;
  result("error", h("span", { text: explain(err) }), refused);
  notify(explain(err), "error", 10000);
}

const personLink = (person) => h("a", { href: `/ui/people/${person.id}`, text: person.name });

// The faces enrollment refused, each with its reason (the quality gate's words).
function refusals(resolution) {
  const refused = resolution?.refused ?? [];
  if (!refused.length) return null;
  return h("ul", { class: "refused" }, refused.map((r) =>
    h("li", { text: `Face ${r.unknown_face_id} not enrolled: ${r.message}` })));
}

// After an action the cluster has left the queue: say what happened, and reload the list.
async function done(message, person, resolution) {
  const why = refusals(resolution);
  result(why ? "warning" : "ok", h("span", { text: message }),
    person ? [" ", personLink(person), "."] : null, why);
  notify(person ? `${message} ${person.name}.` : message, "ok");
  await refresh();
  onChanged();
}

// "Enrolled 3 faces" from what the API answered; the person carries the faces enrolled now.
function enrolledWords(resolution) {
  const faces = resolution?.person?.faces;
  return Array.isArray(faces) ? `Enrolled ${plural(faces.length, "face")}` : "Enrolled the faces";
}

// The cluster with its faces, and which of them are marked "not" the person it looks like
// (the flag stays on the cluster; its faces' labels say what the reviewer decided).
async function load(id) {
  const c = await unknowns.cluster(id);
  markedNot = new Set();
  if (c.match_person_id && negatives) {
    try {
      const labels = await unknowns.negativesOf(c.match_person_id);
      markedNot = new Set(labels.map((n) => n.unknown_face_id).filter(Boolean));
    } catch (err) {
      if (err.status !== 404) throw err; // the person was deleted meanwhile
    }
  }
  return c;
}

async function refresh() {
  try {
    render(await load(cluster.id));
  } catch (err) {
    if (err.status !== 404) throw err;
    replace($("#faces"));
    showActions(false);
    $("#detail-facts").textContent = "This cluster is gone.";
  }
}

async function personName(id) {
  try {
    return (await api.get(`/api/v1/people/${id}`)).name;
  } catch {
    return null; // deleted since: the flag then reads "person #id"
  }
}

function facts(c) {
  return [plural(c.size, "face"), seenSpan(c), whereSeen(c.faces ?? []),
    STATUS_WORDS[c.status] ?? c.status].filter(Boolean).join(" · ");
}

function faceActions(face) {
  if (!mayAct || cluster.status !== "open") return [];
  const remove = h("button", { type: "button", class: "secondary danger-text small-button",
    text: "Delete", "aria-label": `Delete face ${face.id}` });
  remove.addEventListener("click", guarded(() => deleteFace(face), remove));
  const out = [remove];
  if (markedNot.has(face.id)) {
    out.push(h("span", { class: "badge marked", text: `not ${matchName ?? "them"}` }));
  } else if (cluster.match_person_id && negatives) {
    const not = h("button", { type: "button", class: "secondary small-button",
      text: `Not ${matchName ?? "them"}`, "aria-label": `Face ${face.id} is not ${matchName}` });
    not.addEventListener("click", guarded(() => notThem([face]), not));
    out.push(not);
  }
  return out;
}

function flag(c) {
  const box = $("#flag");
  if (!c.match_person_id || c.status !== "open") return show(box, false);
  const who = matchName ?? `person #${c.match_person_id}`;
  const person = { id: c.match_person_id, name: who };
  const left = (c.faces ?? []).filter((f) => !markedNot.has(f.id));
  box.classList.toggle("settled", !left.length);
  if (!left.length) {
    replace(box, h("p", {}, `Every face here is marked as not `, personLink(person),
      " (it looked like them). Name it, add it to someone else or dismiss it."));
    return show(box);
  }
  const text = h("p", {}, "These faces look like ", personLink(person),
    ` (score ${formatScore(c.match_score)}), who was enrolled after they were seen.`);
  const buttons = [];
  if (mayAct) {
    const yes = h("button", { type: "button", id: "flag-yes", text: `Yes, it is ${who}` });
    yes.addEventListener("click", guarded(() => add(person), yes));
    buttons.push(yes);
    if (negatives) {
      const no = h("button", { type: "button", class: "secondary", id: "flag-no", text: `Not ${who}` });
      no.addEventListener("click", guarded(() => notThem(left), no));
      buttons.push(no);
    }
  }
  replace(box, text, buttons.length ? h("div", { class: "form-buttons" }, buttons) : null);
  show(box);
}

function showActions(visible) {
  const actions = $("#actions"); // not on a viewer's page
  if (actions) show(actions, visible);
}

function render(c) {
  cluster = c;
  $("#detail-title").textContent = `Cluster ${c.id}`;
  $("#detail-facts").textContent = facts(c);
  flag(c);
  const faces = c.faces ?? [];
  replace($("#faces"), faces.length ? faces.map((f, i) => faceCard(f, i, faceActions(f)))
    : h("li", { class: "muted placeholder", text: "No faces are kept for this cluster." }));
  $("#faces").setAttribute("aria-busy", "false");
  showActions(mayAct && c.status === "open" && faces.length > 0);
}

// --- actions ----------------------------------------------------------------------------------

function personFields() {
  const out = {};
  for (const field of FIELDS) {
    const raw = form.elements[field].value.trim();
    if (!raw) continue;
    if (field === "metadata") out.metadata = parseMetadata(raw);
    else out[field] = field === "age" ? Number(raw) : raw;
  }
  return out;
}

async function name(event) {
  event.preventDefault();
  clearProblems(form);
  if (!checkMetadata()) return focusFirstProblem(form);
  if (!form.elements.name.value.trim()) {
    setProblem(form, "name", "A name is required.");
    return focusFirstProblem(form);
  }
  if (!form.elements.age.checkValidity()) {
    setProblem(form, "age", form.elements.age.validationMessage);
    return focusFirstProblem(form);
  }
  try {
    const answer = await unknowns.name(cluster.id, personFields());
    form.reset();
    await done(`${enrolledWords(answer)} as`, answer.person, answer);
  } catch (err) {
    if (err.code === "validation_error" && showProblems(form, err)) return focusFirstProblem(form);
    if (err.code === "conflict" && err.details?.external_id !== undefined) {
      setProblem(form, "external_id", err.message);
    }
    failed(err);
  }
}

async function add(person) {
  try {
    const answer = await unknowns.add(cluster.id, person.id);
    const added = enrolledWords(answer).replace("Enrolled", "Added");
    await done(`${added} to`, { id: person.id, name: answer.person?.name ?? person.name }, answer);
  } catch (err) {
    failed(err);
  }
}

async function dismiss() {
  const ok = await confirmAction(
    `Dismiss cluster ${cluster.id}? Its ${plural(cluster.size, "face")} are deleted for good.`,
    "Dismiss");
  if (!ok) return;
  try {
    const answer = await unknowns.dismiss(cluster.id);
    await done(`Dismissed cluster ${cluster.id}: ${plural(answer.faces_deleted, "face")} deleted.`);
  } catch (err) {
    failed(err);
  }
}

async function deleteFace(face) {
  if (!(await confirmAction("Delete this face (its crop and embedding)?", "Delete"))) return;
  try {
    await unknowns.deleteFace(face.id);
    notify("Face deleted.", "ok");
    await refresh();
    onChanged();
  } catch (err) {
    failed(err);
  }
}

// Each face becomes a negative label of the flagged person: it no longer matches them.
async function notThem(faces) {
  const who = matchName ?? `person #${cluster.match_person_id}`;
  const ok = await confirmAction(
    `Mark ${faces.length === 1 ? "this face" : `these ${faces.length} faces`} as not ${who}? ` +
    `${who} will no longer be matched to ${faces.length === 1 ? "it" : "them"}.`, `Not ${who}`);
  if (!ok) return;
  const problems = [];
  for (const face of faces) {
    try {
      await unknowns.notPerson(cluster.match_person_id, face.id);
    } catch (err) {
      problems.push(`face ${face.id}: ${explain(err)}`);
    }
  }
  const marked = faces.length - problems.length;
  if (problems.length) result("error", `Marked ${marked} of ${faces.length}. ${problems.join("; ")}`);
  else result("ok", `Marked ${plural(marked, "face")} as not ${who}.`);
  if (marked) notify(`Marked ${plural(marked, "face")} as not ${who}.`, "ok");
  await refresh();
  onChanged();
}

const checkMetadata = form ? watchMetadata(form) : () => true;

export function wireDetail(changed) {
  onChanged = changed;
  if (!mayAct || !form) return;
  form.addEventListener("submit", guarded(name, $("#name-submit")));
  form.addEventListener("input", (event) => {
    if (event.target.name && event.target.name !== "metadata") setProblem(form, event.target.name, "");
  });
  personSearch($("#add-search"), {
    id: "add-person", label: "Find the person by name",
    actionLabel: (p) => `Add to ${p.name}`,
    onPick: guarded((p) => add(p)),
  });
  $("#dismiss").addEventListener("click", guarded(dismiss, $("#dismiss")));
}

export async function showCluster(id) {
  replace($("#faces"));
  show($("#detail-result"), false);
  $("#faces").setAttribute("aria-busy", "true");
  $("#detail-title").textContent = `Cluster ${id}`;
  $("#detail-facts").textContent = "Loading…";
  show($("#flag"), false);
  const c = await load(id);
  matchName = c.match_person_id ? await personName(c.match_person_id) : null;
  render(c);
  $("#detail-title").focus({ preventScroll: true });
}
