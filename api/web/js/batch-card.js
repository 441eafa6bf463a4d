// Several files sent together: counts per status, overall progress, a table of files, and the results
// as a CSV download.

import { announce } from "./announce.js";
import { api } from "./api.js";
import { displayLabel, el, formatPercent, formatProgress, swatch } from "./format.js";
import { poll } from "./poll.js";
import { renderProblem } from "./problem.js";

const STATUSES = ["queued", "processing", "succeeded", "failed", "cancelled"];
const STATUS_TEXT = {
  queued: "Queued",
  processing: "Processing",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};
// The table shows one page of jobs; the CSV has every one of them.
const TABLE_LIMIT = 200;
// Each look at a batch reads up to TABLE_LIMIT jobs: look a little less often than at a single job.
const FIRST_POLL_MS = 1000;

export class BatchCard {
  constructor(files, onRemove, options = {}) {
    this.files = files;
    this.onRemove = onRemove;
    this.options = options;
    this.#build();
  }

  #build() {
    this.badge = el("span", { class: "badge" });
    this.progress = el("progress", { max: 1, "aria-label": "Overall progress of the batch" });
    this.progressText = el("span", { class: "progress-value" });
    this.counts = el("dl", { class: "counts" });
    this.rows = el("tbody");
    this.note = el("p", { class: "hint", hidden: true });
    this.outcome = el("div", { class: "outcome" });
    this.actions = el("div", { class: "work-actions" });
    const table = el(
      "table",
      {},
      el("caption", { class: "visually-hidden", text: "Files in this batch" }),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col", text: "File" }),
          el("th", { scope: "col", text: "Status" }),
          el("th", { scope: "col", text: "Dominant emotion" }),
          el("th", { scope: "col", class: "num", text: "Score" }),
        ),
      ),
      this.rows,
    );
    this.element = el(
      "li",
      { class: "work batch", tabindex: -1 },
      el(
        "div",
        { class: "work-head" },
        el(
          "div",
          { class: "work-title" },
          el("h3", { text: `Batch of ${this.files.length} files` }),
          el("p", { class: "work-meta", text: `Sent at ${clockTime(new Date())}` }),
        ),
        this.badge,
      ),
      el("div", { class: "progress-row" }, this.progress, this.progressText),
      this.counts,
      // tabindex: a region that scrolls must be reachable from the keyboard to be scrolled.
      el("div", { class: "table-scroll", tabindex: 0, role: "region", "aria-label": "Files in the batch" }, table),
      this.note,
      this.outcome,
      this.actions,
    );
    this.#showUploading();
  }

  async submit() {
    this.#showUploading();
    this.outcome.replaceChildren();
    let created;
    try {
      created = await api.createBatch(this.files, this.options);
    } catch (error) {
      this.#setStatus("rejected", "Not accepted");
      this.progress.value = 0;
      this.outcome.replaceChildren(renderProblem("Not accepted", error));
      announce(`The batch was not accepted: ${error.title}. ${error.detail}`);
      return;
    }
    this.id = created.id;
    this.element.dataset.batchId = created.id;
    // Accepted, every job queued: shown now rather than at the first poll.
    this.#setStatus("running", "Running");
    this.progress.value = 0;
    this.progressText.textContent = formatProgress(0);
    this.rows.replaceChildren(...this.files.map((file) => row(file.name, STATUS_TEXT.queued)));
    this.#showCounts({ queued: this.files.length });
    announce(`Batch of ${this.files.length} files: queued`);
    this.stopPolling = poll(
      () => api.batch(this.id, { limit: TABLE_LIMIT }),
      (batch) => this.#update(batch),
      (error) => this.#lost(error),
      { firstDelayMs: FIRST_POLL_MS },
    );
  }

  #showUploading() {
    this.#setStatus("uploading", "Uploading");
    // Without a value the bar is indeterminate: the upload's progress is not known.
    this.progress.removeAttribute("value");
    this.progressText.textContent = "";
    this.rows.replaceChildren(...this.files.map((file) => row(file.name, "Uploading")));
  }

  #update(batch) {
    const done = batch.status === "completed";
    this.#setStatus(batch.status, done ? "Completed" : "Running");
    this.progress.value = batch.progress;
    this.progressText.textContent = formatProgress(batch.progress);
    this.#showCounts(batch.counts);
    this.rows.replaceChildren(...batch.jobs.map(jobRow));
    const more = batch.job_count - batch.jobs.length;
    this.note.hidden = more <= 0;
    this.note.textContent = `${more} more files are not shown here; the CSV has them all.`;
    if (done) {
      const ok = batch.counts.succeeded ?? 0;
      announce(`Batch of ${batch.job_count} files completed: ${ok} succeeded.`);
    }
    return done;
  }

  #showCounts(counts) {
    this.counts.replaceChildren(
      ...STATUSES.map((status) =>
        el(
          "div",
          {},
          el("dt", { text: STATUS_TEXT[status] }),
          el("dd", { "data-count": status, text: counts[status] ?? 0 }),
        ),
      ),
    );
  }

  #lost(error) {
    this.outcome.replaceChildren(renderProblem("Cannot follow this batch", error));
    announce(`Batch: ${error.title}`);
  }

  #setStatus(status, text) {
    if (status === this.status) return;
    this.status = status;
    this.element.dataset.status = status;
    this.badge.dataset.status = status;
    this.badge.textContent = text;
    this.#setActions();
  }

  #setActions() {
    const buttons = [];
    if (this.id) {
      buttons.push(this.#button("Download CSV", null, (button) => this.#downloadCsv(button)));
    }
    if (this.status === "running") {
      buttons.push(this.#button("Cancel batch", null, () => this.#cancel()));
    }
    if (this.status === "rejected") {
      buttons.push(
        this.#button("Try again", "Send the batch again", () => {
          this.element.focus();
          this.submit();
        }),
      );
    }
    if (this.status !== "uploading") {
      buttons.push(this.#button("Remove", "Remove the batch from the list", () => this.remove()));
    }
    this.actions.replaceChildren(...buttons);
  }

  #button(text, label, onClick) {
    const button = el("button", { type: "button", class: "button small", "aria-label": label, text });
    button.addEventListener("click", () => onClick(button));
    return button;
  }

  // A plain link would need the key in its URL; instead fetch with the header and hand over a Blob.
  async #downloadCsv(button) {
    button.disabled = true;
    try {
      const blob = await api.batchCsv(this.id);
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: `emoq-batch-${this.id}.csv`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      // The download has its own copy by now; a delay spares browsers that read the URL late.
      window.setTimeout(() => URL.revokeObjectURL(url), 30_000);
      announce("The CSV file is downloading.");
    } catch (error) {
      this.outcome.replaceChildren(renderProblem("Download failed", error));
    } finally {
      button.disabled = false;
    }
  }

  async #cancel() {
    try {
      this.#update(await api.cancelBatch(this.id));
    } catch (error) {
      this.outcome.replaceChildren(renderProblem("Could not cancel", error));
    }
  }

  remove() {
    this.stopPolling?.();
    this.onRemove(this);
  }
}

