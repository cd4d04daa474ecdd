// Slides (seed 001): batches (tasks of kind `slides`), and one batch as a thumbnail grid with
// each slide's status. Images come through the API's owner-checked redirect to storage.
import { fetchBlob, get, post } from "../api.js";
import { act, badge, field, formatDate, formatSeconds, h, progressBar, replace, section,
         setProgress, table, toast } from "../dom.js";
import { tr } from "../i18n.js";
import { onLive } from "../live.js";
import { FINISHED } from "./live_task.js";

function newBatchForm() {
  const titles = h("textarea", { name: "titles", rows: "4", maxlength: "4000",
                                 placeholder: "One slide title per line" },
    "Quarterly review\nWhat shipped\nWhat is next\nThank you");
  const style = h("input", { type: "text", name: "style", maxlength: "2000",
                             value: "clean, modern" });
  const button = h("button", { type: "submit", class: "primary" }, "Generate slides");
  const form = h("form", { class: "grid", id: "slides-form" }, field("Slide titles", titles),
    field("Style", style), button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const lines = titles.value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (!lines.length) { toast("Give at least one title.", "error"); return; }
    act(button, async () => {
      const slides = lines.map((title, i) => ({
        id: `s${i + 1}`, page_num: i + 1, title,
        type: i === 0 ? "cover" : i === lines.length - 1 && lines.length > 2 ? "ending"
          : "content",
      }));
      const body = await post("/api/slide/batch/generate",
                              { slides, style_prompt: style.value, wait: false });
      location.hash = `#/slides/${body.batch_id}`;
    });
  });
  return form;
}

export async function slidesPage(main) {
  const page = (await get("/api/v1/tasks", { kind: "slides", pageSize: 50 })).data;
  const rows = page.tasks.map((task) => h("tr", {},
    h("td", {}, h("a", { href: `#/slides/${task.taskId}` }, task.taskName)),
    h("td", {}, badge(task.status)), h("td", {}, `${task.completedItems}/${task.totalItems}`),
    h("td", {}, formatDate(task.createdAt))));
  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Slides")),
    section("New batch", newBatchForm()),
    section("Batches", rows.length ? table(["Batch", "Status", "Slides", "Created"], rows,
                                           { id: "slide-batches" })
      : h("p", { class: "muted" }, "No slide batches yet.")));
}

// A thumbnail opens the slide at full size in a modal dialog (Escape closes it), with a download.
function fullSizeButton(url, slide) {
  const title = slide.title || `slide ${slide.page_num}`;
  const open = h("button", { type: "button", class: "link-button full-size",
                             "aria-label": `${tr("Full size")}: ${title}` },
    h("img", { src: url, alt: title }));
  open.addEventListener("click", () => {
    const close = h("button", { type: "button", class: "small" }, "Close");
    const dialog = h("dialog", { class: "viewer", "aria-label": title },
      h("div", { class: "page-head" }, h("strong", {}, `${slide.page_num}. ${title}`),
        h("a", { href: url, download: `slide-${slide.page_num}.png`, class: "download-slide" },
          "Download"), close),
      h("img", { src: url, alt: title }));
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });
  return open;
}

export async function slideBatchPage(main, batchId) {
  const grid = h("div", { class: "thumbs", id: "thumbs" });
  const head = h("div", { class: "page-head" });
  const bar = progressBar(0);
  const info = h("div", { class: "summary" });
  const shown = new Map(); // seq url -> object URL, so a refresh does not refetch images
  let timer = null;

  async function thumbnail(url) {
    if (!shown.has(url)) shown.set(url, URL.createObjectURL(await fetchBlob(url)));
    return shown.get(url);
  }

  async function load() {
    const batch = await post("/api/slide/batch/status", { batch_id: batchId });
    replace(head, h("h1", {}, `Slide batch`), badge(batch.task_status),
      h("a", { href: `#/tasks/${batchId}` }, "task details →"));
    setProgress(bar, batch.progress * 100);
    replace(info, h("span", {}, `${batch.successful} done · ${batch.failed} failed · ` +
      `${batch.total_slides} slides`),
      h("span", {}, `ETA ${formatSeconds(batch.estimated_remaining_time)}`),
      h("span", { class: "muted" }, `${batch.total_time}s`));
    const cards = await Promise.all(batch.results.map(async (slide) => {
      let picture;
      if (slide.image_url) {
        try {
          picture = fullSizeButton(await thumbnail(slide.image_url), slide);
        } catch (error) {
          picture = h("div", { class: "placeholder error-text" }, error.message);
        }
      } else {
        picture = h("div", { class: "placeholder" }, slide.error_message || slide.status);
      }
      return h("figure", { class: "thumb", dataset: { status: slide.status } }, picture,
        h("figcaption", {}, h("span", {}, `${slide.page_num}. ${slide.title}`),
          badge(slide.status), slide.cached ? h("span", { class: "muted" }, " cached") : ""));
    }));
    replace(grid, cards);
    return batch;
  }

  replace(main, head, h("section", { class: "card" }, bar, info), section("Slides", grid));
  await load();
  const stop = onLive((message) => {
    if ((message.payload || {}).taskId !== batchId || timer) return;
    timer = setTimeout(() => {
      timer = null;
      load().catch((error) => toast(error.message, "error"));
    }, FINISHED.includes(message.payload.status) ? 100 : 700);
  });
  return () => {
    stop();
    clearTimeout(timer);
    for (const url of shown.values()) URL.revokeObjectURL(url);
  };
}
