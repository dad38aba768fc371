// How a cluster of unknown faces and its faces look on the review page: cards built from
// the API's records, text always as text.
import { h } from "./dom.js";
import { formatScore, formatTime } from "./ui.js";

export const STATUS_WORDS = {
  open: "to review", named: "named", added: "added to a person", dismissed: "dismissed",
};

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const distinct = (values) => [...new Set(values.filter((v) => v !== null && v !== undefined))];

// "door-0, door-1 · session 3 · 2 uploads" from a cluster's faces.
export function whereSeen(faces) {
  const cameras = distinct(faces.map((f) => f.camera_name ?? (f.camera_id ? `camera ${f.camera_id}` : null)));
  const sessions = distinct(faces.map((f) => f.session_id));
  const uploads = faces.filter((f) => f.source !== "session").length;
  const parts = [];
  if (cameras.length) parts.push(cameras.join(", "));
  if (sessions.length) parts.push(`${sessions.length === 1 ? "session" : "sessions"} ${sessions.join(", ")}`);
  if (uploads) parts.push(plural(uploads, "uploaded photo"));
  return parts.join(" · ");
}

// The same line from a listed cluster's `seen` (the API caps the names; counts say the rest).
export function seenSummary(seen) {
  if (!seen) return "";
  const more = (shown, count) => (count > shown ? ` +${count - shown} more` : "");
  const parts = [];
  if (seen.camera_count) {
    const names = seen.cameras.map((c) => c.name ?? `camera ${c.id}`);
    parts.push(`${names.join(", ")}${more(names.length, seen.camera_count)}`);
  }
  if (seen.session_count) {
    const word = seen.session_count === 1 ? "session" : "sessions";
    parts.push(`${word} ${seen.sessions.join(", ")}${more(seen.sessions.length, seen.session_count)}`);
  }
  if (seen.uploads) parts.push(plural(seen.uploads, "uploaded photo"));
  return parts.join(" · ");
}

// Shorter than ui.js's formatTime: a card has room for "3 Dec 2026, 14:05 – 16:40".
const DAY = { dateStyle: "medium" };
const TIME = { timeStyle: "short" };

export function shortTime(value) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) return formatTime(value);
  return date.toLocaleString(undefined, { ...DAY, ...TIME });
}

export function seenSpan(cluster) {
  const first = new Date(cluster.first_seen);
  const last = new Date(cluster.last_seen);
  const start = shortTime(cluster.first_seen);
  if (Number.isNaN(first.getTime()) || Number.isNaN(last.getTime())) return `Seen ${start}`;
  if (start === shortTime(cluster.last_seen)) return `Seen ${start}`;
  const sameDay = first.toLocaleDateString(undefined, DAY) === last.toLocaleDateString(undefined, DAY);
  const end = sameDay ? last.toLocaleTimeString(undefined, TIME) : shortTime(cluster.last_seen);
  return `Seen ${start} – ${end}`;
}

// The crop shown for a cluster; a cluster whose faces are gone (named, dismissed) has none.
export function crop(url, alt, className = "crop") {
  if (!url) return h("span", { class: `${className} no-crop`, text: "no face kept" });
  return h("img", { class: className, src: url, alt, loading: "lazy" });
}

export function flagBadge(cluster, personName) {
  if (!cluster.match_person_id) return null;
  return h("span", { class: "badge warn flag-badge",
    text: `looks like ${personName ?? `person #${cluster.match_person_id}`} (${formatScore(cluster.match_score)})` });
}

// Who a named or added cluster became, as a link to them.
function becameLine(cluster, names) {
  if (!cluster.person_id) return null;
  const name = names.get(cluster.person_id) ?? `person #${cluster.person_id}`;
  return h("p", {}, "→ ", h("a", { href: `/ui/people/${cluster.person_id}`, text: name }));
}

// `names`: person id -> name, for the flag and for who the cluster became.
export function clusterCard(cluster, href, names, onOpen) {
  const label = `Cluster ${cluster.id}: ${plural(cluster.size, "face")}`;
  const link = h("a", { class: "cluster-link", href, "aria-label": label, onclick: (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    onOpen(cluster.id);
  } }, crop(cluster.representative_url, ""));
  return h("li", { class: "cluster-card", dataset: { clusterId: cluster.id } },
    link,
    h("div", { class: "meta" },
      h("p", { class: "count" }, h("strong", { text: plural(cluster.size, "face") }),
        cluster.status !== "open" ? h("span", { class: "badge", text: STATUS_WORDS[cluster.status] ?? cluster.status }) : null,
        cluster.status === "open" ? flagBadge(cluster, names.get(cluster.match_person_id)) : null),
      h("p", { class: "muted", text: seenSpan(cluster) }),
      seenSummary(cluster.seen) ? h("p", { class: "muted where", text: seenSummary(cluster.seen) }) : null,
      becameLine(cluster, names)));
}

export function faceSource(face) {
  if (face.source === "session") {
    const camera = face.camera_name ?? (face.camera_id ? `camera ${face.camera_id}` : "a camera");
    return face.session_id ? `${camera}, session ${face.session_id}` : camera;
  }
  return "an uploaded photo";
}

// A square shows the crop centred on the face (the crop can be cut off at a photo's edge).
function centred(img, face) {
  const [x1, y1, x2, y2] = face.box ?? [];
  if (img.tagName === "IMG" && face.image_width && face.image_height && x2 > x1) {
    img.style.objectPosition = `${(50 * (x1 + x2)) / face.image_width}% ${(50 * (y1 + y2)) / face.image_height}%`;
  }
  return img;
}

export function faceCard(face, index, actions) {
  return h("li", { class: "face-card", dataset: { faceId: face.id } },
    h("a", { href: face.image_url, target: "_blank", rel: "noopener" },
      centred(crop(face.image_url, `face ${index + 1}, seen ${formatTime(face.seen_at)}`), face)),
    h("div", { class: "meta" },
      h("p", { text: shortTime(face.seen_at) }),
      h("p", { class: "muted", text: faceSource(face) })),
    actions.length ? h("div", { class: "card-actions" }, actions) : null);
}
