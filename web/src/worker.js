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
 * Loading starts the moment the worker does (the page creates it first thing, src/boot.js)
 * and comes in two parts:
 *   boot  Python, NumPy, nncore: what the first view needs. "init" answers when it is done,
 *         with the load events so far replayed, so the page shows progress from the start.
 *   data  the MNIST subset and the pretrained weights (config.json "data_files"), downloaded
 *         once Python's runtime is in (while NumPy and nncore load), given to Python on the
 *         page's "data" request after Ready. A command that needs them (a pretrained model,
 *         an MNIST run, the backprop walk) waits for them, and holds the commands after it.
 * nncore.zip, bridge.py and numpy.data download at once, so on a slow network they overlap
 * with Python's start; Pyodide's own files come as soon as config.json says where it is.
 *
 * Only APIs that Pyodide 0.17 (the offline test runtime) and current releases share are
 * used: loadPyodide, loadPackage, runPython, globals.get, FS (pyodide._module.FS in 0.17).
 */
"use strict";

const SITE = new URL("../", self.location.href); // this file lives in <site>/src/
const WORK = "/home/nncore-web"; // scratch directory inside Pyodide's file system
const LIBRARY = `${WORK}/lib`; // nncore.zip is unpacked here; data files go inside it
const STEP_SECONDS = 0.05; // Python trains this long per step, then a message can get in
const IDLE_MS = 15; // wait between steps that found nothing to do (a speed limit, paused)
const CONTROLS = new Set(["train", "continue", "step_epoch", "pause", "resume", "stop", "speed"]);

let pyodide = null;
let fileSystem = null;
let dispatch = null; // the Python function `dispatch(command, json) -> json` of bridge.py
let stepping = false; // a step of the session is scheduled
let downloads = null; // {path: Promise<Uint8Array>} of the data files, started by boot()
let data = null; // the promise of the data part, once started
const failed = new Set(); // the data files whose download failed
const events = []; // every load event so far, replayed to each "init" request
const listeners = new Set(); // ids of the requests that receive load events
const marks = []; // [name, ms since the worker started]: where the boot's time goes

const booted = boot();
booted.catch(() => {}); // the failure goes to every "init" request, not to the console
let queue = Promise.resolve(); // commands are served in order: one that waits holds the rest

self.onmessage = (message) => {
  const { id, cmd, args } = message.data;
  if (cmd === "init") return answer(id, booted);
  if (cmd === "data") return answer(id, booted.then(() => loadData((args || {}).retry)));
  queue = queue
    .then(() => booted)
    .then(() => (needsData(cmd, args || {}) ? loadData() : null))
    .then(() => handle(id, cmd, args || {}))
    .catch((error) => reply(id, { error: readable(error) }));
};

/* Send `id` the load events so far and those to come, then the promise's outcome. */
function answer(id, promise) {
  for (const event of events) reply(id, { event });
  listeners.add(id);
  promise.then(
    (result) => { listeners.delete(id); reply(id, { result }); },
    (error) => { listeners.delete(id); reply(id, { error: readable(error) }); },
  );
}

function reply(id, body, transfer) {
  self.postMessage(Object.assign({ id }, body), transfer || []);
}

function note(event) {
  events.push(event);
  for (const id of listeners) reply(id, { event });
}

function mark(name) {
  marks.push([name, Math.round(performance.now())]);
}

/* A Python traceback shown to a person is noise: keep its last line ("ValueError: ..."). */
function readable(error) {
  const text = String((error && error.message) || error);
  const lines = text.trim().split("\n").filter((line) => line.trim());
  return { message: lines.length ? lines[lines.length - 1] : "unknown error" };
}

/* One load step: its start and end (or failure) go to the page as load events; a failure
 * names what did not load (`what`). */
