// Tasks of every kind, newest first: filter by kind and status, paginated, live over the socket.
import { get, post } from "../api.js";
import { act, badge, confirmed, field, formatDate, formatSeconds, h, progressBar, replace,
         section, setProgress, table, toast } from "../dom.js";
import { t, tr } from "../i18n.js";
import { onLive } from "../live.js";
import { countsText, FINISHED, TaskView } from "./live_task.js";

const KINDS = ["", "echo", "documents", "slides", "kb_sync", "server_batch"];
const STATUSES = ["", "pending", "running", "paused", "completed", "partial_success", "failed",
                  "cancelled"];
const PAGE_SIZE = 20;

function options(values, selected, status = false) {
  return values.map((value) => h("option", { value, selected: value === selected },
    !value ? "any" : status ? t(`status.${value}`, value) : value));
}

function taskRow(task, selected) {
  const bar = progressBar(task.progress, undefined, `${tr("Progress")} ${task.taskName}`);
  const pick = h("input", { type: "checkbox", class: "pick", checked: selected.has(task.taskId),
                            "aria-label": `${tr("Select")} ${task.taskName}` });
  pick.addEventListener("change", () => {
    if (pick.checked) selected.add(task.taskId); else selected.delete(task.taskId);
    selected.changed();
  });
  const counts = h("span", { class: "counts" }, countsText(task));
  const eta = h("span", { class: "eta" }, "");
  const step = h("span", { class: "step muted" }, task.currentStep || "");
  const status = h("td", {}, badge(task.status));
  const row = h("tr", { dataset: { taskId: task.taskId, status: task.status } },
    h("td", {}, pick),
    h("td", {}, h("a", { href: `#/tasks/${task.taskId}` }, task.taskName),
      h("div", { class: "sub mono" }, task.taskId)),
    h("td", {}, task.kind), status,
    h("td", { class: "progress-cell" }, bar, h("div", { class: "sub" }, counts, " ", eta, " ",
      step)),
    h("td", {}, formatDate(task.createdAt)));
  const view = new TaskView(task);
  row.update = (message) => {
    if (!view.apply(message)) return;
    const current = view.task;
    setProgress(bar, current.progress);
    counts.textContent = countsText(current);
    eta.textContent = current.status === "running" && current.estimatedRemainingSeconds != null
      ? tr(`ETA ${formatSeconds(current.estimatedRemainingSeconds)}`) : "";
    step.textContent = FINISHED.includes(current.status) ? "" : current.currentStep || "";
    replace(status, badge(current.status));
    row.dataset.status = current.status;
  };
  return row;
}

function newEchoForm(onCreated) {
  const count = h("input", { type: "number", name: "items", min: "1", max: "10000", value: "200" });
  const sleep = h("input", { type: "number", name: "sleep_ms", min: "0", max: "60000",
                             value: "20" });
  const concurrency = h("input", { type: "number", name: "concurrency", min: "1", max: "64",
                                   value: "4" });
  const button = h("button", { type: "submit", class: "primary" }, "Create echo task");
  const form = h("form", { class: "inline", id: "new-echo" },
    field("Items", count), field("Sleep per item (ms)", sleep),
    field("Concurrency", concurrency), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(button, async () => {
      const n = Number(count.value);
      const items = Array.from({ length: n }, (_, i) => ({ value: i,
                                                          sleep_ms: Number(sleep.value) }));
      const body = await post("/api/v1/tasks", { kind: "echo", name: `echo x${n}`, items,
                                                 concurrency: Number(concurrency.value),
                                                 autoStart: true });
      toast(`Created ${body.data.taskName}`);
      onCreated(body.data);
    });
  });
  return form;
}

// Filters live in the URL (#/tasks?q=…&kind=…&status=…&page=…): a view can be bookmarked,
// shared and kept across reloads.
function readQuery(query) {
  const params = new URLSearchParams(query || "");
  return { pageNum: Math.max(1, Number(params.get("page")) || 1), kind: params.get("kind") || "",
           status: params.get("status") || "", q: params.get("q") || "" };
}

function writeQuery(state) {
  const params = new URLSearchParams();
  for (const [key, value] of [["q", state.q], ["kind", state.kind], ["status", state.status],
                              ["page", state.pageNum > 1 ? state.pageNum : ""]]) {
    if (value) params.set(key, value);
  }
  const text = params.toString();
  history.replaceState(null, "", `#/tasks${text ? `?${text}` : ""}`);
}

