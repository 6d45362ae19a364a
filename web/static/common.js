// Small helpers shared by the pages. Data is only ever put into the page with textContent.

/** 185 -> "3:05", 3725 -> "1:02:05". `round` for durations, floor for a running clock. */
export function clock(seconds, round = false) {
  const s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  const total = round ? Math.round(s) : Math.floor(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** "no file: send it" -> "No file: send it." (the API's messages are lower case). */
export function sentence(message) {
  const text = String(message || "").trim();
  if (!text) return "";
  const upper = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(upper) ? upper : `${upper}.`;
}

/** The API's one-line error message, or a plain description of what went wrong. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return sentence(body.error.message);
  } catch {
    // not JSON: fall through
  }
  return `The server answered ${response.status} ${response.statusText}`.trim() + ".";
}

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

export const STATUS_WORDS = {
  queued: "Queued",
  processing: "Captioning",
  ready: "Ready",
  failed: "Failed",
};

// Stages the worker reports (web/pages.py has the same words for the first render).
export const STAGE_WORDS = {
  queued: "Waiting for a worker",
  starting: "Starting",
  probe: "Checking the file",
  transcribing: "Transcribing",
  done: "Building captions",
  "captions ready": "Preparing the video",
  ready: "Ready",
  failed: "Failed",
};

export const inWork = (clip) => clip.status === "queued" || clip.status === "processing";

export const percent = (fraction) => Math.round(Math.min(1, Math.max(0, fraction || 0)) * 100);

/** Create an element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
