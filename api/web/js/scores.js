// A result's scores as horizontal bars, highest first, the dominant emotion named and highlighted.

import { displayLabel, el, emotionColour, formatPercent, swatch } from "./format.js";

export function renderScores(result) {
  // The API sends scores sorted already; sorting again keeps the page right whatever the order.
  const scores = [...result.scores].sort((a, b) => b.score - a.score);
  const dominant = result.dominant.label;

  const summary = el(
    "p",
    { class: "dominant-line" },
    el("span", { class: "muted", text: "Dominant emotion" }),
    swatch(dominant),
    el("strong", { class: "dominant-label", text: displayLabel(dominant) }),
    el("span", { class: "dominant-score", text: formatPercent(result.dominant.score) }),
  );

  const bars = el("ol", { class: "bars", "aria-label": "Scores per emotion, highest first" });
  for (const { label, score } of scores) {
    const isDominant = label === dominant;
    const fill = el("span", { class: "bar-fill" });
    // Width is the score itself (not relative to the top score), so bars compare across results.
    fill.style.width = `${(score * 100).toFixed(2)}%`;
    if (isDominant) fill.style.setProperty("--dominant-colour", emotionColour(label));
    bars.append(
      el(
        "li",
        { class: isDominant ? "bar dominant" : "bar", "data-label": label, "data-score": score },
        el(
          "span",
          { class: "bar-name" },
          displayLabel(label),
          isDominant ? el("span", { class: "tag", text: "dominant" }) : null,
        ),
        el("span", { class: "bar-track", "aria-hidden": "true" }, fill),
        el("span", { class: "bar-value", text: formatPercent(score) }),
      ),
    );
  }
  return el("div", { class: "scores" }, summary, bars);
}
