// The server file store (seed 004's `/files`): browse by folder (#/files?prefix=/in/), open a
// file, upload one into the folder shown.
import { api, download, get } from "../api.js";
import { act, field, formatBytes, formatDate, h, replace, section, table, toast } from "../dom.js";
import { tr } from "../i18n.js";

function parent(prefix) {
  const parts = prefix.split("/").filter(Boolean);
  parts.pop();
  return `/${parts.length ? `${parts.join("/")}/` : ""}`;
}

export async function filesPage(main, query) {
  const prefix = new URLSearchParams(query || "").get("prefix") || "/";
  const listBox = h("div", { id: "file-list" });
  const input = h("input", { type: "file", name: "file", id: "file-upload", required: true });
  const button = h("button", { type: "submit", class: "primary" }, "Upload");
  const form = h("form", { class: "inline", id: "upload-file" }, field("Upload a file", input),
    button);

  async function load() {
    const listing = await get("/files", { prefix });
    const folders = new Set();
    const files = [];
    for (const file of listing.files) {
      const rest = file.path.slice(prefix.length);
      if (rest.includes("/")) folders.add(rest.split("/")[0]);
      else files.push(file);
    }
    const rows = [
      ...(prefix !== "/" ? [h("tr", {}, h("td", {}, h("a", {
        href: `#/files?prefix=${encodeURIComponent(parent(prefix))}` }, `.. (${tr("Up")})`)),
        h("td", {}), h("td", {}))] : []),
      ...[...folders].sort().map((name) => h("tr", { dataset: { folder: name } },
        h("td", {}, h("a", { href: `#/files?prefix=${encodeURIComponent(`${prefix}${name}/`)}` },
          `${name}/`)), h("td", {}, tr("Folder")), h("td", {}))),
      ...files.map((file) => {
        const name = file.path.slice(prefix.length);
        const open = h("button", { type: "button", class: "small" }, "Download");
        open.addEventListener("click", () => act(open, () => download(`/files${file.path}`,
                                                                      name)));
        return h("tr", { dataset: { path: file.path } }, h("td", {}, name, " ", open),
          h("td", {}, formatBytes(file.size)), h("td", {}, formatDate(file.modified_at)));
      }),
    ];
    replace(listBox, rows.length ? table(["Name", "Size", "Modified"], rows)
      : h("p", { class: "muted empty" }, "This folder is empty."));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    act(button, async () => {
      await api("PUT", `/files${prefix}${encodeURIComponent(file.name)}`, { form: file });
      toast(tr(`Uploaded ${file.name}`));
      input.value = "";
      await load();
    });
  });

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Files"),
    h("code", { id: "file-prefix" }, prefix)), section("Upload", form), h("section",
    { class: "card" }, listBox));
  await load();
}
