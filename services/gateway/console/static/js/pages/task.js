// One task: live progress, the commands its state allows, stages and usage, items, the event
// timeline, and its download when the kind has one.
import { download, get, post } from "../api.js";
import { act, badge, confirmed, formatDate, formatMs, formatSeconds, h, progressBar, replace,
         section, setProgress, table, toast } from "../dom.js";
import { tr } from "../i18n.js";
import { onLive, watchItems } from "../live.js";
import { allowedActions, countsText, FINISHED, TaskView } from "./live_task.js";

const ITEM_PAGE = 50;
const ACTION_LABELS = { start: "started", pause: "paused", resume: "resumed",
                        cancel: "cancelled", fail: "failed", finish: "finished" };
const LABELS = { start: "Start", pause: "Pause", resume: "Resume", cancel: "Cancel",
                 "retry-failed": "Retry failed" };

// The timeline: creation, every status change the API keeps (each pause and resume too), stage
// starts and ends, and failed items, in time order.
function timelineEntries(task, history, failedItems) {
  const entries = [[history.createdAt, "created", `${task.totalItems} items`]];
  for (const change of history.transitions) {
    entries.push([change.at, ACTION_LABELS[change.action] || change.action,
                  change.action === "finish" ? change.status : change.error || ""]);
  }
  for (const stage of task.agents || []) {
    if (stage.startedAt) entries.push([stage.startedAt, `stage ${stage.agentType} started`,
                                       stage.agentName]);
    if (stage.completedAt) entries.push([stage.completedAt, `stage ${stage.agentType} ${stage.status}`,
                                         stage.resultSummary || stage.errorMessage || ""]);
  }
  for (const item of failedItems) {
    entries.push([item.finishedAt, `item #${item.seq} failed`,
                  `attempt ${item.attempt}: ${item.error || ""}`]);
  }
  return entries.filter((entry) => entry[0])
    .sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
}

function timelineRow([at, what, detail]) {
  return h("li", {}, h("time", {}, formatDate(at)), " ", h("strong", {}, what),
    detail ? h("span", { class: "muted" }, ` ${detail}`) : "");
}

async function downloadLink(task) {
  if (task.kind === "documents" && FINISHED.includes(task.status)) {
    const progress = (await get(`/api/v2/batch/tasks/${task.taskId}/progress`)).data;
    if (!progress.zipReady) return null;
    const button = h("button", { class: "primary", id: "download-zip" }, "Download ZIP");
    button.addEventListener("click", () => act(button, async () => {
      const size = await download(`/api/v2/batch/tasks/${task.taskId}/download/zip`,
                                  `${task.taskId}.zip`);
      toast(`Downloaded ${size} bytes`);
    }));
    return button;
  }
  if (task.kind === "slides") return h("a", { href: `#/slides/${task.taskId}` }, "Slide images →");
  return null;
}

