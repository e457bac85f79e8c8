/* The page's side of the worker protocol: request(cmd, args, onEvent) -> Promise.
 *
 * Out: {id, cmd, args}. In: {id, event} any number of times, then {id, result} or
 * {id, error}. An error rejects with a WorkerError carrying the Python-side details
 * (message, and for a bad layer stack the index of the offending layer).
 * {session: report} messages (the worker stepping the training session) go to `onSession`.
 */
export class WorkerError extends Error {
  constructor(details) {
    super(details.message);
    this.details = details;
  }
}

export class PythonWorker {
  constructor(url) {
    this.worker = new Worker(url);
    this.nextId = 1;
    this.pending = new Map();
    this.onSession = null; // (report, error) => ..., set by the page
    this.worker.onmessage = (message) => this.receive(message.data);
    this.worker.onerror = (error) => {
      // A failure outside any request (e.g. the worker script did not load).
      const details = { message: error.message || "the Python worker failed to start" };
      for (const { reject } of this.pending.values()) reject(new WorkerError(details));
      this.pending.clear();
    };
  }

  request(cmd, args = {}, onEvent = null, transfer = []) {
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
