// The EmoQ page: wires the controls to the API. Each module does one job: api.js talks to the server,
// recorder.js to the microphone, job-card.js and batch-card.js show work in progress and its results,
// training.js trains models of one's own.

import { announce } from "./announce.js";
import { BatchCard } from "./batch-card.js";
import { JobCard } from "./job-card.js";
import { initKeyPanel } from "./key.js";
import { chosenModel, loadModelInfo } from "./models.js";
import { describeMicrophoneError, Recorder, recordingUnavailable } from "./recorder.js";
import { initThemeToggle } from "./theme.js";
import { initModelsView } from "./training.js";

const $ = (id) => document.getElementById(id);
const workList = $("work-list");

function show(card) {
  workList.prepend(card.element);
  $("empty-state").hidden = true;
  card.submit();
}

function removeCard(card) {
  card.element.remove();
  $("empty-state").hidden = workList.children.length > 0;
  // The focused button went with the card: give focus a sensible place to land.
  $("results-heading").focus();
}

/** What the person asked for besides the emotions, read when a job is sent: the model (where there is a
 * choice), features, and a transcript, offered only where the server has a speech recogniser (the model
 * list says so). */
const analysisOptions = () => ({
  model: chosenModel(),
  features: $("features-option").checked,
  transcribe: !$("transcribe-option").hidden && $("transcribe").checked,
});

function submitFiles(fileList) {
  const files = [...fileList];
  if (files.length === 0) return;
  const options = analysisOptions();
  show(
    files.length === 1
      ? new JobCard(files[0], removeCard, options)
      : new BatchCard(files, removeCard, options),
  );
}

function initUpload() {
  const zone = $("drop-zone");
  const input = $("file-input");
  zone.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    submitFiles(input.files);
    // Cleared, so choosing the same file again is still a change.
    input.value = "";
  });
  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    zone.dataset.dragging = "true";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => delete zone.dataset.dragging);
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    delete zone.dataset.dragging;
    submitFiles(event.dataTransfer.files);
  });
  // A file dropped beside the zone would otherwise replace the page with the file.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());
}

function initRecorder() {
  const button = $("record-button");
  const text = $("record-button-text");
  const clock = $("record-clock");
  const meter = $("level-meter");
  const problem = $("record-error");
  const unavailable = recordingUnavailable();
  if (unavailable) {
    button.disabled = true;
    problem.textContent = unavailable;
    problem.hidden = false;
    return;
  }
  let recorder = null;
  let ticker = 0;
  const tick = () => {
    const seconds = Math.floor(recorder.elapsedSeconds);
    clock.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  };

  button.addEventListener("click", async () => {
    if (recorder === null) {
      problem.hidden = true;
      recorder = new Recorder((level) => {
        meter.value = level;
      });
      button.disabled = true;
      try {
        await recorder.start();
      } catch (error) {
        recorder = null;
        problem.textContent = describeMicrophoneError(error);
        problem.hidden = false;
        return;
      } finally {
        button.disabled = false;
      }
      button.dataset.recording = "true";
      text.textContent = "Stop and analyse";
      ticker = window.setInterval(tick, 250);
      announce("Recording. Press the button again to stop and analyse.");
    } else {
      const finished = recorder;
      recorder = null;
      window.clearInterval(ticker);
      delete button.dataset.recording;
      text.textContent = "Start recording";
      clock.textContent = "0:00";
      const file = await finished.stop();
      announce("Recording stopped; sending it for analysis.");
      show(new JobCard(file, removeCard, analysisOptions()));
    }
  });
}

initThemeToggle($("theme-toggle"), $("theme-toggle-text"));
initKeyPanel(
  {
    panel: $("key-panel"),
    toggle: $("key-toggle"),
    form: $("key-form"),
    input: $("api-key"),
    forget: $("key-forget"),
    alert: $("key-alert"),
    state: $("key-state"),
  },
  loadModelInfo,
);
initUpload();
initRecorder();
initModelsView();
loadModelInfo();