export async function taskPage(main, taskId) {
  const view = new TaskView((await get(`/api/v1/tasks/${taskId}`)).data);
  let task = view.task;
  const itemState = { pageNum: 1, status: "" };
  const head = h("div", { class: "page-head" });
  const bar = progressBar(task.progress);
  const summary = h("div", { class: "summary" });
  const actions = h("div", { class: "actions", id: "task-actions" });
  const stagesBox = h("div", {});
  const itemsBox = h("div", {});
  const itemsPager = h("div", { class: "pager" });
  const timelineBox = h("ol", { class: "timeline", id: "timeline" });
  const itemBox = h("div", {});
  const retriesBox = h("span", { id: "retries" });
  const downloadBox = h("div", { class: "download" });
  let refreshTimer = null;

  function renderSummary() {
    replace(head, h("h1", {}, task.taskName), badge(task.status));
    setProgress(bar, task.progress);
    const eta = task.status === "running" ? formatSeconds(task.estimatedRemainingSeconds) : "—";
    replace(summary,
      h("span", { class: "counts", id: "task-counts" }, countsText(task)),
      h("span", {}, `ETA ${eta}`),
      h("span", {}, `step: ${tr(task.currentStep || "—")}`),
      h("span", { class: "muted" }, `${task.kind} · ${task.taskId}`),
      task.parentTaskId ? h("span", {}, tr("Retry of"), " ",
        h("a", { href: `#/tasks/${task.parentTaskId}`, id: "parent-link" }, task.parentTaskId))
        : "",
      retriesBox);
    replace(actions, allowedActions(task).map((action) => {
      const button = h("button", { class: action === "cancel" ? "danger" : "",
                                   dataset: { action } }, LABELS[action]);
      button.addEventListener("click", () => act(button, async () => {
        if (action === "cancel" && !confirmed(tr(`Cancel task ${task.taskName}?`))) return;
        const body = await post(`/api/v1/tasks/${task.taskId}/${action}`);
        if (action === "retry-failed") {
          toast(`Retry task created with ${body.data.retryItemCount} items`);
          location.hash = `#/tasks/${body.data.newTaskId}`;
          return;
        }
        view.set({ ...task, ...body.data });
        task = view.task;
        renderSummary();
        scheduleRefresh();
      }));
      return button;
    }));
  }

  function renderStages() {
    const stages = (task.agents || []).map((stage) => h("tr", { dataset: { stage: stage.agentType } },
      h("td", {}, stage.agentName), h("td", {}, badge(stage.status)),
      h("td", {}, `${stage.progress}%`), h("td", {}, formatMs(stage.durationMs)),
      h("td", {}, stage.resultSummary || stage.errorMessage || "")));
    const usage = Object.entries(task.usage || {});
    replace(stagesBox,
      stages.length ? table(["Stage", "Status", "Progress", "Duration", "Summary"], stages)
        : h("p", { class: "muted" }, "This kind has no stages."),
      h("h3", {}, "Usage"),
      usage.length ? h("dl", { class: "usage" }, usage.map(([key, value]) =>
        [h("dt", {}, key), h("dd", {}, String(value))])) : h("p", { class: "muted" }, "None yet."));
  }

  async function loadItems() {
    const page = (await get(`/api/v1/tasks/${task.taskId}/items`,
      { pageNum: itemState.pageNum, pageSize: ITEM_PAGE, status: itemState.status })).data;
    const rows = page.items.map((item) => h("tr", { dataset: { seq: item.seq }, class: "item-row",
                                                     onclick: () => showItem(item.seq) },
      h("td", {}, h("button", { type: "button", class: "link-button small",
                                "aria-label": `${tr("Item detail")} #${item.seq}` },
        `#${item.seq}`)), h("td", {}, badge(item.status)), h("td", {}, item.attempt),
      h("td", { class: "error-text" }, item.error || ""), h("td", {}, formatMs(item.durationMs)),
      h("td", {}, formatDate(item.startedAt))));
    replace(itemsBox, table(["Item", "Status", "Attempt", "Error", "Duration", "Started"], rows,
                            { class: "items", id: "items" }));
    const pages = Math.max(1, page.pages);
    replace(itemsPager,
      h("button", { disabled: itemState.pageNum <= 1,
                    onclick: () => { itemState.pageNum -= 1; loadItems(); } }, "‹"),
      h("span", {}, `page ${itemState.pageNum} of ${pages}`),
      h("button", { disabled: itemState.pageNum >= pages,
                    onclick: () => { itemState.pageNum += 1; loadItems(); } }, "›"));
  }

  // One item: its input (row, file, slide), its result, its error, in a panel under the list.
  async function showItem(seq) {
    const item = (await get(`/api/v1/tasks/${task.taskId}/items/${seq}`)).data;
    const pre = (value) => h("pre", {}, JSON.stringify(value, null, 2));
    replace(itemBox, h("div", { class: "item-detail", id: "item-detail", role: "region",
                                "aria-label": `${tr("Item detail")} #${seq}` },
      h("div", { class: "page-head" }, h("h3", {}, `${tr("Item detail")} #${item.seq}`),
        badge(item.status), h("span", { class: "muted" },
          `${tr("Attempt")} ${item.attempt} · ${formatMs(item.durationMs)}`),
        h("button", { type: "button", class: "small", onclick: () => replace(itemBox) },
          "Close")),
      h("h3", {}, "Input"), pre(item.input),
      item.result != null ? [h("h3", {}, "Result"), pre(item.result)] : "",
      item.error ? [h("h3", {}, "Error"), h("pre", { class: "error-text" }, item.error)] : ""));
    itemBox.scrollIntoView({ block: "nearest" });
  }

  async function loadRetries() {
    const children = (await get("/api/v1/tasks", { parentTaskId: task.taskId,
                                                   pageSize: 10 })).data.tasks;
    replace(retriesBox, children.length ? [tr("Retries"), ": ", children.map((child, i) =>
      [i ? ", " : "", h("a", { href: `#/tasks/${child.taskId}`, class: "retry-link" },
        child.taskId)])] : "");
  }

  async function loadTimeline() {
    const [history, failed] = await Promise.all([
      get(`/api/v1/tasks/${task.taskId}/timeline`),
      task.failedItems
        ? get(`/api/v1/tasks/${task.taskId}/items`, { status: "failed", pageSize: 50 })
        : null,
    ]);
    replace(timelineBox,
      timelineEntries(task, history.data, failed ? failed.data.items : []).map(timelineRow));
  }

  async function refresh() {
    view.set((await get(`/api/v1/tasks/${task.taskId}`)).data);
    task = view.task;
    renderSummary();
    renderStages();
    await Promise.all([loadItems(), loadTimeline(), loadRetries()]);
    const link = await downloadLink(task);
    replace(downloadBox, link || "");
  }

  // Item rows and stages change many times a second on a busy task: refetched at most every
  // 2 s; the bar and counts follow every live message.
  function scheduleRefresh(delay = 2000) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      refresh().catch((error) => toast(error.message, "error"));
    }, delay);
  }

  const statusFilter = h("select", { id: "item-status", "aria-label": "Item status" },
    ["", "pending", "dispatched", "processing", "done", "failed", "cancelled"].map((value) =>
      h("option", { value }, value ? tr(badge(value).textContent) : "any status")));
  statusFilter.addEventListener("change", () => {
    itemState.status = statusFilter.value;
    itemState.pageNum = 1;
    loadItems();
  });

  replace(main, head,
    h("section", { class: "card" }, bar, summary, actions, downloadBox),
    section("Stages and usage", stagesBox),
    h("section", { class: "card" }, h("div", { class: "page-head" }, h("h2", {}, "Items"),
      statusFilter), itemsBox, itemsPager, itemBox),
    section("Timeline", timelineBox));
  await refresh();
  watchItems(task.taskId);

  const stop = onLive((message) => {
    const payload = message.payload || {};
    if (payload.taskId !== task.taskId) return;
    if (!view.apply(message)) return;
    task = view.task;
    renderSummary();
    const ended = FINISHED.includes(task.status);
    scheduleRefresh(ended || message.type !== "task_progress" ? 200 : 2000);
  });
  return () => { stop(); clearTimeout(refreshTimer); };
}
