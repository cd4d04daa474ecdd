// Servers (seed 004): registered servers with status, current task and workflows; the form that
// starts a workflow batch on one; the caller's batch tasks.
import { get, post } from "../api.js";
import { act, badge, field, formatDate, h, progressBar, replace, section, table,
         toast } from "../dom.js";
import { onLive } from "../live.js";

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

function batchForm(servers) {
  const usable = servers.filter((s) => s.workflows.length);
  if (!usable.length) return h("p", { class: "muted" }, "No server offers a workflow yet.");
  const server = h("select", { name: "server", id: "batch-server" },
    usable.map((s) => h("option", { value: s.name }, `${s.name} (${s.status})`)));
  const workflow = h("select", { name: "workflow", id: "batch-workflow" });
  const fillWorkflows = () => {
    const chosen = usable.find((s) => s.name === server.value);
    replace(workflow, chosen.workflows.map((w) => h("option", { value: w }, w)));
  };
  server.addEventListener("change", fillWorkflows);
  fillWorkflows();
  const folders = h("textarea", { name: "folders", rows: "2", placeholder: "one folder per line",
                                  required: true });
  const keywords = h("input", { type: "text", name: "keywords",
                                placeholder: "comma-separated (optional)" });
  const output = h("input", { type: "text", name: "output", required: true, value: "out" });
  const button = h("button", { type: "submit", class: "primary" }, "Start batch");
  const form = h("form", { class: "grid", id: "server-batch" }, field("Server", server),
    field("Workflow", workflow), field("Target folders", folders),
    field("Folder keywords", keywords), field("Output folder", output), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(button, async () => {
      const body = await post("/batch/process", {
        workflow_name: workflow.value, selected_server: server.value,
        target_folders: lines(folders.value), output_root: output.value.trim(),
        folder_keywords: keywords.value.split(",").map((k) => k.trim()).filter(Boolean),
      });
      toast(`Started: ${body.total_files} files on ${body.server_name}`);
      location.hash = `#/tasks/${body.task_id}`;
    });
  });
  return form;
}

export async function serversPage(main) {
  const serversBox = h("div", { id: "servers" });
  const formBox = h("div", {});
  const tasksBox = h("div", { id: "server-tasks" });
  let timer = null;

  async function load() {
    const [servers, tasks] = await Promise.all([get("/servers"), get("/batch/tasks",
                                                                     { limit: 20 })]);
    replace(serversBox, servers.length ? table(
      ["Server", "Type", "Status", "Enabled", "Current task", "Workflows", "Checked"],
      servers.map((s) => h("tr", { dataset: { server: s.name } },
        h("td", {}, h("strong", {}, s.name), h("div", { class: "muted" }, s.url || "")),
        h("td", {}, s.type), h("td", {}, badge(s.status),
          s.error ? h("div", { class: "error-text" }, s.error) : ""),
        h("td", {}, s.enabled ? "yes" : "no"),
        h("td", {}, s.current_task_id
          ? h("a", { href: `#/tasks/${s.current_task_id}` }, s.current_task_id.slice(0, 8))
          : s.busy ? "busy" : "idle"),
        h("td", { class: "fields" }, s.workflows.map((w) => h("code", {}, w))),
        h("td", {}, formatDate(s.checked_at)))),
    ) : h("p", { class: "muted" }, "No servers registered."));
    replace(formBox, batchForm(servers));
    replace(tasksBox, tasks.length ? table(
      ["Batch task", "Server", "Workflow", "Status", "Progress", "Created"],
      tasks.map((t) => h("tr", {},
        h("td", {}, h("a", { href: `#/tasks/${t.task_id}` }, t.task_id.slice(0, 8))),
        h("td", {}, t.server_name), h("td", {}, t.workflow_name),
        h("td", {}, badge(t.engine_status)),
        h("td", { class: "progress-cell" }, progressBar(t.progress * 100,
          `${t.processed_files + t.failed_files}/${t.total_files}`)),
        h("td", {}, formatDate(t.created_at)))),
    ) : h("p", { class: "muted" }, "No batch tasks yet."));
  }

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Servers")),
    section("Registered servers", serversBox), section("Start a workflow batch", formBox),
    section("Batch tasks", tasksBox));
  await load();
  const stop = onLive((message) => {
    if ((message.payload || {}).kind !== "server_batch" || timer) return;
    timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 1000);
  });
  return () => { stop(); clearTimeout(timer); };
}
