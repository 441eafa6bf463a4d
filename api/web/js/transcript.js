// What was said, under the timeline: one line per utterance with its time, the emotion of that stretch
// (in words and colour) and the text. Only jobs sent with "transcribe" have utterances.

import { displayLabel, el, formatDuration, formatPercent, swatch } from "./format.js";

function line(utterance) {
  const when = `${formatDuration(utterance.start_s)} – ${formatDuration(utterance.end_s)}`;
  const { dominant } = utterance;
  const emotion = dominant
    ? el("span", { class: "utterance-emotion" }, swatch(dominant.label), `${displayLabel(dominant.label)} ${formatPercent(dominant.score)}`)
    : el("span", { class: "utterance-emotion muted", text: "silence" });
  return el(
    "li",
    { class: "utterance", "data-label": dominant?.label ?? "" },
    el("span", { class: "utterance-time", text: when }),
    emotion,
    el("span", { class: "utterance-text", text: utterance.text }),
  );
}

export function renderTranscript(utterances) {
  return el(
    "figure",
    { class: "transcript" },
    el(
      "figcaption",
      {},
      "Transcript ",
      el("span", { text: `· ${utterances.length} ${utterances.length === 1 ? "utterance" : "utterances"}, each with its emotion` }),
    ),
    utterances.length
      ? el("ol", { class: "utterance-list" }, ...utterances.map(line))
      : el("p", { class: "muted", text: "No speech was recognised." }),
  );
}
