// The timeline of a long recording: one coloured block per analysis window, a legend, and the same
// facts as a table for anyone who cannot see the chart.

import { displayLabel, el, emotionColour, formatDuration, formatPercent, swatch } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 36;
let chartCount = 0;

function svg(tag, attributes = {}, text = "") {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.textContent = text;
  return element;
}

/** The window's dominant label, or null for a window too quiet to score. */
const labelOf = (segment) => (segment.silent || !segment.dominant ? null : segment.dominant.label);
const nameOf = (label) => (label === null ? "Silence" : displayLabel(label));

export function renderTimeline(unsorted) {
  const segments = [...unsorted].sort((a, b) => a.start_s - b.start_s);
  const end = Math.max(...segments.map((segment) => segment.end_s));
  const span = `${segments.length} windows over ${formatDuration(end)}`;

  // Most frequent first: the legend and the description lead with what dominates the recording.
  const counts = new Map();
  for (const segment of segments) counts.set(labelOf(segment), (counts.get(labelOf(segment)) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);

  const id = `timeline-${chartCount++}`;
  const chart = svg("svg", {
    class: "timeline-chart",
    viewBox: `0 0 ${end} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
  });
  const shares = ranked.map(([label, n]) => `${nameOf(label).toLowerCase()} in ${n}`);
  chart.append(
    svg("title", { id: `${id}-title` }, "Emotion over time"),
    svg("desc", { id: `${id}-desc` }, `${span}: ${shares.join(", ")}.`),
  );

  // Windows overlap (the hop is shorter than the window), so each block runs from its window's start to
  // the next one's: the blocks tile the recording, and each moment shows the latest window covering it.
  segments.forEach((segment, index) => {
    const label = labelOf(segment);
    const until = index + 1 < segments.length ? segments[index + 1].start_s : segment.end_s;
    const block = svg("rect", {
      class: "segment",
      x: segment.start_s,
      y: 0,
      width: Math.max(until - segment.start_s, 0),
      height: HEIGHT,
      "data-label": label ?? "silence",
    });
    block.style.fill = emotionColour(label);
    block.append(svg("title", {}, `${windowSpan(segment)}: ${windowResult(segment)}`));
    chart.append(block);
  });

  const legend = el("ul", { class: "legend", "aria-label": "Legend" });
  for (const [label] of ranked) legend.append(el("li", {}, swatch(label), nameOf(label)));

  return el(
    "figure",
    { class: "timeline" },
    el("figcaption", {}, "Timeline ", el("span", { text: `· ${span}` })),
    chart,
    el(
      "div",
      { class: "axis", "aria-hidden": "true" },
      el("span", { text: formatDuration(0) }),
      el("span", { text: formatDuration(end) }),
    ),
    legend,
    windowTable(segments),
  );
}

const windowSpan = (segment) => `${formatDuration(segment.start_s)} – ${formatDuration(segment.end_s)}`;

function windowResult(segment) {
  const label = labelOf(segment);
  return label === null ? "silence" : `${displayLabel(label)} ${formatPercent(segment.dominant.score)}`;
}

function windowTable(segments) {
  const rows = segments.map((segment) => {
    const label = labelOf(segment);
    return el(
      "tr",
      {},
      el("td", { class: "num", text: formatDuration(segment.start_s) }),
      el("td", { class: "num", text: formatDuration(segment.end_s) }),
      el("td", {}, el("span", { class: "emotion" }, swatch(label), nameOf(label))),
      el("td", { class: "num", text: label === null ? "–" : formatPercent(segment.dominant.score) }),
    );
  });
  const header = el(
    "tr",
    {},
    el("th", { scope: "col", class: "num", text: "From" }),
    el("th", { scope: "col", class: "num", text: "To" }),
    el("th", { scope: "col", text: "Dominant emotion" }),
    el("th", { scope: "col", class: "num", text: "Score" }),
  );
  const table = el(
    "table",
    {},
    el("caption", { class: "visually-hidden", text: "Dominant emotion per window" }),
    el("thead", {}, header),
    el("tbody", {}, ...rows),
  );
  // tabindex: a region that scrolls must be reachable from the keyboard to be scrolled.
  return el(
    "details",
    {},
    el("summary", { text: "Show the timeline as a table" }),
    el("div", { class: "table-scroll", tabindex: 0, role: "region", "aria-label": "Timeline table" }, table),
  );
}
