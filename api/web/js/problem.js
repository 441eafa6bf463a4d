// An API problem (RFC 9457) as people read it: the title, the detail, and the stable code to quote.

import { el } from "./format.js";

export function renderProblem(heading, { title, detail, code }) {
  return el(
    "div",
    { class: "problem" },
    el("strong", { text: `${heading}: ${title}` }),
    detail ? el("p", { text: detail }) : null,
    code ? el("p", { class: "muted" }, "Error code ", el("code", { text: code })) : null,
  );
}
