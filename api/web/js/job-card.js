// One recording or file on its way through EmoQ: uploaded, queued, processing, then succeeded, failed
// or cancelled; and its result once done.

import { announce } from "./announce.js";
import { api } from "./api.js";
import { displayLabel, el, formatBytes, formatDuration, formatPercent, formatProgress } from "./format.js";
import { poll } from "./poll.js";
import { renderProblem } from "./problem.js";
import { renderScores } from "./scores.js";
import { renderEpisodes } from "./episodes.js";
import { renderReading } from "./reading.js";
import { renderTimeline } from "./timeline.js";
import { renderAcoustics } from "./acoustics.js";
import { renderTranscript } from "./transcript.js";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
// "uploading" and "rejected" (the API refused the upload) are the page's own; the rest are the API's.
const BADGE = {
  uploading: "Uploading",
  rejected: "Not accepted",
  queued: "Queued",
  processing: "Processing",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};
// Each status as the three steps (queued, processing, done): their state and the words they show.
const STEPS = {
  uploading: [["current", "Uploading"], [], []],
  rejected: [["failed", "Not accepted"], [], []],
  queued: [["current", "Queued"], [], []],
  processing: [["done", "Queued"], ["current", "Processing"], []],
  succeeded: [["done", "Queued"], ["done", "Processing"], ["done", "Done"]],
  failed: [["done", "Queued"], ["done", "Processing"], ["failed", "Failed"]],
  cancelled: [["done", "Queued"], ["done", "Processing"], ["failed", "Cancelled"]],
};
const STEP_NAMES = ["Queued", "Processing", "Done"];

export class JobCard {
  /**
   * @param {File} file what is sent; kept for playback and for "Try again"
   * @param {(card: JobCard) => void} onRemove takes the card off the page
   * @param {{features?: boolean, transcribe?: boolean}} options what to ask for besides the emotions
   */
  constructor(file, onRemove, options = {}) {
    this.file = file;
    this.onRemove = onRemove;
    this.options = options;
    this.audioUrl = URL.createObjectURL(file);
    this.#build();
  }

