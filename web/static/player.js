// Player page: live progress while the clip is captioned, then media, captions and an
// interactive transcript without a reload; text size XS..LG remembered in localStorage.
import { clock, el, getJSON, inWork, percent, STAGE_WORDS } from "./common.js";

const POLL_MS = 1500;
const SIZE_KEY = "captioner.textSize";
const SIZES = ["xs", "sm", "md", "lg"];

const $ = (id) => document.getElementById(id);
const story = $("story");
const video = $("video");
const api = story.dataset.api;

const state = {
  duration: Number(story.dataset.duration) || 0,
  status: story.dataset.status,
  mediaAttached: Boolean(video.getAttribute("src")),
  transcriptUrl: null,
  cues: [],
  buttons: [],
  current: -1,
  missingMediaPolls: 0,
};

// --- text size -------------------------------------------------------------------------------
function applySize(size) {
  story.dataset.textSize = size;
  for (const button of $("sizes").querySelectorAll("button[data-size]")) {
    button.setAttribute("aria-pressed", String(button.dataset.size === size));
  }
}

function storedSize() {
  try {
    const size = window.localStorage.getItem(SIZE_KEY);
    return SIZES.includes(size) ? size : null;
  } catch {
    return null; // storage blocked: sizes still work, they are just not remembered
  }
}

applySize(storedSize() || "md");
$("sizes").hidden = false;
$("sizes").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-size]");
  if (!button) return;
  applySize(button.dataset.size);
  try {
    window.localStorage.setItem(SIZE_KEY, button.dataset.size);
  } catch {
    // not remembered; nothing else to do
  }
});

// --- clock -----------------------------------------------------------------------------------
function showDuration() {
  $("clock-duration").textContent = state.duration ? clock(state.duration, true) : "--:--";
}

function updateClock() {
  const now = video.ended && state.duration ? state.duration : video.currentTime;
  $("clock-current").textContent = clock(now, video.ended);
}

video.addEventListener("loadedmetadata", () => {
  if (!state.duration && Number.isFinite(video.duration)) {
    state.duration = video.duration;
    showDuration();
  }
  updateClock();
});
for (const type of ["timeupdate", "seeked", "seeking", "ended", "emptied"]) {
  video.addEventListener(type, () => {
    updateClock();
    syncTranscript();
  });
}
video.addEventListener("error", () => {
  if (!state.mediaAttached) return;
  showNoMedia("This browser cannot play the clip's media. The captions can still be downloaded.");
});

// --- transcript ------------------------------------------------------------------------------
/** Index of the cue on screen at `time` (cues are sorted and never overlap), or -1. */
function cueAt(time) {
  let lo = 0;
  let hi = state.cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cue = state.cues[mid];
    if (time < cue.start) hi = mid - 1;
    else if (time >= cue.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

function syncTranscript() {
  if (!state.cues.length) return;
  const index = cueAt(video.currentTime);
  if (index === state.current) return;
  const old = state.buttons[state.current];
  if (old) {
    old.classList.remove("is-current");
    old.removeAttribute("aria-current");
  }
  state.current = index;
  const button = state.buttons[index];
  if (!button) return;
  button.classList.add("is-current");
  button.setAttribute("aria-current", "true");
  if (!video.paused) keepInView(button.parentElement);
}

/** Scroll the transcript box (never the page) so the current line stays visible. */
function keepInView(item) {
  const list = $("transcript");
  const top = item.offsetTop;
  const bottom = top + item.offsetHeight;
  if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
    list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }
}

function seekTo(index) {
  const cue = state.cues[index];
  if (!cue) return;
  video.currentTime = cue.start;
  syncTranscript();
}

async function loadTranscript(url) {
  if (state.transcriptUrl === url) return;
  state.transcriptUrl = url;
  let doc;
  try {
    doc = await getJSON(url);
  } catch (error) {
    state.transcriptUrl = null;
    $("transcript-empty").textContent = `The transcript could not be loaded: ${error.message}`;
    return;
  }
  state.cues = (doc.cues || []).map((c) => ({ start: c.start, end: c.end, text: c.lines.join(" ") }));
  state.buttons = state.cues.map((cue, index) => el("button",
    { type: "button", "data-index": String(index), "data-start": String(cue.start) },
    el("span", { class: "cue-time" }, clock(cue.start)),
    el("span", { class: "cue-text" }, cue.text)));
  $("transcript").replaceChildren(...state.buttons.map((b) => el("li", {}, b)));
  $("transcript-empty").textContent = state.cues.length ? "" : "Nobody speaks in this clip.";
  $("transcript-hint").hidden = !state.cues.length;
  state.current = -1;
  syncTranscript();
}

$("transcript").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-index]");
  if (button) seekTo(Number(button.dataset.index));
});