const clockTime = (date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function row(filename, statusText) {
  return el(
    "tr",
    {},
    el("td", { class: "file", text: filename }),
    el("td", { text: statusText }),
    el("td", { text: "–" }),
    el("td", { class: "num", text: "–" }),
  );
}

function jobRow(job) {
  const filename = job.input.filename ?? job.input.url ?? job.id;
  const tr = row(filename, STATUS_TEXT[job.status]);
  tr.dataset.jobId = job.id;
  tr.dataset.status = job.status;
  const [, status, emotion, score] = tr.children;
  if (job.result) {
    const { label, score: value } = job.result.dominant;
    emotion.replaceChildren(
      el("span", { class: "emotion", "data-label": label }, swatch(label), displayLabel(label)),
    );
    score.textContent = formatPercent(value);
    // Said beside the score, as on a single job's card: below the server's threshold, a tentative answer.
    if (job.result.low_confidence) score.append(" ", el("span", { class: "tag low-confidence", text: "low" }));
    // Scored, but on less than the header declared: the file was cut short or its header lies.
    if (job.input.truncated) status.append(" · ", el("span", { class: "truncated", text: "cut short" }));
  } else if (job.error) {
    // The code is what to quote when reporting it; the message says what went wrong.
    status.replaceChildren("Failed · ", el("code", { text: job.error.code }));
    emotion.replaceChildren(el("span", { class: "message", text: job.error.message }));
  }
  return tr;
}