async function timed(step, work, what) {
  note({ type: "load", step, state: "start" });
  const start = performance.now();
  let detail;
  try {
    detail = await work();
  } catch (error) {
    const message = `${what || step} did not load: ${readable(error).message}`;
    note({ type: "load", step, state: "failed", message });
    throw new Error(message);
  }
  const seconds = (performance.now() - start) / 1000;
  note({ type: "load", step, state: "done", seconds, detail });
  mark(step);
  return detail;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchText(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return response.text();
}

/* A download started now and awaited later: its failure is reported where it is awaited. */
function started(promise) {
  promise.catch(() => {});
  return promise;
}

/* Python, NumPy and nncore: what the page needs to be Ready. */
async function boot() {
  mark("start");
  // every download at once; each is awaited where it is needed
  const nncoreZip = started(fetchBytes(new URL("nncore.zip", SITE)));
  const bridge = started(fetchText(new URL("src/bridge.py", SITE)));
  const config = JSON.parse(await fetchText(new URL("config.json", SITE)));
  const indexURL = new URL(config.pyodide, SITE).href;
  const preloaded = {}; // URL -> bytes of a Pyodide 0.17 package (Emscripten's file packager)
  for (const name of config.pyodide_preload || []) {
    preloaded[indexURL + name] = started(fetchBytes(indexURL + name));
  }

  const python = await timed("Python", async () => {
    self.importScripts(indexURL + "pyodide.js");
    mark("pyodide.js");
    pyodide = await self.loadPyodide({ indexURL });
    fileSystem = pyodide.FS || pyodide._module.FS;
    fileSystem.mkdirTree(WORK);
    return pyodide.runPython("import sys; sys.version.split()[0]");
  }, `the Pyodide runtime (${config.pyodide})`);
  // the data comes after Ready: its downloads start once Python's own files are in
  downloads = {};
  for (const path of config.data_files || []) downloads[path] = started(fetchBytes(new URL(path, SITE)));
  const numpy = await timed("NumPy", async () => {
    const packages = {};
    for (const [url, promise] of Object.entries(preloaded)) packages[url] = (await promise).buffer;
    if (pyodide._module) {
      // numpy.js asks for numpy.data here first, else downloads it itself
      pyodide._module.getPreloadedPackage = (url) => packages[url] || null;
    }
    await pyodide.loadPackage("numpy");
    mark("numpy package");
    return pyodide.runPython("import numpy; numpy.__version__");
  }, "NumPy");
  let version = null;
  await timed("nncore", async () => {
    fileSystem.writeFile(`${WORK}/nncore.zip`, await nncoreZip);
    mark("nncore.zip");
    pyodide.runPython(await bridge);
    dispatch = pyodide.globals.get("dispatch");
    version = call("setup", { archive: `${WORK}/nncore.zip`, directory: LIBRARY }).nncore;
  });
  // marks are in ms since the worker started, at performance.timeOrigin (epoch ms)
  return { python, numpy, nncore: version, marks, origin: performance.timeOrigin };
}

/* The data files into the unpacked package, then bridge.load_data(); once per worker, or
 * again with `retry`, which downloads the files that failed once more. */
function loadData(retry) {
  if (data && !retry) return data;
  const before = data ? data.catch(() => {}) : Promise.resolve();
  data = before.then(() => timed("data", async () => {
    for (const path of failed) downloads[path] = started(fetchBytes(new URL(path, SITE)));
    failed.clear();
    const missing = [];
    for (const [path, promise] of Object.entries(downloads)) {
      try {
        const bytes = await promise;
        if (bytes === null) continue;
        fileSystem.mkdirTree(`${LIBRARY}/${path.slice(0, path.lastIndexOf("/"))}`);
        fileSystem.writeFile(`${LIBRARY}/${path}`, bytes);
        downloads[path] = Promise.resolve(null); // written: not again on a retry
      } catch (error) {
        missing.push(readable(error).message);
        failed.add(path); // downloaded again on a retry
      }
    }
    const answer = call("load_data", {});
    answer.missing = missing;
    return answer;
  }));
  return data;
}

/* The commands that wait for the data part: a pretrained model, MNIST, the backprop walk. */
function needsData(cmd, args) {
  if (cmd === "predict") return args.model !== "trained";
  if (cmd === "walk") return true;
  if (["train", "continue", "step_epoch"].includes(cmd)) {
    return Boolean(args.experiment && args.experiment.dataset === "mnist");
  }
  return false;
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
