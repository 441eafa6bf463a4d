// The models the caller may ask for (GET /v1/models): those the service serves and the caller's own
// trained versions. The line that describes the chosen one, the picker shown when there is a choice, and
// how each label is shown (colour, emoji, mood), which the API decides. Every fresh list is announced to
// the page as an "emoq:models" event, for the views that show the caller's versions.

import { api } from "./api.js";
import { formatPercent, setLabelDisplay } from "./format.js";

const $ = (id) => document.getElementById(id);
let versionsById = new Map();

/** What the picker asks for: a served model's name or a version's id; null leaves the choice to the
 * server (the caller's default). */
export function chosenModel() {
  const picker = $("model-picker");
  return $("model-field").hidden || !picker.value ? null : picker.value;
}

/** How a result's model reads: a version of the caller's by its name, a served one by name and id. */
export function modelUsed(model) {
  const version = versionsById.get(model.id);
  if (version) return `${version.name} (your model)`;
  return model.name ? `${model.name} (${model.id})` : model.id;
}

/** Chooses a model in the picker for the next analysis; false when the picker does not offer it. */
export function selectModel(value) {
  const picker = $("model-picker");
  if (![...picker.options].some((option) => option.value === value)) return false;
  picker.value = value;
  picker.dispatchEvent(new Event("change"));
  return true;
}

function describe(choice) {
  if (choice.version) {
    const { version } = choice;
    const uar = version.metrics.uar === undefined ? null : `UAR ${formatPercent(version.metrics.uar)}`;
    return [`Your model ${version.name}`, `${version.labels.length} emotions`, uar].filter(Boolean).join(" · ");
  }
  const model = choice.model;
  if (!model.served) return `Model ${model.name}: no worker serving it has started yet; jobs wait in its queue.`;
  return [`Model ${model.id}`, `${model.labels.length} emotions`, `${model.window_seconds} s windows`, model.precision].join(
    " · ",
  );
}

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

function fillPicker(models, versions) {
  const picker = $("model-picker");
  const previous = picker.value;
  const served = models.map((model) =>
    option(model.name, model.served ? `${model.name} (${model.id})` : `${model.name} (not started)`),
  );
  if (versions.length === 0) {
    picker.replaceChildren(...served);
  } else {
    const group = (label, children) => {
      const element = document.createElement("optgroup");
      element.label = label;
      element.append(...children);
      return element;
    };
    picker.replaceChildren(
      group("Served models", served),
      group("Your models", versions.map((version) => option(version.id, version.name))),
    );
  }
  const kept =
    [...picker.options].find((candidate) => candidate.value === previous) ??
    [...picker.options].find(
      (candidate) =>
        versions.some((version) => version.default && version.id === candidate.value) ||
        models.some((model) => model.default && model.name === candidate.value),
    );
  if (kept) picker.value = kept.value;
  $("model-field").hidden = models.length + versions.length < 2;
}

export async function loadModelInfo() {
  const info = $("model-info");
  const picker = $("model-picker");
  try {
    const { models, versions = [], transcription } = await api.models();
    versionsById = new Map(versions.map((version) => [version.id, version]));
    $("transcribe-option").hidden = !transcription;
    // Labels shared by several models take the first one's look (the default comes first).
    setLabelDisplay(Object.assign({}, ...[...models].reverse().map((model) => model.display)));
    fillPicker(models, versions);
    const show = () => {
      const version = versionsById.get(picker.value);
      const model = models.find((candidate) => candidate.name === picker.value) ?? models[0];
      info.textContent = version || model ? describe({ version, model }) : "No model is configured.";
    };
    picker.onchange = show;
    show();
    window.dispatchEvent(new CustomEvent("emoq:models", { detail: { models, versions } }));
  } catch (error) {
    // A 401 opens the key form by itself; anything else is worth a line here.
    info.textContent = error.status === 401 ? "" : `The model list is unavailable: ${error.title}.`;
  }
}
