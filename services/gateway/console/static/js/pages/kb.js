// Knowledge bases (seed 003): bases, their documents with per-document sync status, sync now,
// sync tasks with progress, and search showing each chunk with its document and score.
import { del, get, post, upload } from "../api.js";
import { tr } from "../i18n.js";
import { act, badge, confirmed, field, formatBytes, formatDate, h, progressBar, replace, section, table,
         toast } from "../dom.js";
import { onLive } from "../live.js";

export async function kbPage(main) {
  const listBox = h("div", { id: "kb-list" });
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "200" });
  const description = h("input", { type: "text", name: "description", maxlength: "2000" });
  const button = h("button", { type: "submit", class: "primary" }, "Create");
  const form = h("form", { class: "inline", id: "kb-create" }, field("Name", name),
    field("Description", description), button);

  async function load() {
    const body = await get("/api/v1/knowledge-bases", { limit: 100 });
    replace(listBox, body.data.length ? table(["Knowledge base", "Documents", "Updated"],
      body.data.map((kb) => h("tr", {},
        h("td", {}, h("a", { href: `#/kb/${kb.id}` }, kb.name),
          kb.description ? h("div", { class: "muted" }, kb.description) : ""),
        h("td", {}, kb.document_count), h("td", {}, formatDate(kb.updated_at)))),
    ) : h("p", { class: "muted" }, "No knowledge bases yet."));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(button, async () => {
      const body = await post("/api/v1/knowledge-bases",
                              { name: name.value.trim(), description: description.value });
      location.hash = `#/kb/${body.data.id}`;
    });
  });
  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Knowledge bases")),
    section("New knowledge base", form), section("Knowledge bases", listBox));
  await load();
}

function taskId(publicId) {
  return publicId.replace(/^task-/, "");
}

export async function kbDetailPage(main, kbId) {
  const kb = (await get(`/api/v1/knowledge-bases/${kbId}`)).data;
  const documentsBox = h("div", { id: "kb-documents" });
  const syncBox = h("div", { id: "kb-sync-tasks" });
  const resultsBox = h("div", { id: "search-results" });
  const watched = new Set();
  let timer = null;

  // Deleting a document removes it and its chunks from search (asked first: it cannot be undone).
  function removeButton(document) {
    const button = h("button", { type: "button", class: "danger small",
                                 "aria-label": `${tr("Delete")} ${document.filename}` }, "Delete");
    button.addEventListener("click", () => act(button, async () => {
      if (!confirmed(tr(`Delete ${document.filename}?`))) return;
      await del(`/api/v1/knowledge-bases/${kbId}/documents/${document.id}`);
      toast(tr(`Deleted ${document.filename}`));
      await load();
    }));
    return button;
  }

  async function load() {
    const [documents, syncs] = await Promise.all([
      get(`/api/v1/knowledge-bases/${kbId}/documents`, { limit: 100 }),
      get(`/api/v1/knowledge-bases/${kbId}/sync-tasks`, { limit: 10 }),
    ]);
    replace(documentsBox, documents.data.length ? table(
      ["Document", "Format", "Size", "Sync status", "Chunks", "Indexed", ""],
      documents.data.map((d) => h("tr", { dataset: { documentId: d.id } },
        h("td", {}, d.filename), h("td", {}, d.format), h("td", {}, formatBytes(d.size_bytes)),
        h("td", {}, badge(d.sync_status)), h("td", {}, d.chunk_count),
        h("td", {}, formatDate(d.indexed_at)), h("td", {}, removeButton(d)))),
    ) : h("p", { class: "muted" }, "No documents yet."),
    documents.total > documents.data.length
      ? h("p", { class: "muted" }, `first ${documents.data.length} of ${documents.total}`) : "");
    watched.clear();
    replace(syncBox, syncs.data.length ? table(
      ["Sync task", "Type", "Status", "Progress", "Step", "Created"],
      syncs.data.map((task) => {
        watched.add(taskId(task.id));
        return h("tr", {},
          h("td", {}, h("a", { href: `#/tasks/${taskId(task.id)}`, class: "mono" }, task.id)),
          h("td", {}, task.task_type), h("td", {}, badge(task.status)),
          h("td", { class: "progress-cell" }, progressBar(task.progress,
            `${task.processed_documents + task.failed_documents}/${task.total_documents}`)),
          h("td", {}, task.current_step), h("td", {}, formatDate(task.created_at)));
      })) : h("p", { class: "muted" }, "No sync tasks yet."));
  }

  const file = h("input", { type: "file", name: "file", required: true,
                            accept: ".pdf,.docx,.html,.htm,.md,.markdown,.txt" });
  const uploadButton = h("button", { type: "submit", class: "primary" }, "Upload");
  const uploadForm = h("form", { class: "inline", id: "kb-upload" }, field("File", file),
    uploadButton);
  uploadForm.addEventListener("submit", (event) => {
    event.preventDefault();
    act(uploadButton, async () => {
      const data = new FormData();
      data.append("file", file.files[0]);
      await upload(`/api/v1/knowledge-bases/${kbId}/documents`, data);
      uploadForm.reset();
      await load();
    });
  });
  const syncButton = h("button", { class: "primary", id: "sync-now" }, "Sync now");
  syncButton.addEventListener("click", () => act(syncButton, async () => {
    const body = await post(`/api/v1/knowledge-bases/${kbId}/sync`, { task_type: "full_sync" });
    toast(`Sync started: ${body.data.total_documents} documents`);
    await load();
  }));

  const query = h("input", { type: "search", name: "query", required: true, maxlength: "2000",
                             id: "search-query", placeholder: "Ask a question…" });
  const topK = h("input", { type: "number", name: "top_k", min: "1", max: "50", value: "5" });
  const searchButton = h("button", { type: "submit", class: "primary" }, "Search");
  const searchForm = h("form", { class: "inline", id: "kb-search" }, field("Query", query),
    field("Top", topK), searchButton);
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    act(searchButton, async () => {
      const body = await post(`/api/v1/knowledge-bases/${kbId}/search`,
                              { query: query.value, top_k: Number(topK.value) });
      const hits = body.data.results;
      replace(resultsBox, h("p", { class: "muted" }, `${hits.length} chunks in ${body.data.took_ms} ms`),
        hits.map((hit) => h("article", { class: "hit" },
          h("header", {}, h("strong", {}, hit.filename), ` · chunk ${hit.chunk_index} · `,
            h("span", { class: "score" }, `score ${Number(hit.score).toFixed(3)}`)),
          h("p", {}, hit.content))));
    });
  });

  replace(main,
    h("div", { class: "page-head" }, h("h1", {}, kb.name), h("span", { class: "muted" }, kb.id)),
    section("Search", searchForm, resultsBox),
    section("Documents", uploadForm, documentsBox),
    section("Sync", syncButton, syncBox));
  await load();
  const stop = onLive((message) => {
    if (!watched.has((message.payload || {}).taskId) || timer) return;
    timer = setTimeout(() => { timer = null; load().catch(() => {}); }, 500);
  });
  return () => { stop(); clearTimeout(timer); };
}
