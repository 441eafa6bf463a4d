// The API key form. Shown on demand, and opened by itself when the API answers 401.

import { announce } from "./announce.js";
import { apiKey } from "./api.js";
import { el } from "./format.js";

export function initKeyPanel({ panel, toggle, form, input, forget, alert, state }, onKeyChanged) {
  const setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };
  // Only a server that wants keys ever answers 401; until one does, and no key is set, nothing to enter.
  toggle.hidden = !apiKey.get();
  const showState = () => {
    state.textContent = apiKey.get() ? "A key is set for this tab." : "No key is set.";
  };

  toggle.addEventListener("click", () => {
    setOpen(panel.hidden);
    if (!panel.hidden) input.focus();
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      input.focus();
      return;
    }
    apiKey.set(key);
    // Out of the DOM as soon as it is stored: nothing else on the page should hold the key.
    input.value = "";
    alert.hidden = true;
    showState();
    announce("API key set for this tab.");
    onKeyChanged();
  });

  forget.addEventListener("click", () => {
    apiKey.clear();
    input.value = "";
    showState();
    announce("API key forgotten.");
  });

  window.addEventListener("emoq:unauthorized", (event) => {
    const refused = Boolean(apiKey.get());
    alert.replaceChildren(
      el("strong", { text: refused ? "EmoQ refused this API key." : "This server needs an API key." }),
      refused
        ? el("p", { text: "It may be mistyped or revoked. Enter a valid key, then send your audio again." })
        : el(
            "p",
            {},
            "Enter your key below, then send your audio again. An administrator creates keys with ",
            el("code", { text: "emoq keys create" }),
            ".",
          ),
    );
    // Focus moves only when the prompt appears, not on every 401 that polling may meet afterwards.
    const appearing = alert.hidden || panel.hidden;
    toggle.hidden = false;
    alert.hidden = false;
    setOpen(true);
    if (appearing) input.focus();
  });

  showState();
}
