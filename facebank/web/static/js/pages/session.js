// One session, live: a Server-Sent Events stream sends a status snapshot every few seconds
// and every event as it is stored; the page updates in place. The stream resumes after
// the last event id it saw (Last-Event-ID), so a dropped connection loses nothing.
import { api } from "../api.js";
import { $, h, replace, show } from "../dom.js";
import { can, confirmAction, formatScore, formatTime, guarded, notify, param, showError }
  from "../ui.js";
import {
  badge, duration, fps, labelled, personName, recognitions, sessionPath,
} from "../sessions_view.js";

const id = param("sessionId");
const base = sessionPath(id);
const EVIDENCE_SHOWN = 48;
const DELIVERY_PAGE = 20;
const RETRY_MS = 3000;

let session = null;
let lastSeq = 0;
let ended = false;
const people = new Map(); // person id -> seen summary (from snapshots, ahead of them by events)
const faces = new Map(); // person id -> URL of their latest face crop
const shownEvents = new Set(); // seq of recognitions already on the page
let deliveryCounts = "";
let deliveryPage = 1;

// ---- summary and cameras ----------------------------------------------------------------

function stat(label, value, key) {
  return h("div", { class: "stat-box", dataset: { stat: key } },
    h("div", { class: "stat-label", text: label }), h("div", { class: "stat-value", text: value }));
}

function renderSummary(s) {
  $("#session-key").textContent = s.key;
  replace($("#session-status"), badge(s.status));
  document.title = `${s.key} · Session · facebank`;
  const roster = s.roster ? `${s.roster.length} people` : "whole gallery";
  replace($("#summary"),
    stat("Status", s.status, "status"),
    stat("Mode", s.mode === "every" ? `every (cooldown ${s.cooldown_s} s)` : s.mode, "mode"),
    stat("Threshold", formatScore(s.threshold), "threshold"),
    stat("Roster", roster, "roster"),
    stat("Started", formatTime(s.created_at), "started"),
    stat(s.ended_at ? "Ended" : "Ends", s.ended_at ? formatTime(s.ended_at)
      : (s.ends_at ? formatTime(s.ends_at) : "when stopped"), "ended"),
    stat("Duration", duration(s.created_at, s.ended_at), "duration"),
    stat("People seen", String(people.size), "people"),
    stat("Recognitions", String(Math.max(recognitions(s), shownEvents.size)), "recognitions"),
    stat("Evidence", s.evidence ? "kept" : "not kept", "evidence"),
    stat("Unknown-face webhooks", s.unknown_events ? "sent" : "off", "unknown_events"));
  const unknowns = $("#unknowns-link");
  unknowns.href = `/ui/unknowns?${new URLSearchParams({ session_id: s.id })}`;
  show(unknowns, true);
  const reason = $("#reason");
  reason.textContent = s.reason ? `Reason: ${s.reason}` : "";
  reason.className = `alert ${s.status === "failed" ? "error" : ""}`;
  show(reason, Boolean(s.reason));
  const stop = $("#stop");
  if (stop) show(stop, s.status === "active" && can("run_sessions"));
}

function renderCameras(cameras) {
  labelled(replace($("#cameras"), cameras.map((c) => h("tr", { dataset: { cameraId: c.id } },
    h("th", { scope: "row" }, h("span", { text: c.name }),
      h("div", { class: "muted small mono url", text: c.url })),
    h("td", {}, badge(c.status)),
    h("td", { class: "num", text: `${fps(c.fps)} (${fps(c.target_fps)})` }),
    h("td", { class: "num", text: [c.frames_read, c.frames_processed, c.frames_dropped]
      .map((n) => n ?? "—").join(" / ") }),
    h("td", { class: "num", text: c.faces_embedded ?? "—" }),
    h("td", { class: "small", text: c.last_error ?? "" })))));
}

// ---- people seen and evidence -----------------------------------------------------------

function faceCell(personId, name) {
  const url = faces.get(personId);
  return h("td", { class: "face-cell" }, url
    ? h("img", { src: url, alt: `Face of ${name}`, width: 48, height: 48 })
    : h("span", { class: "face-none", "aria-hidden": "true" }));
}

function renderPeople() {
  const rows = [...people.values()].sort((a, b) => a.first_seen.localeCompare(b.first_seen));
  labelled(replace($("#people"), rows.map((p) => {
    const name = personName(p);
    return h("tr", { dataset: { personId: p.person_id } },
      faceCell(p.person_id, name),
      h("th", { scope: "row" }, h("a", { href: `/ui/people/${p.person_id}`, text: name })),
      h("td", { text: formatTime(p.first_seen) }),
      h("td", { text: formatTime(p.last_seen) }),
      h("td", { class: "num", text: p.sightings }),
      h("td", { class: "num", text: formatScore(p.best_score) }));
  })));
  show($("#people-empty"), people.size === 0);
}

function openFrame(url, caption) {
  $("#frame-img").src = url;
  $("#frame-img").alt = caption;
  $("#frame-caption").textContent = caption;
  $("#frame-dialog").showModal();
}

