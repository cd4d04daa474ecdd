// What a live `task_progress`-style message says about a task, merged into the shape the REST
// API uses (camelCase task summary), so pages render both the same way.
import { tr } from "../i18n.js";
export const FINISHED = ["completed", "partial_success", "failed", "cancelled"];

export function mergeLive(task, payload) {
  return {
    ...task,
    status: payload.status ?? task.status,
    progress: payload.progress ?? task.progress,
    completedItems: payload.done ?? task.completedItems,
    failedItems: payload.failed ?? task.failedItems,
    cancelledItems: payload.cancelled ?? task.cancelledItems,
    totalItems: payload.total ?? task.totalItems,
    currentStep: payload.stage ?? task.currentStep,
    estimatedRemainingSeconds: payload.estimatedTimeRemaining ?? task.estimatedRemainingSeconds,
  };
}

export function countsText(task) {
  const parts = [`${task.completedItems}/${task.totalItems} done`];
  if (task.failedItems) parts.push(`${task.failedItems} failed`);
  if (task.cancelledItems) parts.push(`${task.cancelledItems} cancelled`);
  return parts.map(tr).join(" · ");
}

// Which commands the task's state allows (the same rules as the API's transition table).
export function allowedActions(task) {
  const actions = [];
  if (task.status === "pending") actions.push("start");
  if (task.status === "running") actions.push("pause");
  if (task.status === "paused") actions.push("resume");
  if (!FINISHED.includes(task.status)) actions.push("cancel");
  if (FINISHED.includes(task.status) && task.failedItems > 0) actions.push("retry-failed");
  return actions;
}

function time(value) {
  const at = Date.parse(value || "");
  return Number.isNaN(at) ? 0 : at;
}

// A task as the page knows it. Live messages can arrive out of order with what a command just
// answered (a progress event built before a pause, delivered after it): one older than what the
// page already shows is ignored, so a paused task never flips back to "running" on screen.
export class TaskView {
  constructor(task) {
    this.set(task);
  }

  set(task) {
    this.task = task;
    this.at = Math.max(this.at || 0, time(task.updatedAt));
  }

  apply(message) {
    const at = time(message.timestamp);
    if (at && at < this.at) return false;
    this.at = Math.max(this.at, at);
    this.task = mergeLive(this.task, message.payload || {});
    return true;
  }
}
