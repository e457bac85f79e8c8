/* The page's side of the worker protocol: request(cmd, args, onEvent) -> Promise.
 *
 * Out: {id, cmd, args}. In: {id, event} any number of times, then {id, result} or
 * {id, error}. An error rejects with a WorkerError carrying the Python-side details
 * (message, and for a bad layer stack the index of the offending layer).
 * {session: report} messages (the worker stepping the training session) go to `onSession`.
 * A worker that fails outright (its script did not load, it crashed) rejects every pending
 * request and every later one.
 */
export class WorkerError extends Error {
  constructor(details) {
    super(details.message);
    this.details = details;
  }
}

export class PythonWorker {
  /* `worker`: a Worker already started (src/boot.js) or a URL to start one from. */
  constructor(worker) {
    this.worker = typeof worker === "string" ? new Worker(worker) : worker;
    this.nextId = 1;
    this.pending = new Map();
    this.failure = this.worker.failure ? { message: this.worker.failure } : null;
    this.onSession = null; // (report, error) => ..., set by the page
    this.worker.onmessage = (message) => this.receive(message.data);
    this.worker.onerror = (error) => {
      // A failure outside any request (e.g. the worker script did not load).
      this.fail({ message: error.message || "the Python worker failed to start" });
    };
  }

  fail(details) {
    this.failure = details;
    for (const { reject } of this.pending.values()) reject(new WorkerError(details));
    this.pending.clear();
  }

  /* Stop the worker (and its Python) for good: a Retry starts a new one. */
  terminate() {
    this.worker.terminate();
    this.fail({ message: "the Python worker was stopped" });
  }

  request(cmd, args = {}, onEvent = null, transfer = []) {
    if (this.failure) return Promise.reject(new WorkerError(this.failure));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ id, cmd, args }, transfer);
    });
  }

  receive(message) {
    if ("session" in message) {
      if (this.onSession) this.onSession(message.session, message.error);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if ("event" in message) {
      if (entry.onEvent) entry.onEvent(message.event);
      return;
    }
    this.pending.delete(message.id);
    if ("error" in message) entry.reject(new WorkerError(message.error));
    else entry.resolve(message.result);
  }
}
