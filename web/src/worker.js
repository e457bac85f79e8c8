/* The web worker owns Pyodide: the only place Python runs in the browser.
 *
 * Protocol: the page posts {id, cmd, args}; the worker answers with any number of
 * {id, event} messages, then exactly one {id, result} or {id, error}.
 * Python answers in JSON text (the same in every Pyodide version); byte arrays (canvas
 * pixels, model files, the 28x28 preview) cross through Pyodide's file system and travel
 * to the page as transferred typed arrays.
 *
 * Only APIs that Pyodide 0.17 (the offline test runtime) and current releases share are
 * used: loadPyodide, loadPackage, runPython, globals.get, FS (pyodide._module.FS in 0.17).
 */
"use strict";

const SITE = new URL("../", self.location.href); // this file lives in <site>/src/
const WORK = "/home/nncore-web"; // scratch directory inside Pyodide's file system
const TICK_SECONDS = 0.05; // Python trains this long per chunk, then Stop can get in

let pyodide = null;
let fileSystem = null;
let dispatch = null; // the Python function `dispatch(command, json) -> json` of bridge.py
let ready = null; // resolves once everything is loaded
let training = null; // {id, stopRequested}

self.onmessage = (message) => {
  const { id, cmd, args } = message.data;
  if (cmd === "init") {
    ready = initialise(id);
    ready.catch((error) => reply(id, { error: readable(error) }));
    return;
  }
  if (cmd === "stop") {
    if (training && !training.stopRequested) {
      training.stopRequested = true;
      training.stopReceived = performance.now();
    }
    reply(id, { result: { stopping: Boolean(training) } });
    return;
  }
  (ready || Promise.reject(new Error("the worker was not initialised")))
    .then(() => handle(id, cmd, args || {}))
    .catch((error) => reply(id, { error: readable(error) }));
};

function reply(id, body, transfer) {
  self.postMessage(Object.assign({ id }, body), transfer || []);
}

/* A Python traceback shown to a person is noise: keep its last line ("ValueError: ..."). */
function readable(error) {
  const text = String((error && error.message) || error);
  const lines = text.trim().split("\n").filter((line) => line.trim());
  return { message: lines.length ? lines[lines.length - 1] : "unknown error" };
}

async function timed(id, step, work) {
  reply(id, { event: { type: "load", step, state: "start" } });
  const start = performance.now();
  const detail = await work();
  const seconds = (performance.now() - start) / 1000;
  reply(id, { event: { type: "load", step, state: "done", seconds, detail } });
  return detail;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function initialise(id) {
  const configResponse = await fetch(new URL("config.json", SITE));
  const config = await configResponse.json();
  const indexURL = new URL(config.pyodide, SITE).href;
  await timed(id, "Python", async () => {
    self.importScripts(indexURL + "pyodide.js");
    pyodide = await self.loadPyodide({ indexURL });
    fileSystem = pyodide.FS || pyodide._module.FS;
    fileSystem.mkdirTree(WORK);
    return pyodide.runPython("import sys; sys.version.split()[0]");
  });
  await timed(id, "NumPy", async () => {
    await pyodide.loadPackage("numpy");
    return pyodide.runPython("import numpy; numpy.__version__");
  });
  await timed(id, "nncore", async () => {
    const [archive, bridge] = await Promise.all([
      fetchBytes(new URL("nncore.zip", SITE)),
      fetch(new URL("src/bridge.py", SITE)).then((response) => response.text()),
    ]);
    fileSystem.writeFile(`${WORK}/nncore.zip`, archive);
    pyodide.runPython(bridge);
    dispatch = pyodide.globals.get("dispatch");
    return call("setup", { archive: `${WORK}/nncore.zip`, directory: `${WORK}/lib` });
  });
  const data = await timed(id, "data", async () => call("load_data", {}));
  reply(id, { result: { ready: true, data } });
}

/* Call bridge.py; a Python-side failure comes back as {"error": {...}} and is thrown. */
function call(command, args) {
  const answer = JSON.parse(dispatch(command, JSON.stringify(args)));
  if (answer.error) {
    const error = new Error(answer.error.message);
    error.details = answer.error;
    throw error;
  }
  return answer.result;
}

function handle(id, cmd, args) {
  try {
    if (cmd === "train") return startTraining(id, args);
    if (cmd === "predict") return predict(id, args);
    if (cmd === "export") return exportModel(id);
    if (cmd === "import") return importModel(id, args);
    reply(id, { result: call(cmd, args) });
  } catch (error) {
    reply(id, { error: error.details || readable(error) });
  }
}

/* Training runs in chunks of about TICK_SECONDS; between chunks the worker yields to its
 * event loop, so a "stop" message (or a prediction) is served within one chunk. */
function startTraining(id, args) {
  if (training) training.stopRequested = true; // a new run replaces the old one
  const info = call("train_start", args); // throws (a readable message) on a bad setup
  const run = { id, stopRequested: false };
  training = run;
  reply(id, { event: { type: "start", info } });
  const tick = () => {
    if (training !== run) return reply(id, { result: { stopped: true, replaced: true } });
    if (run.stopRequested) {
      training = null;
      const result = call("train_stop", {});
      // How long the worker took from the Stop message to a halted run (at most one chunk).
      result.stop_milliseconds = performance.now() - (run.stopReceived || performance.now());
      return finish(id, result);
    }
    let chunk;
    try {
      chunk = call("train_step", { seconds: TICK_SECONDS });
    } catch (error) {
      training = null;
      return reply(id, { error: error.details || readable(error) });
    }
    reply(id, { event: { type: "chunk", chunk } });
    if (chunk.done) {
      training = null;
      return finish(id, call("train_finish", {}));
    }
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
}

function finish(id, result) {
  reply(id, { result });
}

function predict(id, args) {
  // args: {pixels: Uint8ClampedArray RGBA, width, height, model}
  fileSystem.writeFile(`${WORK}/canvas.rgba`, new Uint8Array(args.pixels.buffer));
  const result = call("predict", {
    path: `${WORK}/canvas.rgba`,
    preview: `${WORK}/preview.f32`,
    width: args.width,
    height: args.height,
    model: args.model,
  });
  if (result.digit === null) return reply(id, { result }); // an empty canvas
  const bytes = fileSystem.readFile(`${WORK}/preview.f32`);
  result.preview = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  reply(id, { result }, [bytes.buffer]);
}

function exportModel(id) {
  const info = call("export_model", { path: `${WORK}/model.npz` });
  const bytes = fileSystem.readFile(`${WORK}/model.npz`);
  reply(id, { result: Object.assign(info, { bytes }) }, [bytes.buffer]);
}

function importModel(id, args) {
  // args: {bytes: Uint8Array, name}
  fileSystem.writeFile(`${WORK}/upload.npz`, new Uint8Array(args.bytes));
  reply(id, { result: call("import_model", { path: `${WORK}/upload.npz`, name: args.name }) });
}