function evidenceItem(event) {
  const d = event.data;
  const name = personName(d.person);
  const caption = `${name} · ${formatScore(d.score)} · ${d.camera?.name ?? ""}`;
  const face = event.evidence?.face;
  const frame = event.evidence?.frame;
  const picture = face
    ? h("img", { src: face, alt: `Face of ${name}`, width: 96, height: 96 })
    : h("span", { class: "face-none big", text: "no crop" });
  return h("li", { class: "evidence-card", dataset: { seq: event.seq } },
    frame ? h("button", { type: "button", class: "frame-link",
      "aria-label": `Full frame: ${caption}`, onclick: () => openFrame(frame, caption) }, picture)
      : picture,
    h("div", { class: "meta" },
      h("strong", { text: name }),
      h("div", { class: "muted", text: `${formatScore(d.score)} · ${d.camera?.name ?? ""}` }),
      h("div", { class: "muted", text: formatTime(d.seen_at ?? event.created_at) })));
}

function onRecognition(event) {
  if (shownEvents.has(event.seq)) return;
  shownEvents.add(event.seq);
  const d = event.data;
  const pid = d.person.person_id;
  if (event.evidence?.face) faces.set(pid, event.evidence.face);
  const seenAt = d.seen_at ?? event.created_at;
  const known = people.get(pid);
  people.set(pid, known
    ? { ...known, last_seen: seenAt > known.last_seen ? seenAt : known.last_seen,
      best_score: Math.max(known.best_score, d.score) }
    : { ...d.person, first_seen: seenAt, last_seen: seenAt, sightings: 1, events: 1,
      best_score: d.score });
  const list = $("#evidence");
  list.prepend(evidenceItem(event));
  while (list.children.length > EVIDENCE_SHOWN) list.lastElementChild.remove();
  show($("#evidence-empty"), false);
  renderPeople();
  if (session) renderSummary(session);
}

// ---- session and camera events -----------------------------------------------------------

const TIMELINE_SHOWN = 20;
const DESCRIBE = {
  "session.started": () => "started",
  "session.camera_failed": (d) => `camera ${d.camera.name} failed: ${d.error ?? "no reason given"}`,
  "session.camera_recovered": (d) => `camera ${d.camera.name} recovered`,
  "session.ended": (d) => `ended: ${d.reason ?? ""}`,
  "session.failed": (d) => `failed: ${d.reason ?? ""}`,
};

function onSessionEvent(event) {
  const list = $("#timeline");
  if (list.querySelector(`[data-seq="${event.seq}"]`)) return;
  list.prepend(h("li", { dataset: { seq: event.seq, type: event.type } },
    h("time", { datetime: event.created_at, text: formatTime(event.created_at) }), " ",
    DESCRIBE[event.type]?.(event.data) ?? event.type));
  while (list.children.length > TIMELINE_SHOWN) list.lastElementChild.remove();
}

// ---- webhook deliveries -----------------------------------------------------------------

function attemptsRow(detail, cols) {
  const items = detail.attempt_log.map((a) => h("li", {},
    `#${a.attempt} ${formatTime(a.at)} · `,
    a.status_code ? `HTTP ${a.status_code}` : (a.error ?? "no answer"),
    h("span", { class: "muted", text: ` · ${Math.round(a.duration_ms)} ms` })));
  return h("tr", { class: "attempts-row" }, h("td", { colspan: cols },
    items.length ? h("ol", { class: "attempt-log" }, items)
      : h("p", { class: "muted", text: "Not attempted yet." })));
}

const openAttempts = new Set(); // delivery ids whose attempts are shown (kept on reloads)

async function showAttempts(row, deliveryId) {
  const detail = await api.get(`${base}/deliveries/${deliveryId}`);
  if (row.nextElementSibling?.classList.contains("attempts-row")) row.nextElementSibling.remove();
  row.after(attemptsRow(detail, row.children.length));
}

function deliveryRow(d) {
  const actions = h("td", { class: "actions" });
  const open = openAttempts.has(d.id);
  const toggle = h("button", { type: "button", class: "link", "aria-expanded": String(open),
    text: `${d.attempts}`, "aria-label": `${d.attempts} attempts` });
  toggle.addEventListener("click", guarded(async () => {
    const row = toggle.closest("tr");
    if (openAttempts.has(d.id)) {
      openAttempts.delete(d.id);
      if (row.nextElementSibling?.classList.contains("attempts-row")) row.nextElementSibling.remove();
      toggle.setAttribute("aria-expanded", "false");
      return;
    }
    openAttempts.add(d.id);
    await showAttempts(row, d.id);
    toggle.setAttribute("aria-expanded", "true");
  }, toggle));
  if (can("run_sessions")) {
    const replay = h("button", { type: "button", class: "secondary small-button",
      text: "Replay", "aria-label": `Replay ${d.event_type} ${d.event_id}` });
    replay.addEventListener("click", guarded(async () => {
      await api.post(`${base}/events/${encodeURIComponent(d.event_id)}/replay`);
      notify(`Replay of ${d.event_type} queued`, "ok");
      await loadDeliveries();
    }, replay));
    actions.append(replay);
  }
  const answer = d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error ?? "—");
  return h("tr", { dataset: { deliveryId: d.id, status: d.status } },
    h("th", { scope: "row" }, h("span", { text: d.event_type }),
      d.replay ? h("span", { class: "badge", text: "replay" }) : null,
      h("div", { class: "muted small mono", text: d.event_id })),
    h("td", {}, badge(d.status)),
    h("td", { class: "num" }, toggle),
    h("td", { class: "small", text: answer }),
    h("td", { text: d.delivered_at ? formatTime(d.delivered_at) : "—" }),
    actions);
}

