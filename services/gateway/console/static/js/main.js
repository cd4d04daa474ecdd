// Entry point: sign-in, hash routing (#/tasks, #/tasks/<id>, ...), and the live connection.
import { get, setToken, token } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { startLive, stopLive } from "./live.js";
import { codegenPage, codegenTaskPage } from "./pages/codegen.js";
import { documentsPage } from "./pages/documents.js";
import { healthPage } from "./pages/health.js";
import { kbPage, kbDetailPage } from "./pages/kb.js";
import { serversPage } from "./pages/servers.js";
import { slidesPage, slideBatchPage } from "./pages/slides.js";
import { taskPage } from "./pages/task.js";
import { tasksPage } from "./pages/tasks.js";

const ROUTES = [
  [/^#\/tasks\/([\w-]+)$/, taskPage, "tasks"],
  [/^#\/tasks$/, tasksPage, "tasks"],
  [/^#\/documents$/, documentsPage, "documents"],
  [/^#\/slides\/([\w-]+)$/, slideBatchPage, "slides"],
  [/^#\/slides$/, slidesPage, "slides"],
  [/^#\/kb\/([\w-]+)$/, kbDetailPage, "kb"],
  [/^#\/kb$/, kbPage, "kb"],
  [/^#\/servers$/, serversPage, "servers"],
  [/^#\/health$/, healthPage, "health"],
  [/^#\/codegen\/([\w-]+)$/, codegenTaskPage, "codegen"],
  [/^#\/codegen$/, codegenPage, "codegen"],
];

const main = document.getElementById("main");
let leave = null; // the current page's cleanup (live listeners, timers)
let probing = false; // checking a token at sign-in: a 401 there is an answer, not an expiry

function signInPage() {
  const input = h("input", { type: "password", name: "token", autocomplete: "off",
                             placeholder: "cvr_…", required: true, id: "token" });
  const form = h("form", { class: "card signin", id: "signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" },
      "Paste an API token (`make up` prints one; more with ",
      h("code", {}, "python -m services.gateway.cli create-user"), ")."),
    h("label", { class: "field" }, h("span", {}, "Token"), input),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    probing = true;
    try {
      await get("/api/v1/tasks", { pageSize: 1 });
    } catch (error) {
      setToken(null);
      toast(error.status === 401 ? "That token is not valid." : error.message, "error");
      return;
    } finally {
      probing = false;
    }
    input.value = "";
    if (!location.hash || location.hash === "#/signin") location.hash = "#/tasks";
    else route();
  });
  replace(main, form);
  input.focus();
}

function signedIn(yes) {
  document.getElementById("nav").hidden = !yes;
  document.getElementById("signout").hidden = !yes;
  if (yes) startLive(); else stopLive();
}

async function route() {
  if (leave) { leave(); leave = null; }
  if (!token()) {
    signedIn(false);
    signInPage();
    return;
  }
  signedIn(true);
  const hash = location.hash || "#/tasks";
  for (const [pattern, page, name] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of document.querySelectorAll("#nav a")) {
      link.classList.toggle("active", link.dataset.page === name);
    }
    replace(main, h("p", { class: "muted" }, "Loading…"));
    try {
      leave = (await page(main, ...match.slice(1))) || null;
    } catch (error) {
      replace(main, h("div", { class: "card error" }, h("h2", {}, "Could not load this page"),
        h("p", {}, error.message || String(error))));
    }
    return;
  }
  location.hash = "#/tasks";
}

document.getElementById("signout").addEventListener("click", () => {
  setToken(null);
  location.hash = "#/signin";
  route();
});
window.addEventListener("conveyor:unauthorized", () => {
  if (!token() || probing) return;
  setToken(null);
  toast("Your token was refused; sign in again.", "error");
  route();
});
window.addEventListener("hashchange", route);
route();
