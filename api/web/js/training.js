// "Your models": a dataset zip uploaded, a training started on it and followed until it ends, its held-out
// evaluation read (the confusion matrix, as a table and as the server's picture), and the trained models
// listed, each one a click away from being the model of the next analysis.

import { announce } from "./announce.js";
import { api } from "./api.js";
import { displayLabel, el, formatPercent, formatProgress } from "./format.js";
import { loadModelInfo, selectModel } from "./models.js";
import { poll } from "./poll.js";
import { renderProblem } from "./problem.js";

const $ = (id) => document.getElementById(id);
const FINAL = new Set(["succeeded", "failed", "cancelled"]);
// "uploading" and "rejected" (the API refused the dataset or the training) are the page's own.
const BADGE = {
  uploading: "Uploading",
  rejected: "Not accepted",
  queued: "Queued",
  running: "Training",
  succeeded: "Trained",
  failed: "Failed",
  cancelled: "Cancelled",
};

let stopPolling = () => {};
let current = null;

function showStatus(status) {
  $("training").dataset.status = status;
  const badge = $("training-badge");
  badge.dataset.status = status;
  badge.textContent = BADGE[status] ?? status;
  $("training-cancel").hidden = !["queued", "running"].includes(status);
}

function epochLine({ epoch, loss, validation_uar: uar }) {
  const parts = [`Epoch ${epoch}`, `loss ${Number(loss).toFixed(3)}`];
  if (uar !== null && uar !== undefined) parts.push(`validation UAR ${formatPercent(uar)}`);
  return el("li", { text: parts.join(" · ") });
}

/** Rows are the true labels, columns the predicted ones; the diagonal holds the clips recognised. */
export function confusionTable({ labels, matrix }) {
  const head = el("tr", {}, el("th", { scope: "col", text: "True \\ predicted" }));
  head.append(...labels.map((label) => el("th", { scope: "col", text: displayLabel(label) })));
  const rows = matrix.map((counts, row) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", text: displayLabel(labels[row]) }),
      ...counts.map((count, column) => el("td", { class: row === column ? "hit" : null, text: String(count) })),
    ),
  );
  return el(
    "table",
    { class: "confusion" },
    el("caption", { text: "Confusion matrix on the held-out speakers" }),
    el("thead", {}, head),
    el("tbody", {}, ...rows),
  );
}

function evaluationView(training) {
  const { evaluation } = training;
  if (!evaluation) return null;
  const figures = [`UAR ${formatPercent(evaluation.uar)}`];
  if (evaluation.macro_f1 !== undefined) figures.push(`macro-F1 ${formatPercent(evaluation.macro_f1)}`);
  const view = el(
    "div",
    { class: "evaluation" },
    el("p", { class: "evaluation-figures", text: figures.join(" · ") }),
    evaluation.confusion
      ? el(
          "div",
          { class: "table-scroll", tabindex: 0, role: "region", "aria-label": "Confusion matrix" },
          confusionTable(evaluation.confusion),
        )
      : null,
  );
  if (training.confusion_url) {
    // The same numbers as a picture; the table already tells them, so a picture that fails is no loss.
    api
      .confusionImage(training.confusion_url)
      .then((blob) => {
        const image = el("img", { class: "confusion-image", alt: "The confusion matrix as a picture" });
        image.src = URL.createObjectURL(blob);
        view.append(image);
      })
      .catch(() => {});
  }
  return view;
}

function render(training) {
  current = training;
  showStatus(training.status);
  $("training-progress").value = training.progress ?? 0;
  $("training-progress-text").textContent = formatProgress(training.progress ?? 0);
  $("training-epoch-list").replaceChildren(...(training.epochs ?? []).map(epochLine));
  const outcome = $("training-outcome");
  if (training.status === "succeeded") {
    outcome.replaceChildren(evaluationView(training) ?? "");
  } else if (training.status === "failed") {
    const error = training.error ?? {};
    outcome.replaceChildren(renderProblem("Training failed", { title: error.message ?? "", code: error.code }));
  } else {
    outcome.replaceChildren();
  }
  $("training-use").hidden = !(training.status === "succeeded" && training.model_version_id);
}

