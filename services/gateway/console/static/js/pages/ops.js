// Operators' view: the tenant's last hour per kind (items done and failed per minute, the queue
// waiting and running at each minute's end) from the task tables themselves
// (`/api/v1/tasks/activity`), refreshed every 10 s, and the live instances per service.
import { get } from "../api.js";
import { badge, h, replace, section, table } from "../dom.js";
import { tr } from "../i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 100;

function svg(tag, attrs) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  return element;
}

// One line per series over the hour; the figure is named by its title and its last values.
function chart(title, series) {
  const points = series[0] ? series[0].values.length : 0;
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const figure = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
                              "aria-label": `${tr(title)}: ${series.map((s) =>
                                `${s.name} ${s.values[s.values.length - 1] ?? 0}`).join(", ")}` });
  figure.append(svg("line", { class: "axis", x1: 0, y1: HEIGHT - 1, x2: WIDTH, y2: HEIGHT - 1 }));
  for (const { values, bad } of series) {
    const step = points > 1 ? WIDTH / (points - 1) : WIDTH;
    const path = values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - 2 - (v / top) *
      (HEIGHT - 6)).toFixed(1)}`).join(" ");
    figure.append(svg("polyline", { class: bad ? "line bad" : "line", points: path }));
  }
  return h("figure", { class: "chart card" }, h("h3", {}, title),
    h("p", { class: "small muted" }, series.map((s) =>
      `${s.name}: ${s.values.reduce((a, b) => a + b, 0)} · max ${Math.max(0, ...s.values)}`)
      .join(" — ")), figure);
}

export async function opsPage(main) {
  const chartsBox = h("div", { class: "charts", id: "ops-charts" });
  const queueBox = h("div", { id: "ops-queue" });
  const loadBox = h("div", { id: "ops-load" });

  async function load() {
    const [activity, instances] = await Promise.all([
      get("/api/v1/tasks/activity"), get("/api/v2/health/instances")]);
    const kinds = Object.entries(activity.data.kinds);
    const column = (points, key) => points.map((p) => p[key]);
    replace(chartsBox, kinds.length ? kinds.flatMap(([kind, points]) => [
      chart(`${kind} · ${tr("Throughput (items per minute)")}`,
        [{ name: tr("done"), values: column(points, "done") },
         { name: tr("failed"), values: column(points, "failed"), bad: true }]),
      chart(`${kind} · ${tr("Queue depth by kind")}`,
        [{ name: tr("Waiting"), values: column(points, "waiting") },
         { name: tr("In flight"), values: column(points, "running"), bad: true }]),
    ]) : h("p", { class: "muted" }, "No data in the last hour."));
    replace(queueBox, table(["Kind", "Waiting", "In flight", "Done (last hour)",
                             "Failed (last hour)"],
      kinds.map(([kind, points]) => {
        const last = points[points.length - 1] || {};
        const sum = (key) => points.reduce((total, p) => total + p[key], 0);
        return h("tr", { dataset: { kind } }, h("td", {}, kind), h("td", {}, last.waiting ?? 0),
          h("td", {}, last.running ?? 0), h("td", {}, sum("done")), h("td", {}, sum("failed")));
      })));
    const services = {};
    for (const instance of instances.instances) {
      (services[instance.service] ||= []).push(instance);
    }
    replace(loadBox, table(["Service", "Instance", "Status", "Capabilities"],
      Object.entries(services).flatMap(([service, list]) => list.map((i) => h("tr", {},
        h("td", {}, service), h("td", {}, i.name), h("td", {}, badge(i.status)),
        h("td", { class: "small muted" }, Object.keys(i.capabilities || {}).join(", ")))))));
  }

  replace(main, h("div", { class: "page-head" }, h("h1", {}, "Operators' view"),
    h("span", { class: "muted" }, "Last hour, per minute")),
    chartsBox, section("Queue depth by kind", queueBox), section("Instances", loadBox));
  await load();
  const timer = setInterval(() => load().catch(() => {}), 10_000);
  return () => clearInterval(timer);
}
