// Polling with a gentle back-off: soon after a change of status, then less and less often, so that a
// long recording or a large batch costs the server a request every few seconds, not several a second.
// Stops at a final state, at an error that retrying cannot fix (401, 404), or when told to.

const GROWTH = 1.5;
const MAX_DELAY_MS = 4000;

/**
 * @param {() => Promise<{status: string}>} read fetches the current state
 * @param {(state: object) => boolean} onState shows it; returns true when the state is final
 * @param {(error: Error) => void} onError shows an error that ends polling
 * @param {{firstDelayMs?: number}} options how soon to look again after a change
 * @returns {() => void} stops polling
 */
export function poll(read, onState, onError, { firstDelayMs = 500 } = {}) {
  let stopped = false;
  let timer = 0;
  let delay = firstDelayMs;
  let lastStatus = null;

  async function tick() {
    if (stopped) return;
    try {
      const state = await read();
      if (stopped || onState(state)) return;
      delay = state.status === lastStatus ? Math.min(delay * GROWTH, MAX_DELAY_MS) : firstDelayMs;
      lastStatus = state.status;
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

  timer = window.setTimeout(tick, delay);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
