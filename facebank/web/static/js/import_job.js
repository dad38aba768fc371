// The import job being shown: followed by polling GET /api/v1/imports/{id} every second
// until it ends, then its report of skipped photos. The job is kept in the URL (?job=ID) so
// a reload comes back to it. `events` says when a job is opened and when it has ended.
import { api } from "./api.js";
import { $, h, replace, show } from "./dom.js";
import { busy, describeError, formatTime } from "./ui.js";

export const IMPORTS = "/api/v1/imports";
export const ACTIVE = new Set(["queued", "running"]);
export const STATE_BADGE = {
  queued: "warn", running: "warn", done: "ok", failed: "bad", interrupted: "bad",
};
const POLL_MS = 1000;
const POLL_MAX_MS = 8000; // backing off while the server does not answer
const SOURCE_KIND = { folder: "a folder per person", csv: "a CSV table", jsonl: "a JSON lines table" };

export const events = new EventTarget();
const state = { id: null, timer: 0, following: 0 };

// The id of the job shown (or being opened); null before one is.
export function shownJobId() {
  return state.id;
}

export function jobLink(id, text) {
  return h("a", {
    href: `?job=${id}`, text,
    onclick: (event) => {
      event.preventDefault();
      openJob(id);
    },
  });
}

// Shows a job (an id, or a job already fetched) and polls it until it ends. Opening another
// job stops following the previous one.
export function openJob(job) {
  const id = typeof job === "object" ? job.id : Number(job);
  const mine = ++state.following;
  state.id = id;
  clearTimeout(state.timer);
  const url = new URL(location.href);
  url.searchParams.set("job", String(id));
  history.replaceState(null, "", url);
  show($("#job-none"), false);
  show($("#job-body"), true);
  show($("#report"), false);
  show($("#job-error"), false);
  if (typeof job === "object") renderJob(job);
  else $("#job-title").textContent = `Import #${id}`;
  events.dispatchEvent(new CustomEvent("opened", { detail: id }));
  poll(id, mine, typeof job === "object" ? job : null, POLL_MS);
}

async function poll(id, mine, known, wait) {
  let job = known;
  let next = POLL_MS;
  if (!job) {
    try {
      job = await api.get(`${IMPORTS}/${id}`);
    } catch (err) {
      if (mine !== state.following) return;
      if (err.status === 404) {
        jobGone(id);
        return;
      }
      $("#job-line").textContent = `Could not refresh: ${describeError(err)}. Retrying…`;
      next = Math.min(wait * 2, POLL_MAX_MS);
    }
  }
  if (mine !== state.following) return;
  if (job) {
    renderJob(job);
    if (!ACTIVE.has(job.state)) {
      ended(job, mine);
      return;
    }
  }
  state.timer = setTimeout(() => poll(id, mine, null, next), next);
}

function jobGone(id) {
  $("#job-title").textContent = `Import #${id}`;
  show($("#job-state"), false);
  $("#job-meta").textContent = "";
  $("#job-line").textContent = "";
  replace($("#job-counts"));
  $("#job-error").textContent = `Import #${id} does not exist.`;
  show($("#job-error"), true);
}

function renderJob(job) {
  $("#job-title").textContent = `Import #${job.id}: ${job.filename}`;
  const badge = $("#job-state");
  show(badge, true);
  badge.textContent = job.state;
  badge.className = `badge state ${STATE_BADGE[job.state] ?? ""}`;
  $("#job-meta").textContent = meta(job);
  const bar = $("#job-progress");
  bar.value = job.progress;
  bar.classList.toggle("ended", !ACTIVE.has(job.state));
  $("#job-line").textContent = progressLine(job);
  replace($("#job-counts"), counts(job.counts));
  show($("#job-error"), Boolean(job.error));
  $("#job-error").textContent = job.error ? `The import stopped: ${job.error}` : "";
}

function meta(job) {
  const parts = [SOURCE_KIND[job.source_kind] ?? job.source_kind,
    `uploaded by ${job.created_by}`, formatTime(job.created_at)];
  if (job.finished_at) parts.push(`ended ${formatTime(job.finished_at)}`);
  if (job.attempts > 1) parts.push(`resumed after a restart (${job.attempts} runs)`);
  return parts.join(" · ");
}

function progressLine(job) {
  const { photos_done: done, photos_total: total } = job.counts;
  const photos = `${done} of ${total} photo${total === 1 ? "" : "s"}`;
  const percent = `${Math.floor(job.progress * 100)}%`;
  const rate = `${job.photos_per_s.toFixed(1)} photos/s`;
  if (job.state === "queued") return `Queued: waiting to start. ${photos}.`;
  if (job.state === "running") {
    const eta = job.eta_s === null ? "time left not known yet" : `about ${duration(job.eta_s)} left`;
    return `${photos} (${percent}) · ${rate} · ${eta} · ${duration(job.elapsed_s)} elapsed`;
  }
  return `${photos} (${percent}) in ${duration(job.elapsed_s)} · ${rate}`;
}

// 0.4 -> "<1 s", 75 -> "1 min 15 s", 3700 -> "1 h 1 min".
function duration(seconds) {
  const s = Math.round(seconds);
  if (seconds < 1) return "<1 s";
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const COUNTS = [
  ["people_created", "People created"], ["people_extended", "People extended"],
  ["people_unchanged", "People unchanged"], ["faces_added", "Faces added"],
  ["photos_already", "Photos already enrolled"], ["skipped", "Skipped"],
];

function counts(values) {
  return COUNTS.map(([key, label]) => h("div", { class: `count count-${key}` },
    h("dt", { text: label }), h("dd", { text: values[key] ?? 0 })));
}

async function ended(job, mine) {
  events.dispatchEvent(new CustomEvent("ended", { detail: job }));
  if (!job.report) return;
  const csv = `${job.report}?format=csv`;
  $("#report-csv").href = csv;
  $("#report-csv").setAttribute("download", `import-${job.id}-report.csv`);
  $("#report-json").href = `${job.report}?format=json`;
  const rows = $("#skipped-rows");
  busy(rows);
  try {
    const report = await api.get(job.report);
    if (mine !== state.following) return;
    renderReport(report);
    show($("#report"), true);
  } catch (err) {
    // 404: an import cut off with its files gone (interrupted) has no report to show
    if (mine !== state.following || err.status === 404) return;
    $("#report-summary").textContent = `The report could not be loaded: ${describeError(err)}`;
    show($(".report .table-wrap"), false);
    show($("#report"), true);
  } finally {
    busy(rows, false);
  }
}

function renderReport(report) {
  const skipped = report.skipped;
  $("#report-summary").textContent = skipped.length
    ? `${skipped.length} photo${skipped.length === 1 ? " or row was" : "s or rows were"} skipped;`
      + " the rest was imported. Fix them and upload the zip again to add them."
    : "Nothing was skipped: every photo was imported.";
  show($(".report .table-wrap"), skipped.length > 0);
  // data-label: at phone width each row is a card, its cells labelled (the header hidden).
  replace($("#skipped-rows"), skipped.map((item) => h("tr", {},
    h("td", { dataset: { label: "Person" }, text: item.person }),
    h("td", { class: "mono", dataset: { label: "Photo" }, text: item.photo || "—" }),
    h("td", { dataset: { label: "Reason" } },
      h("span", { class: `badge reason ${item.reason}`, text: item.reason })),
    h("td", { dataset: { label: "Detail" }, text: item.detail }))));
}
