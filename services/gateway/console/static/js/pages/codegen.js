// Code generation (seed 002): the requirement and its options, then one generation as it runs —
// the agents' timeline, the quality report, the generated files with a viewer, the preview link
// and the download. It polls the seed's status route every 2 seconds, as the seed's frontend.
import { get, post } from "../api.js";
import { act, badge, field, formatDate, formatMs, h, progressBar, replace, section,
         setProgress, table, toast } from "../dom.js";

const TERMINAL = ["completed", "failed", "cancelled"];
const POLL_MS = 2000;
const EXAMPLE = "创建一个校园二手交易平台，支持商品发布、搜索、聊天和交易评价";

function newGenerationForm() {
  const requirement = h("textarea", { name: "requirement", rows: "4", maxlength: "5000",
                                      required: true, id: "cg-requirement" }, EXAMPLE);
  const packageName = h("input", { type: "text", name: "package", id: "cg-package",
                                   placeholder: "com.example.marketplace (optional)" });
  const threshold = h("input", { type: "number", name: "threshold", min: "0", max: "100",
                                 value: "70", id: "cg-threshold" });
  const preview = h("input", { type: "checkbox", name: "preview", checked: true,
                               id: "cg-preview" });
  const skip = h("input", { type: "checkbox", name: "skip", id: "cg-skip" });
  const button = h("button", { type: "submit", class: "primary" }, "Generate");
  const form = h("form", { class: "grid", id: "codegen-form" },
    field("Requirement (Chinese or English, at most 5,000 characters)", requirement),
    field("Kotlin package", packageName), field("Quality threshold (0-100)", threshold),
    h("label", {}, preview, " HTML preview"), h("label", {}, skip, " Skip validation"),
    button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(button, async () => {
      const body = { userRequirement: requirement.value, skipValidation: skip.checked,
                     qualityThreshold: Number(threshold.value), generatePreview: preview.checked };
      if (packageName.value.trim()) body.packageName = packageName.value.trim();
      const created = await post("/api/v1/generate/async", body);
      location.hash = `#/codegen/${created.data}`;
    });
  });
  return form;
}

export async function codegenPage(main) {
  const page = (await get("/api/v1/tasks", { kind: "codegen", pageSize: 50 })).data;
  const rows = page.tasks.map((task) => h("tr", {},
    h("td", {}, h("a", { href: `#/codegen/${task.taskId}` }, task.taskName)),
    h("td", {}, badge(task.status)), h("td", {}, formatDate(task.createdAt))));
  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Code generation")),
    section("New generation", newGenerationForm()),
    section("Generations", rows.length ? table(["Requirement", "Status", "Created"], rows,
                                               { id: "codegen-tasks" })
      : h("p", { class: "muted" }, "No generations yet.")));
}

function timeline(agents) {
  return table(["Agent", "Status", "Progress", "Took", "Result"], agents.map((agent) =>
    h("tr", { dataset: { agent: agent.agentType } },
      h("td", {}, `${agent.agentName} (${agent.agentType})`), h("td", {}, badge(agent.status)),
      h("td", {}, `${agent.progress}%`), h("td", {}, formatMs(agent.durationMs)),
      h("td", {}, agent.errorMessage || agent.resultSummary || "—"))), { id: "cg-agents" });
}

function qualityReport(report) {
  if (!report) return h("p", { class: "muted" }, "Not validated (yet).");
  return h("div", {}, h("p", {}, h("strong", {}, `Score ${report.score ?? "—"}/100`)),
    table(["Check", "Points", "Detail"], report.checks.map((check) => h("tr", {},
      h("td", {}, check.passed ? "✓ " : "✗ ", check.name),
      h("td", {}, `${check.score}/${check.weight}`), h("td", {}, check.detail))),
    { id: "cg-checks" }),
    report.reviewerNotes.length ? h("ul", {}, report.reviewerNotes.map((n) => h("li", {}, n)))
      : "");
}

function fileTree(taskId, files, viewer) {
  const list = h("ul", { class: "cg-files", id: "cg-files" }, files.map((path) => {
    const link = h("a", { href: "#", dataset: { path } }, path);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      act(null, async () => {
        const file = (await get(`/api/v1/generate/files/${taskId}`, { path })).data;
        replace(viewer, h("h3", {}, file.path), h("pre", { class: "cg-code" }, file.content));
      });
    });
    return h("li", {}, link);
  }));
  return list;
}

export async function codegenTaskPage(main, taskId) {
  const head = h("div", { class: "page-head" });
  const bar = progressBar(0);
  const info = h("div", { class: "summary" });
  const agents = h("div", {});
  const quality = h("div", {});
  const files = h("div", {});
  const viewer = h("div", { id: "cg-viewer" }, h("p", { class: "muted" }, "Pick a file."));
  let timer = null;
  let filesShown = false;

  async function load() {
    const data = (await get(`/api/v1/generate/status/${taskId}`)).data;
    const cancel = h("button", { type: "button", id: "cg-cancel" }, "Cancel");
    cancel.addEventListener("click", () => act(cancel, async () => {
      await post(`/api/v1/generate/cancel/${taskId}`);
      toast("Cancelled.");
      await load();
    }));
    replace(head, h("h1", {}, data.taskName), badge(data.status),
      h("span", { class: "muted" }, data.statusDescription),
      TERMINAL.includes(data.status) ? "" : cancel);
    setProgress(bar, data.progress);
    const usage = data.tokenUsage || {};
    replace(info,
      h("span", {}, `provider ${data.provider ?? "—"} · ${usage.totalTokens ?? 0} tokens · ` +
        `cost ${usage.estimatedCost ?? 0}`),
      data.packageName ? h("span", {}, h("code", {}, data.packageName)) : "",
      data.downloadUrl ? h("a", { href: data.downloadUrl, id: "cg-download" }, "Download ZIP")
        : "",
      data.previewUrl ? h("a", { href: data.previewUrl, target: "_blank", rel: "noopener",
                                 id: "cg-preview-link" }, "Open preview") : "",
      data.errorMessage ? h("span", { class: "error-text", id: "cg-error" }, data.errorMessage)
        : "");
    replace(agents, timeline(data.agents));
    replace(quality, qualityReport(data.qualityReport));
    if (data.status === "completed" && !filesShown) {
      filesShown = true;
      replace(files, h("div", { class: "cg-browser" }, fileTree(taskId, data.files, viewer),
                       viewer));
    }
    return data;
  }

  replace(main, head, h("section", { class: "card" }, bar, info),
    section("Agents", agents), section("Quality", quality), section("Files", files));
  const first = await load();
  const poll = async () => {
    try {
      const data = await load();
      if (!TERMINAL.includes(data.status)) timer = setTimeout(poll, POLL_MS);
    } catch (error) {
      toast(error.message, "error");
    }
  };
  if (!TERMINAL.includes(first.status)) timer = setTimeout(poll, POLL_MS);
  return () => clearTimeout(timer);
}
