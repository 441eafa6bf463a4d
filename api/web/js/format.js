// How numbers, labels and emotions look on the page.

const percent = new Intl.NumberFormat(undefined, {
  style: "percent",
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const wholePercent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
const seconds = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export const formatPercent = (value) => percent.format(value);
export const formatProgress = (value) => wholePercent.format(value);

export function formatDuration(totalSeconds) {
  if (totalSeconds < 60) return `${seconds.format(totalSeconds)} s`;
  const minutes = Math.floor(totalSeconds / 60);
  const rest = Math.floor(totalSeconds % 60);
  return `${minutes}:${String(rest).padStart(2, "0")} min`;
}

export function formatBytes(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export const displayLabel = (label) => label.charAt(0).toUpperCase() + label.slice(1);

// Emotions the stylesheet has a colour for; any other label a model may bring gets a spare colour,
// chosen by its place among the model's labels so that it stays the same everywhere on the page.
const KNOWN = new Set(["angry", "bored", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise"]);
const SPARE_COLOURS = 4;
let modelLabels = [];

export function setModelLabels(labels) {
  modelLabels = labels;
}

export function emotionColour(label) {
  if (label === null) return "var(--emo-silent)";
  if (KNOWN.has(label)) return `var(--emo-${label})`;
  const index = Math.max(0, modelLabels.indexOf(label));
  return `var(--emo-extra-${index % SPARE_COLOURS})`;
}

/** A small coloured square; the colour is never the only way the emotion is told (its name is beside it). */
export function swatch(label) {
  const element = document.createElement("span");
  element.className = "swatch";
  element.setAttribute("aria-hidden", "true");
  // Set through the CSSOM: the Content-Security-Policy forbids style attributes, not this.
  element.style.background = emotionColour(label);
  return element;
}

/**
 * document.createElement with attributes and children: DOM building stays short, and text from the
 * server (file names, labels, messages) is never parsed as markup.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}
