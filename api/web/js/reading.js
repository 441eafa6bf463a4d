// What a result says beyond its bars: how sure the model is, the derived arousal and valence, the music
// mood of the dominant emotion and the model that answered.

import { displayLabel, displayOf, el, formatPercent } from "./format.js";
import { modelUsed } from "./models.js";

// The margin is a difference of two percentages: percentage points, not a percent of anything.
const points = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const signed = new Intl.NumberFormat(undefined, {
  signDisplay: "always",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export function renderReading(result) {
  const lines = [];
  if (result.confidence) {
    const runnerUp = [...result.scores].sort((a, b) => b.score - a.score)[1];
    lines.push(
      el(
        "p",
        { class: "confidence", "data-low": result.low_confidence ? "true" : "false" },
        el("span", { class: "muted", text: "Confidence" }),
        el("span", {
          class: "confidence-margin",
          text: runnerUp
            ? `${points.format(result.confidence.margin * 100)} points ahead of ${displayLabel(runnerUp.label)}`
            : formatPercent(result.confidence.score),
        }),
        result.low_confidence ? el("span", { class: "tag low-confidence", text: "low confidence" }) : null,
      ),
    );
  }
  if (result.affect) {
    const { arousal, valence } = result.affect;
    lines.push(
      el(
        "p",
        { class: "affect", title: "Estimated from the scores through each emotion's place on the circumplex" },
        el("span", { class: "muted", text: "Arousal" }),
        el("span", { class: "affect-arousal", text: signed.format(arousal) }),
        el("span", { class: "muted", text: "Valence" }),
        el("span", { class: "affect-valence", text: signed.format(valence) }),
        el("span", { class: "muted", text: "(derived from the scores)" }),
      ),
    );
  }
  const mood = displayOf(result.dominant.label)?.mood;
  if (mood) {
    lines.push(
      el("p", { class: "mood" }, el("span", { class: "muted", text: "Music mood" }), el("span", { text: mood })),
    );
  }
  const { model } = result;
  lines.push(
    el(
      "p",
      { class: "model-used" },
      el("span", { class: "muted", text: "Model" }),
      el("span", { text: modelUsed(model) }),
    ),
  );
  return el("div", { class: "reading" }, ...lines);
}
