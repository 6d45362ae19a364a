// Upload form: drag and drop onto the label, and an upload with a real progress bar
// (XMLHttpRequest, since fetch cannot report upload progress). Without JS the form posts.
import { errorMessage } from "./common.js";

const form = document.getElementById("upload-form");
const input = document.getElementById("file");
const zone = document.getElementById("dropzone");
const fileName = document.getElementById("file-name");
const errorBox = document.getElementById("upload-error");
const progressBox = document.getElementById("upload-progress");
const bar = document.getElementById("upload-bar");
const pctText = document.getElementById("upload-pct");
const label = document.getElementById("upload-label");
const submit = document.getElementById("upload-submit");
const statusLine = document.getElementById("upload-status"); // announced; the bar is not

const maxBytes = Number(form.dataset.maxBytes) || 0;

function showError(message) {
  errorBox.textContent = message;
  errorBox.scrollIntoView({ block: "nearest" });
}

function sizeText(bytes) {
  const units = [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]];
  for (const [unit, scale] of units) {
    if (bytes >= scale) return `${(bytes / scale).toPrecision(3)} ${unit}`;
  }
  return `${bytes} bytes`;
}

function showChosen() {
  const file = input.files[0];
  fileName.textContent = file ? `Selected: ${file.name} (${sizeText(file.size)})` : "";
  if (file) errorBox.textContent = "";
}

input.addEventListener("change", showChosen);

for (const type of ["dragenter", "dragover"]) {
  zone.addEventListener(type, (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-over");
  });
}
for (const type of ["dragleave", "dragend"]) {
  zone.addEventListener(type, () => zone.classList.remove("is-over"));
}
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  zone.classList.remove("is-over");
  const files = event.dataTransfer.files;
  if (!files.length) return;
  if (files.length > 1) {
    showError("Drop one file at a time.");
    return;
  }
  input.files = files;
  showChosen();
});

function setProgress(fraction) {
  const pct = Math.round(fraction * 100);
  bar.value = pct;
  bar.textContent = `${pct}%`;
  pctText.textContent = `${pct}%`;
}

function finish(ok) {
  submit.disabled = false;
  statusLine.textContent = "";
  if (!ok) progressBox.hidden = true;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = input.files[0];
  if (!file) {
    showError("Choose a video or audio file to upload.");
    input.focus();
    return;
  }
  if (maxBytes && file.size > maxBytes) {
    showError(`The file is too large: the limit is ${form.dataset.maxSize}.`);
    return;
  }
  errorBox.textContent = "";
  submit.disabled = true;
  progressBox.hidden = false;
  label.textContent = "Uploading";
  statusLine.textContent = `Uploading ${file.name}.`;
  setProgress(0);

  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.dataset.api);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("X-CSRFToken", form.elements.csrf_token.value);
  xhr.responseType = "text";
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) setProgress(e.loaded / e.total);
  });
  xhr.upload.addEventListener("load", () => {
    setProgress(1);
    label.textContent = "Checking the file";
    statusLine.textContent = "Upload complete. Checking the file.";
  });
  xhr.addEventListener("load", async () => {
    if (xhr.status >= 200 && xhr.status < 300) {
      let page = null;
      try {
        page = JSON.parse(xhr.responseText).links.page;
      } catch {
        page = null;
      }
      if (page) {
        label.textContent = "Uploaded, opening the clip";
        statusLine.textContent = "Opening the clip page.";
        window.location.assign(page);
        return;
      }
      finish(false);
      showError("The upload was accepted but the server did not say where the clip is.");
      return;
    }
    finish(false);
    const response = new Response(xhr.responseText, {
      status: xhr.status, statusText: xhr.statusText,
    });
    showError(await errorMessage(response));
  });
  xhr.addEventListener("error", () => {
    finish(false);
    showError("The upload failed: the connection to the server was lost. Try again.");
  });
  xhr.addEventListener("abort", () => finish(false));
  xhr.send(new FormData(form));
});
