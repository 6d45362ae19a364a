// Clip list: while any clip is in work, poll the API every 2 s and update the rows in place.
import { clock, el, getJSON, inWork, percent, STATUS_WORDS } from "./common.js";

const POLL_MS = 2000;
const root = document.getElementById("clip-list");
const api = root.dataset.api;

function localTime(iso) {
  const date = new Date(/Z$|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return null;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function statusCell(clip) {
  const cell = el("td", { class: "status" },
    el("span", { class: `badge badge-${clip.status}` }, STATUS_WORDS[clip.status] || clip.status));
  if (inWork(clip)) {
    const pct = percent(clip.progress);
    cell.append(
      " ",
      el("progress", { max: "100", value: String(pct),
        "aria-label": `Captioning progress for ${clip.title}` }, `${pct}%`),
      " ",
      el("span", { class: "pct" }, `${pct}%`),
    );
  } else if (clip.status === "failed" && clip.error) {
    cell.append(el("span", { class: "reason" }, clip.error));
  }
  return cell;
}

function row(clip) {
  const added = el("time", { datetime: clip.created_at }, localTime(clip.created_at) || clip.created_at);
  return el("tr", { "data-id": clip.id, "data-status": clip.status },
    el("td", { class: "title" }, el("a", { href: clip.links.page }, clip.title)),
    el("td", { class: "num" }, clip.duration ? clock(clip.duration, true) : "–"),
    statusCell(clip),
    el("td", {}, added),
  );
}

function table() {
  return el("table", { class: "clips" },
    el("caption", { class: "visually-hidden" }, "All clips, newest first"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "Title"),
      el("th", { scope: "col", class: "num" }, "Duration"),
      el("th", { scope: "col" }, "Status"),
      el("th", { scope: "col" }, "Added"))),
    el("tbody"));
}

/** Bring the table up to date, keeping rows (and so keyboard focus) that still exist. */
function render(clips) {
  if (!clips.length) return;
  let body = root.querySelector("tbody");
  if (!body) {
    root.replaceChildren(table());
    body = root.querySelector("tbody");
  }
  const old = new Map([...body.rows].map((tr) => [tr.dataset.id, tr]));
  let before = body.firstElementChild;
  for (const clip of clips) {
    let tr = old.get(clip.id);
    old.delete(clip.id);
    if (!tr) {
      tr = row(clip);
    } else if (tr.dataset.status !== clip.status || inWork(clip)) {
      const fresh = row(clip);
      tr.dataset.status = clip.status;
      const link = tr.querySelector(".title a");
      if (link.textContent !== clip.title) link.textContent = clip.title;
      const [, duration, status] = fresh.cells; // take both before moving either
      tr.cells[1].replaceWith(duration);
      tr.cells[2].replaceWith(status);
    }
    if (tr !== before) body.insertBefore(tr, before);
    before = tr.nextElementSibling;
  }
  for (const gone of old.values()) gone.remove();
}

async function poll() {
  try {
    const { clips } = await getJSON(api);
    render(clips);
    if (clips.some(inWork)) setTimeout(poll, POLL_MS);
  } catch {
    setTimeout(poll, POLL_MS * 3); // the server may be restarting: try again, more slowly
  }
}

for (const time of root.querySelectorAll("time[datetime]")) {
  const text = localTime(time.getAttribute("datetime"));
  if (text) time.textContent = text;
}
if (root.querySelector('tr[data-status="queued"], tr[data-status="processing"]')) {
  setTimeout(poll, POLL_MS);
}