  #build() {
    const name = this.file.name;
    this.badge = el("span", { class: "badge" });
    this.meta = el("p", { class: "work-meta", text: formatBytes(this.file.size) });
    const steps = STEP_NAMES.map((text) => el("li", { text }));
    this.steps = el("ol", { class: "steps", "aria-label": "Stages" }, ...steps);
    this.progress = el("progress", { max: 1, "aria-label": `Progress of ${name}` });
    this.progressText = el("span", { class: "progress-value" });
    this.outcome = el("div", { class: "outcome" });
    this.actions = el("div", { class: "work-actions" });
    this.element = el(
      "li",
      { class: "work job", tabindex: -1 },
      el(
        "div",
        { class: "work-head" },
        el("div", { class: "work-title" }, el("h3", { text: name }), this.meta),
        this.badge,
      ),
      this.steps,
      el("div", { class: "progress-row" }, this.progress, this.progressText),
      this.outcome,
      this.#playback(name),
      this.actions,
    );
    this.#show("uploading", null);
  }

  /** The browser's player, with the clip's length to a tenth of a second beside it. */
  #playback(name) {
    const audio = el("audio", {
      controls: true,
      preload: "metadata",
      src: this.audioUrl,
      "aria-label": `Play ${name}`,
    });
    const time = el("span", { class: "playback-time" });
    const playback = el("div", { class: "playback" }, audio, time);
    const showTime = () => {
      // A fresh recording's length is unknown (Infinity) until played through once.
      if (!Number.isFinite(audio.duration)) return;
      time.textContent = `${formatDuration(audio.currentTime)} / ${formatDuration(audio.duration)}`;
    };
    audio.addEventListener("loadedmetadata", showTime);
    audio.addEventListener("timeupdate", showTime);
    // What the browser cannot play (usually not audio at all) would leave a dead 0:00 player.
    audio.addEventListener("error", () => playback.remove());
    return playback;
  }

  async submit() {
    this.#show("uploading", null);
    this.outcome.replaceChildren();
    let job;
    try {
      job = await api.createJob(this.file, this.options);
    } catch (error) {
      this.#show("rejected", 0);
      this.outcome.replaceChildren(renderProblem("Not accepted", error));
      announce(`${this.file.name} was not accepted: ${error.title}. ${error.detail}`);
      return;
    }
    this.id = job.id;
    this.element.dataset.jobId = job.id;
    if (this.#update(job)) return;
    this.stopPolling = poll(
      () => api.job(this.id, { segments: false }),
      (state) => this.#update(state),
      (error) => this.#lost(error),
    );
  }

  /** Shows a job as the API describes it; returns true once it is final (polling then stops). */
  #update(job) {
    if (this.finished) return true;
    const changed = job.status !== this.status;
    this.#show(job.status, job.progress);
    const { duration_s: duration, bytes } = job.input;
    this.meta.textContent = [duration ? formatDuration(duration) : null, formatBytes(bytes ?? this.file.size)]
      .filter(Boolean)
      .join(" · ");
    if (!FINAL.has(job.status)) {
      if (changed) announce(`${this.file.name}: ${BADGE[job.status].toLowerCase()}`);
      return false;
    }
    this.finished = true;
    this.#finish(job);
    return true;
  }

  async #finish(job) {
    const name = this.file.name;
    if (job.status === "succeeded") {
      // Polls leave the segments out to stay small; this last read brings the timeline.
      try {
        job = await api.job(this.id, { segments: true });
      } catch (error) {
        this.#lost(error);
        return;
      }
      const { result } = job;
      const segments = result.segments ?? [];
      const episodes = result.episodes ?? [];
      const end = Math.max(0, ...segments.map((segment) => segment.end_s));
      this.outcome.replaceChildren(
        job.input.truncated ? truncationNotice(job.input) : "",
        renderScores(result),
        renderReading(result),
        segments.length > 1 && episodes.length ? renderEpisodes(episodes, end) : "",
        segments.length > 1 ? renderTimeline(segments) : "",
        renderAcoustics(result),
        result.utterances ? renderTranscript(result.utterances) : "",
      );
      const { label, score } = result.dominant;
      announce(`${name}: done. Dominant emotion ${displayLabel(label)}, ${formatPercent(score)}.`);
    } else if (job.status === "failed") {
      const { code, message } = job.error ?? { code: "", message: "The analysis failed." };
      this.outcome.replaceChildren(renderProblem("Analysis failed", { title: message, code }));
      announce(`${name}: failed. ${message} (${code})`);
    } else {
      this.outcome.replaceChildren(el("p", { class: "muted", text: "The analysis was cancelled." }));
      announce(`${name}: cancelled`);
    }
  }

  #lost(error) {
    this.outcome.replaceChildren(renderProblem("Cannot follow this job", error));
    announce(`${this.file.name}: ${error.title}`);
  }

  #show(status, progress) {
    const changed = status !== this.status;
    this.status = status;
    this.element.dataset.status = status;
    this.badge.dataset.status = status;
    this.badge.textContent = BADGE[status];
    STEPS[status].forEach(([state, text], index) => {
      const step = this.steps.children[index];
      step.textContent = text ?? STEP_NAMES[index];
      if (state) step.dataset.state = state;
      else delete step.dataset.state;
      if (state === "current") step.setAttribute("aria-current", "step");
      else step.removeAttribute("aria-current");
    });
    if (progress === null) {
      // Without a value the bar is indeterminate: the upload's progress is not known.
      this.progress.removeAttribute("value");
      this.progressText.textContent = "";
    } else {
      const value = status === "succeeded" ? 1 : progress;
      this.progress.value = value;
      this.progressText.textContent = formatProgress(value);
    }
    // Only on a change: rebuilding the buttons at every poll would take the keyboard focus away.
    if (changed) this.#setActions();
  }

  #setActions() {
    const name = this.file.name;
    const buttons = [];
    if (this.status === "queued" || this.status === "processing") {
      buttons.push(this.#button("Cancel", `Cancel the analysis of ${name}`, () => this.#cancel()));
    }
    if (this.status === "rejected") {
      buttons.push(
        this.#button("Try again", `Send ${name} again`, () => {
          // The button goes away with the retry; the card keeps the focus meanwhile.
          this.element.focus();
          this.submit();
        }),
      );
    }
    if (this.status !== "uploading") {
      buttons.push(this.#button("Remove", `Remove ${name} from the list`, () => this.remove()));
    }
    this.actions.replaceChildren(...buttons);
  }

  #button(text, label, onClick) {
    const button = el("button", { type: "button", class: "button small", "aria-label": label, text });
    button.addEventListener("click", onClick);
    return button;
  }

  async #cancel() {
    try {
      const response = await api.cancelJob(this.id);
      // 204: it finished meanwhile, and the server deleted it with its result.
      if (response.status === 204) this.remove();
      else this.#update(await response.json());
    } catch (error) {
      this.outcome.replaceChildren(renderProblem("Could not cancel", error));
    }
  }

  remove() {
    this.stopPolling?.();
    URL.revokeObjectURL(this.audioUrl);
    this.onRemove(this);
  }
}

/** The file decoded well short of what its header declared: the scores cover only what was there. */
function truncationNotice({ duration_s: decoded, declared_duration_s: declared }) {
  return el(
    "p",
    { class: "alert truncated" },
    el("strong", { text: "The file looks cut short" }),
    `Only ${formatDuration(decoded)} of the ${formatDuration(declared)} its header declares could be ` +
      "decoded; the scores cover that part.",
  );
}
