// Registers the proof-of-work worker, served from our own origin so the strict
// Content-Security-Policy allows it. Loaded (as a module, after the widget) only on
// forms whose organisers switched the check on.
const setup = document.querySelector("script[data-worker]");
if (setup && globalThis.$altcha) {
  const workerUrl = setup.dataset.worker;
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(workerUrl));
}