async function ended(training) {
  announce(`Training ${BADGE[training.status].toLowerCase()}.`);
  // The new model joins the picker and the list of trained models.
  if (training.status === "succeeded") await loadModelInfo();
}

function follow(training) {
  render(training);
  stopPolling = poll(
    () => api.training(training.id),
    (state) => {
      render(state);
      if (!FINAL.has(state.status)) return false;
      ended(state);
      return true;
    },
    (error) => $("training-outcome").replaceChildren(renderProblem("Lost track of the training", error)),
    { firstDelayMs: 1000 },
  );
}

async function start(event) {
  event.preventDefault();
  const archive = $("dataset-file").files[0];
  if (!archive) return;
  stopPolling();
  const name = $("training-name").value.trim();
  const epochs = $("training-epochs").value;
  $("training").hidden = false;
  $("training-title").textContent = name || archive.name;
  $("training-meta").textContent = "";
  render({ status: "uploading", progress: 0, epochs: [] });
  const button = $("training-start");
  button.disabled = true;
  try {
    const dataset = await api.createDataset(archive, name || null);
    $("training-meta").textContent =
      `${dataset.name}: ${dataset.file_count} files, ${dataset.label_count} labels, ${dataset.speaker_count} speakers`;
    const body = { dataset_id: dataset.id };
    if (name) body.name = name;
    if (epochs) body.epochs = Number(epochs);
    follow(await api.createTraining(body));
    announce("Dataset uploaded; the training is queued.");
  } catch (error) {
    showStatus("rejected");
    $("training-outcome").replaceChildren(renderProblem("Not accepted", error));
  } finally {
    button.disabled = false;
  }
}

function useModel(id, name) {
  if (!selectModel(id)) return;
  announce(`${name} will analyse the next recording or upload.`);
  $("model-picker").focus();
}

function versionItem(version) {
  const facts = [`${version.labels.length} emotions`];
  if (version.metrics.uar !== undefined) facts.push(`UAR ${formatPercent(version.metrics.uar)}`);
  facts.push(new Date(version.created_at).toLocaleString());
  const use = el("button", { type: "button", class: "button small", text: "Use for the next analysis" });
  use.addEventListener("click", () => useModel(version.id, version.name));
  const actions = el("div", { class: "work-actions" }, use);
  if (!version.default) {
    const promote = el("button", { type: "button", class: "button small", text: "Make my default" });
    promote.addEventListener("click", async () => {
      promote.disabled = true;
      try {
        await api.promoteVersion(version.id);
        announce(`${version.name} is now your default model.`);
        await loadModelInfo();
      } catch (error) {
        promote.disabled = false;
        announce(`Could not make it the default: ${error.title}.`);
      }
    });
    actions.append(promote);
  }
  return el(
    "li",
    { class: "version", "data-version-id": version.id },
    el(
      "div",
      { class: "work-title" },
      el("h4", {}, version.name, version.default ? el("span", { class: "tag", text: "default" }) : null),
      el("p", { class: "work-meta", text: facts.join(" · ") }),
    ),
    actions,
  );
}

function showVersions(versions) {
  $("version-list").replaceChildren(...versions.map(versionItem));
  $("versions-empty").hidden = versions.length > 0;
}

export function initModelsView() {
  $("training-form").addEventListener("submit", start);
  $("training-cancel").addEventListener("click", async () => {
    if (!current?.id) return;
    try {
      await api.cancelTraining(current.id);
    } catch (error) {
      announce(`Could not cancel: ${error.title}.`);
    }
  });
  $("training-use").addEventListener("click", () => {
    if (current?.model_version_id) useModel(current.model_version_id, $("training-title").textContent);
  });
  window.addEventListener("emoq:models", (event) => showVersions(event.detail.versions));
}
