// One polite live region for the whole page, so screen readers hear each status change once.

const region = () => document.getElementById("announcer");

export function announce(message) {
  // Emptied first: the same words twice in a row (two files finishing alike) are still announced.
  region().textContent = "";
  window.setTimeout(() => {
    region().textContent = message;
  }, 50);
}
