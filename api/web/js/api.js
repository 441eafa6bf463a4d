// The EmoQ API, seen from the page: every call is same-origin and carries the API key, if one is set,
// in the Authorization header. The key lives in sessionStorage (this tab only) and never in a URL.

const KEY_ITEM = "emoq.apiKey";

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_ITEM) ?? "",
  set: (key) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** An RFC 9457 problem from the API (or a network failure dressed as one, status 0). */
export class ApiError extends Error {
  constructor({ status, title, detail, code }) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.code = code;
  }
}

async function call(path, { method = "GET", body, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method, body, headers, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError({
      status: 0,
      title: "Cannot reach EmoQ",
      detail: "The server did not answer. Check that it is running, then try again.",
      code: "network_error",
    });
  }
  if (!response.ok) throw await problemFrom(response);
  return response;
}

async function problemFrom(response) {
  let problem = {};
  if ((response.headers.get("content-type") ?? "").includes("json")) {
    problem = await response.json().catch(() => ({}));
  }
  const error = new ApiError({
    status: response.status,
    title: problem.title || response.statusText || `HTTP ${response.status}`,
    detail: problem.detail ?? "",
    code: problem.code ?? "",
  });
  // Whoever shows the key form listens for this, wherever the call came from.
  if (response.status === 401) window.dispatchEvent(new CustomEvent("emoq:unauthorized", { detail: error }));
  return error;
}

const json = (response) => response.json();
const path = (...parts) => parts.map(encodeURIComponent).join("/");

export const api = {
  models: () => call("/v1/models").then(json),

  /**
   * @param {{model?: string|null, features?: boolean, transcribe?: boolean}} options the model's name (null:
   *   the server's default); also measure the voice; also transcribe
   */
  createJob(file, { model = null, features = false, transcribe = false } = {}) {
    const form = new FormData();
    form.append("file", file, file.name);
    if (model) form.append("model", model);
    if (features) form.append("features", "true");
    if (transcribe) form.append("transcribe", "true");
    return call("/v1/jobs", { method: "POST", body: form }).then(json);
  },

  job: (id, { segments }) => call(`/v1/jobs/${path(id)}?segments=${segments}`).then(json),

  // 204 when the job had already finished (it is then deleted): there is no body to read.
  cancelJob: (id) => call(`/v1/jobs/${path(id)}`, { method: "DELETE" }),

  createBatch(files, { model = null, features = false, transcribe = false } = {}) {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    if (model) form.append("model", model);
    if (features) form.append("features", "true");
    if (transcribe) form.append("transcribe", "true");
    return call("/v1/batches", { method: "POST", body: form }).then(json);
  },

  batch: (id, { limit }) => call(`/v1/batches/${path(id)}?limit=${limit}`).then(json),

  cancelBatch: (id) => call(`/v1/batches/${path(id)}`, { method: "DELETE" }).then(json),

  batchCsv: (id) => call(`/v1/batches/${path(id)}/results`, { accept: "text/csv" }).then((r) => r.blob()),

  /** A dataset zip (with its manifest.csv) uploaded for training. */
  createDataset(archive, name) {
    const form = new FormData();
    form.append("archive", archive, archive.name);
    if (name) form.append("name", name);
    return call("/v1/datasets", { method: "POST", body: form }).then(json);
  },

  createTraining(body) {
    return call("/v1/trainings", {
      method: "POST",
      body: new Blob([JSON.stringify(body)], { type: "application/json" }),
    }).then(json);
  },

  training: (id) => call(`/v1/trainings/${path(id)}`).then(json),

  cancelTraining: (id) => call(`/v1/trainings/${path(id)}`, { method: "DELETE" }),

  /** The confusion matrix's picture, as a blob: its URL needs the key, which an <img> cannot send. */
  confusionImage: (url) => call(url, { accept: "image/png" }).then((r) => r.blob()),

  promoteVersion: (id) => call(`/v1/models/${path(id)}/promote`, { method: "POST" }).then(json),
};
