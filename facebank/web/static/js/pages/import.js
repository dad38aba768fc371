// The import page: upload a zip (with its upload progress), follow the background job it
// starts (polled every second), read its report of skipped photos, and open past imports.
// The job shown is kept in the URL (?job=ID), so a reload comes back to it.
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { busy, describeError, formatBytes, formatTime, guarded } from "../ui.js";
import { uploadForm } from "../upload.js";

const IMPORTS = "/api/v1/imports";
const POLL_MS = 1000;
const POLL_MAX_MS = 8000; // backing off while the server does not answer
const HISTORY_SIZE = 10;
const ACTIVE = new Set(["queued", "running"]);
const STATE_BADGE = { queued: "warn", running: "warn", done: "ok", failed: "bad", interrupted: "bad" };
const SOURCE_KIND = { folder: "a folder per person", csv: "a CSV table", jsonl: "a JSON lines table" };

const form = $("#upload-form");
const zone = $("#zip-zone");
const input = $("#zip");
const chosen = $("#zip-chosen");
const uploadButton = $("#upload-button");
const cancelButton = $("#upload-cancel");
const uploadBar = $("#upload-progress");
const uploadStatus = $("#upload-status");
const uploadError = $("#upload-error");

const state = { file: null, upload: null, job: null, timer: 0, following: 0, historyPage: 1 };

// --- choosing the zip ----------------------------------------------------------------------

const isZip = (file) => /\.zip$/i.test(file.name) || /zip/.test(file.type);

function choose(file) {
  hideError();
  if (file && !isZip(file)) {
    showError(h("span", { text: `${file.name} is not a zip: choose a .zip file.` }));
    return;
  }
  state.file = file ?? null;
  chosen.textContent = file ? `${file.name} (${formatBytes(file.size)})` : "No zip chosen.";
  chosen.classList.toggle("picked", Boolean(file));
  setUploadStatus(file ? "Ready to upload." : "Choose a zip to upload.", 0);
}

input.addEventListener("change", () => choose(input.files[0]));
for (const kind of ["dragenter", "dragover"]) {
  zone.addEventListener(kind, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
}
for (const kind of ["dragleave", "drop"]) {
  zone.addEventListener(kind, () => zone.classList.remove("dragging"));
}
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  const files = event.dataTransfer?.files;
  if (!files?.length) return;
  if (isZip(files[0])) input.files = files; // the picker then names the dropped zip too
  choose(files[0]);
});

// --- uploading -----------------------------------------------------------------------------

// The mapping typed in, as the API's `columns` JSON: only the fields given a column.
function columns() {
  const mapping = {};
  for (const field of $$("[data-field]", form)) {
    const column = field.value.trim();
    if (column) mapping[field.dataset.field] = column;
  }
  return Object.keys(mapping).length ? JSON.stringify(mapping) : "";
}

function setUploadStatus(text, percent) {
  uploadStatus.textContent = text;
  uploadBar.value = percent;
}

function hideError() {
  show(uploadError, false);
  replace(uploadError);
}

function showError(...content) {
  replace(uploadError, ...content);
  show(uploadError, true);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  upload();
});
cancelButton.addEventListener("click", () => state.upload?.abort());

async function upload() {
  hideError();
  if (!state.file) {
    showError(h("span", { text: "Choose a zip to import first." }));
    input.focus();
    return;
  }
  const file = state.file;
  const body = new FormData();
  body.append("file", file, file.name);
  const mapping = columns();
  if (mapping) body.append("columns", mapping);
  body.append("face_choice", $("#face-choice").value);
  state.upload = new AbortController();
  uploading(true);
  setUploadStatus(`Uploading ${file.name}…`, 0);
  try {
    const job = await uploadForm(IMPORTS, body, {
      signal: state.upload.signal,
      onProgress: (sent, total) => progressed(file, sent, total),
    });
    input.value = "";
    choose(null); // a second click does not upload the same zip again by mistake
    setUploadStatus(`Uploaded ${file.name}: import #${job.id} started.`, 100);
    openJob(job);
    loadHistory(1);
  } catch (err) {
    if (err?.name === "AbortError") {
      setUploadStatus("Upload cancelled: nothing was imported.", 0);
    } else {
      setUploadStatus("Not uploaded: nothing was imported.", 0);
      showError(...refusal(await explained(err)));
    }
  } finally {
    state.upload = null;
    uploading(false);
  }
}

function uploading(on) {
  uploadButton.disabled = on;
  show(cancelButton, on);
  form.setAttribute("aria-busy", String(on));
}

function progressed(file, sent, total) {
  const percent = total ? Math.round((sent / total) * 100) : 0;
  if (sent >= total) {
    setUploadStatus(`Uploaded ${formatBytes(total)}; the server is unpacking and checking the zip…`,
      100);
  } else {
    setUploadStatus(`Uploading ${file.name}: ${percent}% of ${formatBytes(total)}`, percent);
  }
}

