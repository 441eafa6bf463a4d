// The theme toggle. A theme is a preference, not a secret, so it may outlive the tab in localStorage.

const STORAGE_KEY = "emoq.theme";
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function effectiveTheme() {
  return document.documentElement.dataset.theme ?? (systemDark.matches ? "dark" : "light");
}

/** The button says what it does: in the dark theme it offers the light one, and the other way round. */
export function initThemeToggle(button, text) {
  const reflect = () => {
    const other = effectiveTheme() === "dark" ? "light" : "dark";
    button.dataset.offers = other;
    text.textContent = `${other === "dark" ? "Dark" : "Light"} theme`;
    button.setAttribute("aria-label", `Switch to ${other} theme`);
  };
  button.addEventListener("click", () => {
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Storage disabled: the choice lasts until the page is reloaded.
    }
    reflect();
  });
  systemDark.addEventListener("change", reflect);
  reflect();
}
