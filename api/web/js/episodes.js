// The timeline told as episodes: stretches of one dominant emotion, readable for an hour of audio where
// the window blocks are a barcode. A band of coloured blocks, and the same stretches as a list.

import { displayLabel, el, emotionColour, formatDuration, formatPercent, swatch } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 24;

function svg(tag, attributes = {}, text = "") {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.textContent = text;
  return element;
}

const describe = (episode) =>
  `${formatDuration(episode.start_s)} – ${formatDuration(episode.end_s)}: ` +
  `${displayLabel(episode.dominant.label)} ${formatPercent(episode.dominant.score)}`;

export function renderEpisodes(episodes, end) {
  const band = svg("svg", {
    class: "episodes-chart",
    viewBox: `0 0 ${end} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${episodes.length} episodes: ${episodes.map(describe).join("; ")}`,
  });
  for (const episode of episodes) {
    const block = svg("rect", {
      class: "episode",
      x: episode.start_s,
      y: 0,
      width: Math.max(episode.end_s - episode.start_s, 0),
      height: HEIGHT,
      "data-label": episode.dominant.label,
    });
    block.style.fill = emotionColour(episode.dominant.label);
    block.append(svg("title", {}, describe(episode)));
    band.append(block);
  }
  const items = episodes.map((episode) =>
    el(
      "li",
      { class: "episode-item", "data-label": episode.dominant.label },
      swatch(episode.dominant.label),
      describe(episode),
    ),
  );
  return el(
    "figure",
    { class: "episodes" },
    el(
      "figcaption",
      {},
      "Episodes ",
      el("span", { text: `· ${episodes.length} ${episodes.length === 1 ? "stretch" : "stretches"} of one emotion` }),
    ),
    band,
    el(
      "details",
      {},
      el("summary", { text: "Show the episodes as a list" }),
      el("ol", { class: "episode-list" }, ...items),
    ),
  );
}
