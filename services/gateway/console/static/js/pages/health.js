// Service health: the cluster summary (`/api/v2/health`) and every instance the registry knows,
// refreshed every few seconds while the page is open.
import { get } from "../api.js";
import { badge, formatDate, h, replace, section, table } from "../dom.js";

// A capability's value as words: lists of objects (workflows) by their names, not "[object]".
function describe(value) {
  if (Array.isArray(value)) return value.map(describe).join(", ");
  if (value && typeof value === "object") {
    return value.name || value.id || value.workflow || Object.entries(value)
      .map(([key, inner]) => `${key}=${describe(inner)}`).join(" ");
  }
  return String(value);
}

function capabilitySummary(capabilities) {
  return Object.entries(capabilities || {}).map(([key, value]) => `${key}: ${describe(value)}`)
    .join(" · ");
}

function instanceRows(instances) {
  return instances.map((i) => h("tr", { dataset: { service: i.service } },
    h("td", {}, i.service), h("td", {}, i.name), h("td", {}, i.host),
    h("td", {}, badge(i.status)), h("td", {}, formatDate(i.startedAt)),
    h("td", {}, formatDate(i.lastSeen)),
    h("td", { class: "muted small" }, capabilitySummary(i.capabilities))));
}

const INSTANCE_COLUMNS = ["Service", "Instance", "Host", "Status", "Started", "Last seen",
                          "Capabilities"];

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
    // The API lists live instances and ones stopped within a heartbeat's expiry (then gone):
    // those are grouped apart, so a restarted service does not look like two.
    const live = instances.instances.filter((i) => i.status === "online");
    const stopping = instances.instances.filter((i) => i.status !== "online");
    replace(instancesBox, table(INSTANCE_COLUMNS, instanceRows(live), { id: "live-instances" }),
      stopping.length ? [h("h3", {}, "Stopping"),
        table(INSTANCE_COLUMNS, instanceRows(stopping), { id: "stopped-instances" })] : "");
  }

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Service health")),
    section("Cluster", summaryBox), section("Instances", instancesBox));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 3000);
  return () => clearInterval(timer);
}
