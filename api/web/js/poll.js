// Polling with a gentle back-off: quick while things change, slower while they do not, and never
// faster than once every MIN_DELAY_MS. Stops at a final state, on an error that retrying cannot fix
// (401, 404), or when cancelled.

const MIN_DELAY_MS = 400;
const MAX_DELAY_MS = 5000;
const GROWTH = 1.6;

/**
 * @param {() => Promise<object>} read fetches the current state
 * @param {(state: object) => boolean} onState shows it; returns true when the state is final
 * @param {(error: Error) => void} onError shows an error that ends polling
 * @returns {() => void} stops polling
 */
export function poll(read, onState, onError) {
  let stopped = false;
  let timer = 0;
  let delay = MIN_DELAY_MS;
  let last = "";

  async function tick() {
    if (stopped) return;
    try {
      const state = await read();
      if (stopped) return;
      if (onState(state)) return;
      // Progress moved: look again soon. Nothing moved: wait longer each time.
      const fingerprint = `${state.status}:${state.progress}`;
      delay = fingerprint === last ? Math.min(delay * GROWTH, MAX_DELAY_MS) : MIN_DELAY_MS;
      last = fingerprint;
    } catch (error) {
      if (stopped) return;
      if (error.status === 401 || error.status === 404) {
        onError(error);
        return;
      }
      // The server may be restarting: keep trying, slowly.
      delay = Math.min(delay * GROWTH, MAX_DELAY_MS);
    }
    timer = window.setTimeout(tick, delay);
  }

  tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