export async function tasksPage(main, query) {
  const state = readQuery(query);
  const rows = new Map();
  const selected = new Set();
  const listBox = h("div", { id: "task-list" });
  const pager = h("div", { class: "pager" });
  const kind = h("select", { name: "kind", id: "filter-kind" }, options(KINDS, state.kind));
  const status = h("select", { name: "status", id: "filter-status" },
    options(STATUSES, state.status, true));
  const search = h("input", { type: "search", name: "q", id: "task-search", value: state.q,
                              placeholder: "Id or name", maxlength: "200" });
  const cancelSelected = h("button", { type: "button", class: "danger", id: "bulk-cancel",
                                       disabled: true }, "Cancel selected");
  const retrySelected = h("button", { type: "button", id: "bulk-retry", disabled: true },
    "Retry selected");
  const selectAll = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select all" });
  let reloadTimer = null;
  let searchTimer = null;

  selected.changed = () => {
    const chosen = [...selected].map((id) => rows.get(id)).filter(Boolean);
    cancelSelected.disabled = !chosen.some((row) => !FINISHED.includes(row.dataset.status));
    retrySelected.disabled = !chosen.some((row) => FINISHED.includes(row.dataset.status));
  };

  // Filters change faster than answers come back: only the latest request's answer is shown.
  let latest = 0;
  async function load() {
    writeQuery(state);
    const asked = ++latest;
    const body = await get("/api/v1/tasks", { pageNum: state.pageNum, pageSize: PAGE_SIZE,
                                              kind: state.kind, status: state.status,
                                              q: state.q });
    if (asked !== latest) return;
    const page = body.data;
    rows.clear();
    selected.clear();
    selectAll.checked = false;
    const trs = page.tasks.map((task) => {
      const row = taskRow(task, selected);
      rows.set(task.taskId, row);
      return row;
    });
    replace(listBox, page.tasks.length
      ? table([selectAll, "Task", "Kind", "Status", "Progress", "Created"], trs,
              { class: "tasks" })
      : h("p", { class: "muted empty" },
        state.kind || state.status || state.q ? "No tasks match." : "No tasks yet."));
    selected.changed();
    const pages = Math.max(1, page.pages);
    const prev = h("button", { disabled: state.pageNum <= 1, onclick: () => go(-1) }, "‹ Newer");
    const next = h("button", { disabled: state.pageNum >= pages, onclick: () => go(1) },
      "Older ›");
    replace(pager, prev, h("span", {}, `page ${state.pageNum} of ${pages} · ${page.total} tasks`),
      next);
  }

  function go(delta) {
    state.pageNum += delta;
    load().catch((error) => toast(error.message, "error"));
  }

  function filter() {
    state.kind = kind.value;
    state.status = status.value;
    state.q = search.value.trim();
    state.pageNum = 1;
    load().catch((error) => toast(error.message, "error"));
  }
  kind.addEventListener("change", filter);
  status.addEventListener("change", filter);
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(filter, 250);
  });
  selectAll.addEventListener("change", () => {
    for (const [id, row] of rows) {
      row.querySelector(".pick").checked = selectAll.checked;
      if (selectAll.checked) selected.add(id); else selected.delete(id);
    }
    selected.changed();
  });

  // Bulk actions: each task gets its own request; what one refuses is reported, the rest go on.
  async function bulk(button, action, eligible, done) {
    const ids = [...selected].filter((id) => rows.get(id) && eligible(rows.get(id).dataset.status));
    if (!ids.length) return;
    if (action === "cancel" && !confirmed(tr(`Cancel ${ids.length} task(s)?`))) return;
    await act(button, async () => {
      const outcomes = await Promise.allSettled(ids.map((id) =>
        post(`/api/v1/tasks/${id}/${action}`)));
      const refused = outcomes.filter((o) => o.status === "rejected");
      toast(tr(done(ids.length - refused.length)));
      for (const failure of refused) toast(failure.reason.message, "error");
      await load();
    });
  }
  cancelSelected.addEventListener("click", () => bulk(cancelSelected, "cancel",
    (s) => !FINISHED.includes(s), (n) => `${n} task(s) cancelled`));
  retrySelected.addEventListener("click", () => bulk(retrySelected, "retry-failed",
    (s) => FINISHED.includes(s), (n) => `${n} retry task(s) created`));

  replace(main,
    h("div", { class: "page-head" }, h("h1", {}, "Tasks"),
      h("div", { class: "filters" }, field("Search", search), field("Kind", kind),
        field("Status", status))),
    section("New echo task", newEchoForm(() => { state.pageNum = 1; load(); })),
    h("section", { class: "card" }, h("div", { class: "bulk" }, cancelSelected, retrySelected),
      listBox, pager));
  await load();

  return onLive((message) => {
    const payload = message.payload || {};
    const row = rows.get(payload.taskId);
    if (row) {
      row.update(message);
    } else if (message.type === "task_created" && state.pageNum === 1 && !reloadTimer) {
      // A task appeared that this page does not show yet: newest first, so page 1 changes.
      reloadTimer = setTimeout(() => { reloadTimer = null; load().catch(() => {}); }, 300);
    }
  });
}
