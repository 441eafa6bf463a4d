// The models the service serves (GET /v1/models): the line that describes them, the picker shown when
// there is more than one, and how each label is shown (colour, emoji, mood), which the API decides.

import { api } from "./api.js";
import { setLabelDisplay } from "./format.js";

const $ = (id) => document.getElementById(id);

/** The name of the model chosen in the picker; null leaves the choice to the server (its default). */
export function chosenModel() {
  const picker = $("model-picker");
  return $("model-field").hidden || !picker.value ? null : picker.value;
}

function describe(model) {
  if (!model.served) return `Model ${model.name}: no worker serving it has started yet; jobs wait in its queue.`;
  return [`Model ${model.id}`, `${model.labels.length} emotions`, `${model.window_seconds} s windows`, model.precision].join(
    " · ",
  );
}

function fillPicker(models) {
  const picker = $("model-picker");
  const previous = picker.value;
  picker.replaceChildren(
    ...models.map((model) => {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.served ? `${model.name} (${model.id})` : `${model.name} (not started)`;
      return option;
    }),
  );
  const kept = models.find((model) => model.name === previous) ?? models.find((model) => model.default);
  if (kept) picker.value = kept.name;
  $("model-field").hidden = models.length < 2;
}

export async function loadModelInfo() {
  const info = $("model-info");
  const picker = $("model-picker");
  try {
    const { models, transcription } = await api.models();
    $("transcribe-option").hidden = !transcription;
    // Labels shared by several models take the first one's look (the default comes first).
    setLabelDisplay(Object.assign({}, ...[...models].reverse().map((model) => model.display)));
    fillPicker(models);
    const show = () => {
      const model = models.find((candidate) => candidate.name === picker.value) ?? models[0];
      info.textContent = model ? describe(model) : "No model is configured.";
    };
    picker.onchange = show;
    show();
  } catch (error) {
    // A 401 opens the key form by itself; anything else is worth a line here.
    info.textContent = error.status === 401 ? "" : `The model list is unavailable: ${error.title}.`;
  }
}
