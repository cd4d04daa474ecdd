// Service health: the cluster summary (`/api/v2/health`) and every instance the registry knows,
// refreshed every few seconds while the page is open.
import { get } from "../api.js";
import { badge, formatDate, h, replace, section, table } from "../dom.js";

function capabilitySummary(capabilities) {
  return Object.entries(capabilities || {}).map(([key, value]) =>
    `${key}: ${Array.isArray(value) ? value.join(", ") : typeof value === "object"
      ? JSON.stringify(value) : value}`).join(" · ");
}

export async function healthPage(main) {
  const summaryBox = h("div", { id: "health-summary" });
  const instancesBox = h("div", { id: "instances" });

  async function load() {
    const [health, instances] = await Promise.all([
      fetch("/api/v2/health").then((response) => response.json()),
      get("/api/v2/health/instances"),
    ]);
    replace(summaryBox, h("p", {}, "Cluster: ", badge(health.status), " ",
      h("span", { class: "muted" }, formatDate(health.timestamp))),
      h("div", { class: "chips" }, Object.entries(health.services).map(([name, state]) =>
        h("span", { class: "chip" }, name, " ", badge(state)))));
    replace(instancesBox, table(["Service", "Instance", "Host", "Status", "Started", "Last seen",
                                 "Capabilities"],
      instances.instances.map((i) => h("tr", { dataset: { service: i.service } },
        h("td", {}, i.service), h("td", {}, i.name), h("td", {}, i.host),
        h("td", {}, badge(i.status)), h("td", {}, formatDate(i.startedAt)),
        h("td", {}, formatDate(i.lastSeen)),
        h("td", { class: "muted small" }, capabilitySummary(i.capabilities))))));
  }

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Service health")),
    section("Cluster", summaryBox), section("Instances", instancesBox));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}
