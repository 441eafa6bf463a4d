// How the voice sounds, when the job was asked for acoustic features: pitch and loudness over time as
// two line charts under the timeline (one point per window, on the timeline's time axis), the whole
// recording's measures as a list, and the points as a table for anyone who cannot see the charts.

import { el, formatDuration } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 40;
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const tenth = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const share = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

function svg(tag, attributes = {}, text = "") {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.textContent = text;
  return element;
}

const hz = (value) => `${number.format(value)} Hz`;
const dbfs = (value) => `${tenth.format(value)} dBFS`;
// The same series in each chart and in the table: each window's middle and its value, if it has one.
const CHARTS = [
  { key: "pitch_median_hz", title: "Pitch", unit: hz, className: "pitch" },
  { key: "loudness_dbfs", title: "Loudness", unit: dbfs, className: "loudness" },
];

const middle = (segment) => (segment.start_s + segment.end_s) / 2;

/** A line per stretch of windows that have a value; unvoiced windows leave a gap in the pitch line. */
function lineChart(segments, { key, title, unit, className }, end) {
  const points = segments.filter((segment) => segment.features?.[key] != null);
  const values = points.map((segment) => segment.features[key]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const y = (value) => (high === low ? HEIGHT / 2 : HEIGHT - ((value - low) / (high - low)) * HEIGHT);
  const chart = svg("svg", {
    class: `acoustic-chart ${className}`,
    viewBox: `0 0 ${end} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${title} over time, from ${unit(low)} to ${unit(high)}`,
  });
  let run = [];
  const flush = () => {
    if (run.length) chart.append(svg("polyline", { points: run.join(" "), "vector-effect": "non-scaling-stroke" }));
    run = [];
  };
  for (const segment of segments) {
    const value = segment.features?.[key];
    if (value == null) flush();
    else run.push(`${middle(segment)},${y(value)}`);
  }
  flush();
  // Full width, like the timeline above it: a moment sits at the same place in all three.
  return el(
    "div",
    { class: "acoustic-row" },
    el(
      "p",
      { class: "acoustic-head" },
      el("span", { class: "acoustic-name", text: title }),
      el("span", { class: "acoustic-range", text: `${unit(low)} – ${unit(high)}` }),
    ),
    chart,
  );
}

function summary(features) {
  const facts = [
    ["Median pitch", features.pitch_median_hz == null ? "no voiced speech" : hz(features.pitch_median_hz)],
    [
      "Pitch range",
      features.pitch_low_hz == null
        ? "–"
        : `${hz(features.pitch_low_hz)} – ${hz(features.pitch_high_hz)} (${tenth.format(features.pitch_range_st)} semitones)`,
    ],
    ["Voiced", share.format(features.voiced_share)],
    ["Loudness", features.loudness_dbfs == null ? "–" : dbfs(features.loudness_dbfs)],
    ["Syllables per second", features.syllable_rate == null ? "–" : tenth.format(features.syllable_rate)],
    ["Spectral centroid", features.spectral_centroid_hz == null ? "–" : hz(features.spectral_centroid_hz)],
  ];
  return el(
    "dl",
    { class: "acoustic-facts" },
    ...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]),
  );
}

function pointTable(segments) {
  const cell = (value, unit) => el("td", { class: "num", text: value == null ? "–" : unit(value) });
  const rows = segments.map((segment) =>
    el(
      "tr",
      {},
      el("td", { class: "num", text: formatDuration(segment.start_s) }),
      el("td", { class: "num", text: formatDuration(segment.end_s) }),
      ...CHARTS.map(({ key, unit }) => cell(segment.features?.[key], unit)),
    ),
  );
  const header = el(
    "tr",
    {},
    el("th", { scope: "col", class: "num", text: "From" }),
    el("th", { scope: "col", class: "num", text: "To" }),
    ...CHARTS.map(({ title }) => el("th", { scope: "col", class: "num", text: title })),
  );
  return el(
    "details",
    {},
    el("summary", { text: "Show pitch and loudness as a table" }),
    el(
      "div",
      { class: "table-scroll", tabindex: 0, role: "region", "aria-label": "Pitch and loudness table" },
      el(
        "table",
        {},
        el("caption", { class: "visually-hidden", text: "Pitch and loudness per window" }),
        el("thead", {}, header),
        el("tbody", {}, ...rows),
      ),
    ),
  );
}

/** The voice's measures, or nothing when the job did not ask for them. */
export function renderAcoustics(result) {
  const { features } = result;
  if (!features) return "";
  const segments = [...(result.segments ?? [])].sort((a, b) => a.start_s - b.start_s);
  const end = Math.max(0, ...segments.map((segment) => segment.end_s));
  const charts = CHARTS.filter(({ key }) => segments.some((segment) => segment.features?.[key] != null));
  return el(
    "figure",
    { class: "acoustics" },
    el("figcaption", {}, "Voice ", el("span", { text: "· pitch and loudness per window" })),
    ...(segments.length > 1 ? charts.map((chart) => lineChart(segments, chart, end)) : []),
    summary(features),
    segments.length > 1 ? pointTable(segments) : "",
  );
}
