// Tasks of every kind, newest first: filter by kind and status, paginated, live over the socket.
import { get, post } from "../api.js";
import { act, badge, field, formatDate, formatSeconds, h, progressBar, replace, section,
         setProgress, table, toast } from "../dom.js";
import { onLive } from "../live.js";
import { countsText, FINISHED, TaskView } from "./live_task.js";

const KINDS = ["", "echo", "documents", "slides", "kb_sync", "server_batch"];
const STATUSES = ["", "pending", "running", "paused", "completed", "partial_success", "failed",
                  "cancelled"];
const PAGE_SIZE = 20;

function options(values, selected) {
  return values.map((value) => h("option", { value, selected: value === selected },
    value || "any"));
}

function taskRow(task) {
  const bar = progressBar(task.progress);
  const counts = h("span", { class: "counts" }, countsText(task));
  const eta = h("span", { class: "eta" }, "");
  const step = h("span", { class: "step muted" }, task.currentStep || "");
  const status = h("td", {}, badge(task.status));
  const row = h("tr", { dataset: { taskId: task.taskId } },
    h("td", {}, h("a", { href: `#/tasks/${task.taskId}` }, task.taskName)),
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
      ? `ETA ${formatSeconds(current.estimatedRemainingSeconds)}` : "";
    step.textContent = FINISHED.includes(current.status) ? "" : current.currentStep || "";
    replace(status, badge(current.status));
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

export async function tasksPage(main) {
  const state = { pageNum: 1, kind: "", status: "" };
  const rows = new Map();
  const listBox = h("div", { id: "task-list" });
  const pager = h("div", { class: "pager" });
  const kind = h("select", { name: "kind", id: "filter-kind" }, options(KINDS, ""));
  const status = h("select", { name: "status", id: "filter-status" }, options(STATUSES, ""));
  let reloadTimer = null;

  async function load() {
    const body = await get("/api/v1/tasks", { pageNum: state.pageNum, pageSize: PAGE_SIZE,
                                              kind: state.kind, status: state.status });
    const page = body.data;
    rows.clear();
    const trs = page.tasks.map((task) => {
      const row = taskRow(task);
      rows.set(task.taskId, row);
      return row;
    });
    replace(listBox, page.tasks.length
      ? table(["Task", "Kind", "Status", "Progress", "Created"], trs, { class: "tasks" })
      : h("p", { class: "muted empty" },
        state.kind || state.status ? "No tasks match." : "No tasks yet."));
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
    state.pageNum = 1;
    load().catch((error) => toast(error.message, "error"));
  }
  kind.addEventListener("change", filter);
  status.addEventListener("change", filter);

  replace(main,
    h("div", { class: "page-head" }, h("h1", {}, "Tasks"),
      h("div", { class: "filters" }, field("Kind", kind), field("Status", status))),
    section("New echo task", newEchoForm(() => { state.pageNum = 1; load(); })),
    h("section", { class: "card" }, listBox, pager));
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