// --- media and state -------------------------------------------------------------------------
function languageName(code) {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

function attachMedia(clip) {
  const track = video.querySelector("track");
  if (state.mediaAttached) {
    if (track && track.track.mode === "disabled") track.track.mode = "showing";
    return;
  }
  const language = clip.language || story.dataset.language || "en";
  const newTrack = el("track", {
    kind: "captions", default: true, srclang: language, label: languageName(language),
    src: clip.links.vtt,
  });
  if (track) track.remove();
  video.append(newTrack);
  video.src = clip.links.media;
  video.controls = true;
  newTrack.track.mode = "showing";
  state.mediaAttached = true;
}

function showNoMedia(reason) {
  $("wait").hidden = true;
  $("nomedia").hidden = false;
  $("nomedia-reason").textContent = reason;
}

function announce(text) {
  $("announce").textContent = text;
}

function showProgress(clip) {
  const pct = percent(clip.progress);
  $("nomedia").hidden = true;
  $("wait").hidden = false;
  $("work-bar").value = pct;
  $("work-bar").textContent = `${pct}%`;
  $("work-pct").textContent = `${pct}%`;
  $("work-stage").textContent = STAGE_WORDS[clip.stage] || clip.stage || "Waiting";
  const n = clip.cue_count || 0;
  $("work-cues").textContent = `${n} cue${n === 1 ? "" : "s"} so far`;
}

function show(clip) {
  const changed = clip.status !== state.status;
  state.status = clip.status;
  if (clip.duration && clip.duration !== state.duration) {
    state.duration = clip.duration;
    showDuration();
  }
  if (inWork(clip)) {
    showProgress(clip);
    return;
  }
  if (clip.status === "failed") {
    showNoMedia(`Captioning failed: ${clip.error || "unknown error"}`);
    $("transcript-empty").textContent = "No transcript: captioning failed.";
    if (changed) announce(`Captioning failed: ${clip.error || "unknown error"}`);
    return;
  }
  // ready
  $("wait").hidden = true;
  $("downloads").hidden = false;
  if (clip.links.media) {
    $("nomedia").hidden = true;
    attachMedia(clip);
  } else {
    if (state.mediaAttached) {
      video.removeAttribute("src");
      video.controls = false;
      state.mediaAttached = false;
      video.load();
    }
    showNoMedia("The captions are ready, but this clip has no playable video or audio yet.");
  }
  loadTranscript(clip.links.json);
  if (changed) announce("Captions are ready. The video can be played.");
}

async function poll() {
  let clip;
  try {
    clip = await getJSON(api);
  } catch {
    setTimeout(poll, POLL_MS * 4); // server restarting or clip gone: try again, slowly
    return;
  }
  show(clip);
  if (inWork(clip)) {
    setTimeout(poll, POLL_MS);
  } else if (clip.status === "ready" && !clip.links.media && state.missingMediaPolls++ < 60) {
    setTimeout(poll, POLL_MS * 3);
  }
}

showDuration();
updateClock();
poll();
