// Runs before first paint (a classic script in <head>): apply the theme chosen earlier, if any.
// Without a choice the page follows the system's prefers-color-scheme through CSS alone.
(function () {
  try {
    var theme = localStorage.getItem("emoq.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) {
    // Storage can be disabled; the system theme still applies.
  }
})();
