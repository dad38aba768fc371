// Past imports: a page of jobs, newest first, each a link that opens it on the page.
import { api } from "./api.js";
import { $, $$, h, replace, show } from "./dom.js";
import { IMPORTS, STATE_BADGE, jobLink, shownJobId } from "./import_job.js";
import { busy, describeError, formatTime, guarded } from "./ui.js";

const PAGE_SIZE = 10;
const state = { page: 1 };

export async function loadHistory(page = state.page) {
  const rows = $("#history-rows");
  busy(rows);
  try {
    const answer = await api.get(IMPORTS, { page, page_size: PAGE_SIZE });
    state.page = answer.page;
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

export function markCurrent() {
  const current = shownJobId();
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
