// Microphone recording with MediaRecorder, and a live input level from an AnalyserNode.

// The first type the browser can record: Chromium and Firefox give WebM/Opus, Safari MP4/AAC.
const TYPES = [
  ["audio/webm;codecs=opus", "webm"],
  ["audio/webm", "webm"],
  ["audio/ogg;codecs=opus", "ogg"],
  ["audio/mp4", "m4a"],
];

/** Why recording cannot work here, or null when it can. */
export function recordingUnavailable() {
  if (!window.isSecureContext) return "Recording needs a secure page: open EmoQ over HTTPS or on localhost.";
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
    return "This browser cannot record audio. Upload a file instead.";
  }
  return null;
}

/** Turns a getUserMedia failure into a sentence a person can act on. */
export function describeMicrophoneError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "The browser may not use the microphone. Allow it in the site settings, then try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, or upload a file instead.";
    case "NotReadableError":
      return "The microphone is in use by another application, or could not be opened.";
    default:
      return `Recording failed: ${error?.message ?? error}`;
  }
}

const DECAY = 0.94;

export class Recorder {
  /** @param {(level: number) => void} onLevel receives the input level, 0 (silence) to 1 (full scale) */
  constructor(onLevel) {
    this.onLevel = onLevel;
    this.chunks = [];
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const [mimeType, extension] = TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) ?? ["", "webm"];
    this.extension = extension;
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    this.chunks = [];
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    });
    // A timeslice, so a long recording is collected in pieces rather than one buffer at the end.
    this.recorder.start(1000);
    this.startedAt = performance.now();
    this.#meter();
  }

  get elapsedSeconds() {
    return this.startedAt === undefined ? 0 : (performance.now() - this.startedAt) / 1000;
  }

  /** Stops, releases the microphone, and resolves to the recording as a File. */
  stop() {
    return new Promise((resolve) => {
      this.recorder.addEventListener(
        "stop",
        () => {
          const type = this.recorder.mimeType || "audio/webm";
          const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
          const name = `recording-${stamp}.${this.extension}`;
          resolve(new File(this.chunks, name, { type: type.split(";")[0] }));
        },
        { once: true },
      );
      this.recorder.stop();
      this.#release();
    });
  }

  #meter() {
    this.audio = new AudioContext();
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 2048;
    this.audio.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let shown = 0;
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      // Loudness is heard on a log scale: show -60 dBFS .. 0 dBFS across the meter.
      const dbfs = 20 * Math.log10(Math.max(rms, 1e-6));
      const level = Math.min(1, Math.max(0, (dbfs + 60) / 60));
      // Falls back slowly, as level meters do, so that short peaks stay readable.
      shown = Math.max(level, shown * DECAY);
      this.onLevel(shown);
      this.frame = requestAnimationFrame(draw);
    };
    draw();
  }

  #release() {
    cancelAnimationFrame(this.frame);
    this.audio?.close();
    for (const track of this.stream.getTracks()) track.stop();
    this.onLevel(0);
  }
}
