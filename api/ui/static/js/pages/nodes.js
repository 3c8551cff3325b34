// Nodes: resources (total / scheduled), pause with a reason, resume; the scheduler's pause.
import { get, send } from "../api.js";
import { h, badge, when, table, action, props } from "../ui.js";

const res = (r) => r ? `${r.cpus ?? 0} CPU · ${Math.round(r.mem ?? 0)} MiB mem · ${Math.round(r.disk ?? 0)} MiB disk` : "—";

export async function render(view, ctx) {
  const [scheduler, status, nodes] = await Promise.all([get("/scheduler/"), get("/status/"), get("/nodes/status/")]);
  // The node status list has no resources; each node's details do.
  const details = Object.fromEntries(await Promise.all((nodes.results || []).map(async (n) => [n.node.id, await get(`/nodes/${n.node.id}/`)])));
  const reasons = {};
  view.append(h("h1", {}, "Nodes"),
    h("section", { class: "card", id: "scheduler" }, h("h2", {}, "Scheduler ", badge(scheduler.is_paused ? "PAUSED" : status.scheduler?.is_online ? "ONLINE" : "OFFLINE")),
      props([["Host", status.scheduler?.hostname], ["Resources total", res(status.resources?.total)], ["Scheduled", res(status.resources?.scheduled)]]),
      h("div", { class: "actions" }, scheduler.is_paused
        ? action("Resume the scheduler", async () => { await send("PATCH", "/scheduler/", { is_paused: false }); ctx.reload(); })
        : action("Pause the scheduler", async () => { await send("PATCH", "/scheduler/", { is_paused: true }); ctx.reload(); }, { kind: "danger" }))),
    h("h2", {}, "Nodes"),
    table([
      { title: "Node", cell: (n) => n.node.hostname },
      { title: "State", cell: (n) => [badge(n.node.is_paused ? "PAUSED" : n.is_online ? "ONLINE" : "OFFLINE"), n.node.pause_reason ? h("div", { class: "small muted" }, n.node.pause_reason) : ""] },
      { title: "Resources (scheduled / total)", cell: (n) => { const r = details[n.node.id]?.resources; return r ? [h("div", {}, res(r.scheduled)), h("div", { class: "muted small" }, `of ${res(r.total)}`)] : "—"; } },
      { title: "Running", num: true, cell: (n) => n.job_exes_running.length },
      { title: "Last offer", cell: (n) => when(n.node.last_offer) },
      { title: "", cell: (n) => n.node.is_paused
        ? action("Resume", async () => { await send("PATCH", `/nodes/${n.node.id}/`, { is_paused: false }); ctx.reload(); })
        : h("span", { class: "actions" },
          reasons[n.node.id] = h("input", { placeholder: "reason", "aria-label": `pause reason for ${n.node.hostname}`, size: 12 }),
          action("Pause", async () => { await send("PATCH", `/nodes/${n.node.id}/`, { is_paused: true, pause_reason: reasons[n.node.id].value || null }); ctx.reload(); }, { kind: "secondary" })) },
    ], nodes.results || [], { empty: "No node has reported yet." }));
}
