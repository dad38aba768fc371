// The import page: upload a zip (with its upload progress), follow the background job it
// starts (polled every second), read its report of skipped photos, and open past imports.
// (import_job.js shows the job, import_history.js the list.)
import { api } from "../api.js";
import { $, $$, h, replace, show } from "../dom.js";
import { loadHistory, markCurrent } from "../import_history.js";
import { onDrop } from "../photos.js";
import { ACTIVE, IMPORTS, events, jobLink, openJob } from "../import_job.js";
import { describeError, formatBytes, guarded } from "../ui.js";
import { uploadForm } from "../upload.js";

const form = $("#upload-form");
const zone = $("#zip-zone");
const input = $("#zip");
const chosen = $("#zip-chosen");
const uploadButton = $("#upload-button");
const cancelButton = $("#upload-cancel");
const uploadBar = $("#upload-progress");
const uploadStatus = $("#upload-status");
const uploadError = $("#upload-error");

const state = { file: null, upload: null };

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
onDrop(zone, (files) => {
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

events.addEventListener("opened", () => markCurrent());
events.addEventListener("ended", () => loadHistory());
$("#history-refresh").addEventListener("click",
  guarded(() => loadHistory(), $("#history-refresh")));

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