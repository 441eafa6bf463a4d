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

// How each label is shown comes from the API (GET /v1/models: colour, emoji, mood per label, set by the
// model's folder over defaults). A label no model describes gets a spare colour by its order of
// appearance, so that it stays the same everywhere on the page.
const SPARE_COLOURS = 4;
let labelDisplay = {};
const spares = [];

export function setLabelDisplay(display) {
  labelDisplay = display;
}

/** The label's display from the API: { color, emoji, mood }, or undefined. */
export const displayOf = (label) => (Object.hasOwn(labelDisplay, label) ? labelDisplay[label] : undefined);

export function emotionColour(label) {
  if (label === null) return "var(--emo-silent)";
  const shown = displayOf(label);
  if (shown) return shown.color;
  if (!spares.includes(label)) spares.push(label);
  return `var(--emo-extra-${spares.indexOf(label) % SPARE_COLOURS})`;
}

/**
 * A small coloured square and the label's emoji; neither is the only way the emotion is told (its name is
 * beside them), so both are hidden from screen readers.
 */
export function swatch(label) {
  const square = document.createElement("span");
  square.className = "swatch";
  square.setAttribute("aria-hidden", "true");
  // Set through the CSSOM: the Content-Security-Policy forbids style attributes, not this.
  square.style.background = emotionColour(label);
  const emoji = label === null ? null : displayOf(label)?.emoji;
  if (!emoji) return square;
  const pair = document.createDocumentFragment();
  // Drawn by the stylesheet from the attribute, so the emoji stays out of the text (tables, copies).
  pair.append(square, el("span", { class: "emoji", "aria-hidden": "true", "data-emoji": emoji }));
  return pair;
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
