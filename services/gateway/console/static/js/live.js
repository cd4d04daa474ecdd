// One WebSocket to /v2/stream for the whole console, subscribed to every task the user may see.
// The token travels as a subprotocol pair (Sec-WebSocket-Protocol), never in the URL.
import { token } from "./api.js";
import { tr } from "./i18n.js";

const listeners = new Set();
let socket = null;
let retryMs = 500;
let wanted = false;

function indicator(state) {
  const element = document.getElementById("live");
  element.hidden = !wanted;
  element.className = `live ${state}`;
  element.textContent = tr(state === "open" ? "live" : "offline");
}

function connect() {
  if (!wanted || !token()) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/v2/stream`, ["conveyor.bearer", token()]);
  socket.addEventListener("open", () => {
    retryMs = 500;
    indicator("open");
    socket.send(JSON.stringify({ action: "subscribe", channels: ["task_progress"] }));
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    for (const listener of listeners) listener(message);
  });
  socket.addEventListener("close", () => {
    indicator("closed");
    socket = null;
    if (wanted) setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  });
}

export function startLive() {
  wanted = true;
  if (!socket) connect();
}

export function stopLive() {
  wanted = false;
  if (socket) socket.close();
  indicator("closed");
}

// Subscribe to live messages; returns the function that unsubscribes (pages call it on leave).
export function onLive(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Ask for one task's items channel too (per-item settles on the detail page).
export function watchItems(taskId) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ action: "subscribe", channels: ["items"], filters: { taskId } }));
  }
}
