/* The web worker owns Pyodide: the only place Python runs in the browser.
 *
 * Protocol: the page posts {id, cmd, args}; the worker answers with any number of
 * {id, event} messages, then exactly one {id, result} or {id, error}. Besides, while a
 * training run (or its test evaluation) is active, the worker steps the session
 * (nncore.lab.Session.step) in slices of STEP_SECONDS and posts each report as
 * {session: report}; between two slices it serves the page's messages, so Stop, Pause or a
 * drawn digit wait at most one slice.
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
const STEP_SECONDS = 0.05; // Python trains this long per step, then a message can get in
const IDLE_MS = 15; // wait between steps that found nothing to do (a speed limit, paused)
const CONTROLS = new Set(["train", "continue", "step_epoch", "pause", "resume", "stop", "speed"]);

let pyodide = null;
let fileSystem = null;
let dispatch = null; // the Python function `dispatch(command, json) -> json` of bridge.py
let ready = null; // resolves once everything is loaded
let stepping = false; // a step of the session is scheduled

self.onmessage = (message) => {
  const { id, cmd, args } = message.data;
  if (cmd === "init") {
    ready = initialise(id);
    ready.catch((error) => reply(id, { error: readable(error) }));
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
    if (cmd === "predict") return predict(id, args);
    if (cmd === "export") return exportModel(id);
    if (cmd === "import") return importModel(id, args);
    const result = call(cmd, args);
    reply(id, { result });
    if (CONTROLS.has(cmd)) keepStepping(result);
  } catch (error) {
    reply(id, { error: error.details || readable(error) });
  }
}

/* While the session is active, step it; each report goes to the page. */
function keepStepping(report) {
  if (stepping || !active(report)) return;
  stepping = true;
  setTimeout(stepOnce, 0);
}

function active(report) {
  return report.status === "running" || report.status === "evaluating";
}

function stepOnce() {
  stepping = false;
  let report;
  try {
    const started = performance.now();
    report = call("step", { seconds: STEP_SECONDS });
    self.postMessage({ session: report });
    if (!active(report)) return;
    stepping = true;
    // a step that returned at once had nothing to do yet (a speed limit): do not spin
    setTimeout(stepOnce, performance.now() - started < 2 ? IDLE_MS : 0);
  } catch (error) {
    self.postMessage({ session: null, error: error.details || readable(error) });
  }
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
  // args: {bytes: Uint8Array, name, experiment}
  fileSystem.writeFile(`${WORK}/upload.npz`, new Uint8Array(args.bytes));
  reply(id, {
    result: call("import_model", { path: `${WORK}/upload.npz`, name: args.name, experiment: args.experiment }),
  });
}