async function loadDeliveries() {
  const page = await api.get(`${base}/deliveries`, { page: deliveryPage, page_size: DELIVERY_PAGE });
  const body = labelled(replace($("#deliveries"), page.items.map(deliveryRow)));
  await Promise.all([...body.rows].filter((row) => openAttempts.has(Number(row.dataset.deliveryId)))
    .map((row) => showAttempts(row, Number(row.dataset.deliveryId))));
  $("#deliveries-info").textContent = page.total
    ? `Page ${page.page} of ${page.pages} · ${page.total} deliveries` : "No deliveries yet.";
  $("#deliveries-prev").disabled = page.page <= 1;
  $("#deliveries-next").disabled = page.page >= page.pages;
  show($("#deliveries-prev"), page.pages > 1);
  show($("#deliveries-next"), page.pages > 1);
}

function renderWebhook(s) {
  show($("#deliveries-panel"), Boolean(s.webhook));
  if (!s.webhook) return;
  const counts = s.webhook.deliveries ?? {};
  const text = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
  $("#webhook-url").textContent = `${s.webhook.url}${text ? ` · ${text}` : ""}`;
  const replayFailed = $("#replay-failed");
  if (replayFailed) replayFailed.disabled = !counts.failed;
  // Reload the table only when something changed: rows stay put while they are used.
  const key = JSON.stringify(counts);
  if (key !== deliveryCounts) {
    deliveryCounts = key;
    loadDeliveries().catch(showError);
  }
}

// ---- the live stream --------------------------------------------------------------------

function render(s) {
  session = s;
  for (const p of s.people) people.set(p.person_id, p);
  renderSummary(s);
  renderCameras(s.cameras);
  renderPeople();
  renderWebhook(s);
}

function setLive(text, kind = "") {
  const el = $("#live");
  el.textContent = text;
  el.className = `live muted ${kind}`;
}

function connect() {
  const stream = new EventSource(`${base}/stream?after=${lastSeq}`);
  const seen = (e) => { if (e.lastEventId) lastSeq = Math.max(lastSeq, Number(e.lastEventId)); };
  stream.addEventListener("open", () => setLive("Live", "on"));
  stream.addEventListener("status", (e) => render(JSON.parse(e.data)));
  stream.addEventListener("recognition", (e) => { seen(e); onRecognition(JSON.parse(e.data)); });
  for (const type of Object.keys(DESCRIBE)) {
    stream.addEventListener(type, (e) => { seen(e); onSessionEvent(JSON.parse(e.data)); });
  }
  stream.addEventListener("end", () => {
    ended = true;
    stream.close();
    setLive("The session is over: this is its summary.");
    api.get(base).then(render, showError); // the final numbers, once the cameras wrote them
  });
  stream.addEventListener("error", () => {
    if (ended) return;
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (signed out, gone): the API call says why (a 401 goes to sign-in).
      setLive("Disconnected; trying again…", "off");
      api.get(base).then((s) => { render(s); setTimeout(connect, RETRY_MS); }, (err) => {
        showError(err);
        if (err.status === 404) setLive("There is no such session.", "off");
        else setTimeout(connect, RETRY_MS);
      });
    } else {
      setLive("Reconnecting…", "off");
    }
  });
}

$("#stop")?.addEventListener("click", guarded(async () => {
  const name = session?.key ?? `#${id}`;
  if (!(await confirmAction(`Stop session ${name}? Its cameras stop and its summary is kept.`,
    "Stop"))) return;
  render(await api.post(`${base}/stop`));
  notify(`Session ${name} stopped`, "ok");
}, $("#stop")));

$("#replay-failed")?.addEventListener("click", guarded(async () => {
  const answer = await api.post(`${base}/deliveries/replay-failed`);
  notify(`${answer.requeued} failed deliveries queued again`, "ok");
  await loadDeliveries();
}, $("#replay-failed")));

$("#deliveries-prev").addEventListener("click", guarded(async () => {
  deliveryPage -= 1; await loadDeliveries();
}));
$("#deliveries-next").addEventListener("click", guarded(async () => {
  deliveryPage += 1; await loadDeliveries();
}));
$("#frame-dialog").addEventListener("click", (e) => {
  if (e.target === e.currentTarget) e.currentTarget.close(); // a click beside the picture
});

api.get(base).then(render, showError);
connect();
