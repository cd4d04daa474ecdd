import { t, tr } from "./i18n.js";

// Small DOM helpers. Text always goes in as text nodes, never as HTML, so nothing the API returns
// (file names, errors, item results) can inject markup.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "dataset") {
      Object.assign(element.dataset, value);
    } else if (TRANSLATED.has(key)) {
      element.setAttribute(key, tr(String(value)));
    } else if (key in element && typeof value !== "string") {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

// Attributes people read (or hear): put in the page's language like text.
const TRANSLATED = new Set(["placeholder", "title", "aria-label"]);

// Strings become text nodes in the page's language (labels only match: data from the API is
// not in the dictionary and stays as it is).
function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(
      typeof child === "string" ? tr(child) : String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  const line = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    message);
  box.append(line);
  setTimeout(() => line.remove(), kind === "error" ? 8000 : 4000);
}

// Runs an action behind a button: disabled while it runs, errors shown, never thrown away.
export async function act(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    toast(error.message || String(error), "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function badge(status) {
  return h("span", { class: `badge s-${String(status).replace(/[^a-z_]/g, "")}` },
    t(`status.${status}`, status));
}

export function progressBar(percent, label, name = t("Progress")) {
  const value = Math.max(0, Math.min(100, Math.round(percent || 0)));
  const fill = h("div", { class: "fill" });
  fill.style.width = `${value}%`; // CSSOM, which the console's CSP allows (style attributes not)
  return h("div", { class: "bar", role: "progressbar", "aria-label": name, "aria-valuemin": "0",
                    "aria-valuemax": "100", "aria-valuenow": String(value) },
    fill, h("span", { class: "bar-label" }, label ?? `${value}%`));
}

export function setProgress(bar, percent, label) {
  const value = Math.max(0, Math.min(100, Math.round(percent || 0)));
  bar.setAttribute("aria-valuenow", String(value));
  bar.querySelector(".fill").style.width = `${value}%`;
  bar.querySelector(".bar-label").textContent = label ?? `${value}%`;
}

// Wide tables scroll inside their card on a phone instead of widening the page.
export function table(headers, rows, attrs = {}) {
  // Focusable, so the keyboard can scroll it too.
  return h("div", { class: "table-wrap", tabindex: "0" }, h("table", attrs,
    h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, rows)));
}

// Asks before an action that cannot be undone (cancel, delete); the native dialog is keyboard-
// and screen-reader-friendly and needs no markup of ours.
export function confirmed(question) {
  return window.confirm(question);
}

export function field(label, control) {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), children);
}