// The server answers 409 before reading the body; a browser still sending a big zip may
// see the connection cut instead of that answer. Then the running import is the reason.
async function explained(err) {
  if (err?.status !== 0) return err;
  try {
    const [latest] = (await api.get(IMPORTS, { page_size: 1 })).items;
    if (latest && ACTIVE.has(latest.state)) {
      return { status: 409, code: "import_in_progress", details: { job_id: latest.id } };
    }
  } catch {
    // still unreachable: the network error stands
  }
  return err;
}

// What to say about a refused upload, by the API's answer: each refusal in its own words.
function refusal(err) {
  const details = err?.details ?? {};
  if (err?.code === "import_in_progress") {
    const id = details.job_id;
    return [h("strong", { text: "Another import is running. " }),
      h("span", { text: "One import runs at a time: wait for it to end, then upload again. " }),
      id ? jobLink(id, `Open import #${id}`) : null];
  }
  if (err?.status === 400) {
    return [h("strong", { text: "The zip was refused. " }), h("span", { text: err.message })];
  }
  if (err?.status === 413) {
    const limit = details.limit ? ` The limit is ${formatBytes(details.limit)}.` : "";
    return [h("strong", { text: "The zip is too large." }), h("span", { text: limit })];
  }
  if (err?.status === 422) {
    const field = details.field ? ` (${details.field})` : "";
    return [h("strong", { text: `Nothing could be imported${field}. ` }),
      h("span", { text: err.message })];
  }
  return [h("span", { text: describeError(err) })];
}

function jobLink(id, text) {
  return h("a", {
    href: `?job=${id}`, text,
    onclick: (event) => {
      event.preventDefault();
      openJob(id);
    },
  });
}

// --- following a job -----------------------------------------------------------------------

// Shows a job (an id, or a job already fetched) and polls it until it ends. Opening another
// job stops following the previous one.
function openJob(job) {
  const id = typeof job === "object" ? job.id : Number(job);
  const mine = ++state.following;
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
  markCurrent();
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
  state.job = job;
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
export function duration(seconds) {
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
  loadHistory(state.historyPage);
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

// --- past imports --------------------------------------------------------------------------

async function loadHistory(page) {
  const rows = $("#history-rows");
  busy(rows);
  try {
    const answer = await api.get(IMPORTS, { page, page_size: HISTORY_SIZE });
    state.historyPage = answer.page;
    replace(rows, answer.items.map(historyRow));
    show($("#history-empty"), answer.total === 0);
    show($(".history").parentElement, answer.total > 0);
    renderPager(answer);
    markCurrent();
    return answer;
  } catch (err) {
    replace(rows, h("tr", {}, h("td", { colspan: 7, class: "muted",
      text: `Past imports could not be loaded: ${describeError(err)}` })));
    return null;
  } finally {
    busy(rows, false);
  }
}

function historyRow(job) {
  const c = job.counts;
  const cell = (label, ...content) => h("td", { dataset: { label } }, ...content);
  return h("tr", { dataset: { jobId: job.id } },
    h("td", { class: "job-cell" }, jobLink(job.id, `#${job.id} ${job.filename}`)),
    cell("State", h("span", { class: `badge ${STATE_BADGE[job.state] ?? ""}`, text: job.state })),
    cell("People", `${c.people_created} new, ${c.people_extended} extended`),
    cell("Faces added", c.faces_added),
    cell("Skipped", c.skipped),
    cell("By", job.created_by),
    cell("When", formatTime(job.created_at)));
}

function markCurrent() {
  const current = state.job?.id ?? Number(new URL(location.href).searchParams.get("job"));
  for (const row of $$("#history-rows tr[data-job-id]")) {
    const link = $("a", row);
    if (Number(row.dataset.jobId) === current) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

function renderPager(answer) {
  const pager = $("#history-pager");
  if (answer.pages <= 1) {
    replace(pager);
    return;
  }
  const go = (page) => guarded(() => loadHistory(page));
  replace(pager,
    h("button", { type: "button", class: "secondary", text: "Newer",
      disabled: answer.page <= 1, onclick: go(answer.page - 1) }),
    h("span", { class: "muted", text: `Page ${answer.page} of ${answer.pages}` }),
    h("button", { type: "button", class: "secondary", text: "Older",
      disabled: answer.page >= answer.pages, onclick: go(answer.page + 1) }));
}

$("#history-refresh").addEventListener("click",
  guarded(() => loadHistory(state.historyPage), $("#history-refresh")));

// --- opening the page ----------------------------------------------------------------------

// The job named in the URL, else the latest one (the running one, when there is one).
async function start() {
  const asked = new URL(location.href).searchParams.get("job");
  if (asked && /^\d+$/.test(asked)) {
    openJob(Number(asked));
    loadHistory(1);
    return;
  }
  const answer = await loadHistory(1);
  const latest = answer?.items[0];
  if (latest) openJob(latest);
  else $("#job-none-text").textContent = answer
    ? "No import yet: upload a zip above to start one; its progress shows here."
    : "The latest import could not be loaded.";
}

start();
