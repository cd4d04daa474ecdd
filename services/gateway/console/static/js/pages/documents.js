// Documents (seed 000): DOCX templates with the fields read from them, data sources (CSV, XLSX,
// JSON rows), and the form that starts a batch of templates x rows as DOCX or PDF.
import { del, get, post, upload } from "../api.js";
import { act, field, formatBytes, formatDate, h, replace, section, table, toast } from "../dom.js";
import { tr } from "../i18n.js";

function uploadForm(id, accept, label, path, onDone) {
  const file = h("input", { type: "file", name: "file", accept, required: true });
  const name = h("input", { type: "text", name: "name", maxlength: "255",
                            placeholder: "(file name)" });
  const button = h("button", { type: "submit", class: "primary" }, label);
  const form = h("form", { class: "inline", id }, field("File", file), field("Name", name), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(button, async () => {
      const data = new FormData();
      data.append("file", file.files[0]);
      if (name.value.trim()) data.append("name", name.value.trim());
      await upload(path, data);
      toast(`Uploaded ${file.files[0].name}`);
      form.reset();
      await onDone();
    });
  });
  return form;
}

function deleteButton(path, what, onDone) {
  const button = h("button", { class: "danger small" }, "Delete");
  button.addEventListener("click", () => act(button, async () => {
    if (!confirm(tr(`Delete ${what}?`))) return;
    await del(path);
    toast(tr(`Deleted ${what}`));
    await onDone();
  }));
  return button;
}

export async function documentsPage(main) {
  const templatesBox = h("div", { id: "templates" });
  const sourcesBox = h("div", { id: "data-sources" });
  const batchBox = h("div", {});

  async function load() {
    const [templates, sources] = await Promise.all([get("/api/v2/templates"),
                                                    get("/api/v2/data-sources")]);
    replace(templatesBox, templates.data.length ? table(
      ["Template", "Fields", "Size", "Uploaded", ""],
      templates.data.map((t) => h("tr", { dataset: { templateId: t.templateId } },
        h("td", {}, h("strong", {}, t.templateName), h("div", { class: "muted" }, t.templateId)),
        h("td", { class: "fields" }, t.fields.map((f) => h("code", {}, f))),
        h("td", {}, formatBytes(t.size)), h("td", {}, formatDate(t.createdAt)),
        h("td", {}, deleteButton(`/api/v2/templates/${t.templateId}`, t.templateName, load)))),
    ) : h("p", { class: "muted" }, "No templates yet."));
    replace(sourcesBox, sources.data.length ? table(
      ["Data source", "Format", "Rows", "Columns", "Uploaded", ""],
      sources.data.map((s) => h("tr", { dataset: { dataSourceId: s.dataSourceId } },
        h("td", {}, h("strong", {}, s.name), h("div", { class: "muted" }, s.dataSourceId)),
        h("td", {}, s.format), h("td", {}, s.rowCount),
        h("td", { class: "fields" }, (s.columns || []).map((c) => h("code", {}, c))),
        h("td", {}, formatDate(s.createdAt)),
        h("td", {}, deleteButton(`/api/v2/data-sources/${s.dataSourceId}`, s.name, load)))),
    ) : h("p", { class: "muted" }, "No data sources yet."));
    replace(batchBox, batchForm(templates.data, sources.data));
  }

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Documents")),
    section("Templates",
      uploadForm("template-upload", ".docx", "Upload template", "/api/v2/templates", load),
      templatesBox),
    section("Data sources",
      uploadForm("data-upload", ".csv,.xlsx,.json", "Upload data", "/api/v2/data-sources", load),
      sourcesBox),
    section("New batch", batchBox));
  await load();
}

function batchForm(templates, sources) {
  if (!templates.length || !sources.length) {
    return h("p", { class: "muted" }, "Upload a template and a data source to start a batch.");
  }
  const templateBoxes = templates.map((t) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "template", value: t.templateId }), t.templateName));
  const source = h("select", { name: "dataSource", id: "batch-source" },
    sources.map((s) => h("option", { value: s.dataSourceId }, `${s.name} (${s.rowCount} rows)`)));
  const format = h("select", { name: "format", id: "batch-format" },
    h("option", { value: "docx" }, "DOCX"), h("option", { value: "pdf" }, "PDF"));
  const mode = h("select", { name: "mode" }, h("option", { value: "sequential" }, "sequential"),
    h("option", { value: "parallel" }, "parallel"));
  const concurrency = h("input", { type: "number", name: "concurrency", min: "1", max: "64",
                                   value: "3" });
  const batchSize = h("input", { type: "number", name: "batchSize", min: "1", max: "100",
                                 value: "10" });
  const zip = h("input", { type: "checkbox", name: "createZip", checked: true });
  const continueOnError = h("input", { type: "checkbox", name: "continueOnError" });
  const name = h("input", { type: "text", name: "name", maxlength: "255" });
  const first = h("input", { type: "number", name: "rowFirst", id: "row-first", min: "1",
                             placeholder: "1" });
  const last = h("input", { type: "number", name: "rowLast", id: "row-last", min: "1" });
  const button = h("button", { type: "submit", class: "primary" }, "Start batch");
  // The API's refusal, next to the form (and read out): "rows.csv lacks amount, city".
  const problem = h("p", { class: "field-error", id: "batch-error", role: "alert",
                           hidden: true });
  const form = h("form", { class: "grid", id: "batch-form" },
    h("fieldset", {}, h("legend", {}, "Templates"), templateBoxes),
    field("Rows from", source), field("Format", format), field("Mode", mode),
    field("Concurrency (parallel)", concurrency), field("Documents per message", batchSize),
    h("label", { class: "check" }, zip, "Create ZIP"),
    h("label", { class: "check" }, continueOnError, "Continue on error"),
    field(`${tr("Rows")} ${tr("Rows from")}`, first), field(`${tr("Rows")} ${tr("to")}`, last),
    field("Name", name), button, problem);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = templateBoxes.map((label) => label.querySelector("input"))
      .filter((input) => input.checked).map((input) => input.value);
    problem.hidden = true;
    if (!chosen.length) { showProblem("Choose at least one template."); return; }
    const rowRange = first.value || last.value ? { first: Number(first.value || 1),
      ...(last.value ? { last: Number(last.value) } : {}) } : undefined;
    button.disabled = true;
    (async () => {
      let body;
      try {
        body = await post("/api/v2/batch/tasks", {
          templateIds: chosen, dataSourceId: source.value, outputFormat: format.value,
          mode: mode.value, name: name.value.trim() || undefined, rowRange,
          options: { concurrency: Number(concurrency.value), batchSize: Number(batchSize.value),
                     createZip: zip.checked, continueOnError: continueOnError.checked },
        });
      } catch (error) {
        showProblem(error.message);
        return;
      } finally {
        button.disabled = false;
      }
      const taskId = body.data.taskId;
      await post(`/api/v2/batch/tasks/${taskId}/start`);
      toast(tr(`Started ${body.data.estimatedDocumentCount} documents`));
      location.hash = `#/tasks/${taskId}`;
    })().catch((error) => showProblem(error.message));
  });

  function showProblem(message) {
    replace(problem, tr(message));
    problem.hidden = false;
  }
  return form;
}
