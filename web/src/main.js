/* The page: wires the panels together and starts the Python worker.
 *
 * One state, as in TensorFlow Playground: `app.experiment` (nncore.lab.experiment: the
 * layer stack plus the training settings). Build and Train edit it; Python checks it and
 * turns it into the #e=... link; the worker's nncore.lab.Session trains it. The page only
 * renders what the worker answers. `window.nncoreWeb` exposes this state (for the curious
 * and for the browser tests).
 *
 * Loading: the worker (started by src/boot.js before this module) boots Python, NumPy and
 * nncore; the page is Ready then. The MNIST digits and the pretrained models load after
 * Ready ("data"); until they are in, Draw, Inside and an MNIST run say so and wait. When
 * Python fails to load, the notice says why and offers Retry (a new worker). */
import { setupBuildPanel } from "./build_panel.js";
import { Chart, loadChartSpecs } from "./charts.js";
import { PythonWorker } from "./client.js";
import { setupDrawPanel } from "./draw_panel.js";
import { setupInsidePanel } from "./inside_panel.js";
import { onHashChange, readHash, writeHash } from "./hash.js";
import { setupModelPanel } from "./model_panel.js";
import { drawRows } from "./results.js";
import { setupTrainPanel } from "./train_panel.js";

const ROWS_MS = 150; // at least this long between two redraws of the charts
const copy = (value) => JSON.parse(JSON.stringify(value));

async function start() {
  const [config, specs] = await Promise.all([
    fetch("config.json").then((response) => response.json()),
    loadChartSpecs(),
  ]);
  const app = {
    config,
    experiment: copy(config.experiments[config.default_preset]),
    preset: config.default_preset, // the preset chip shown as chosen (null after an edit)
    problem: undefined, // why the experiment cannot train: null when it can
    link: null,
    ready: false,
    report: null, // the session's latest report
    rows: null, // the rows the charts show, with the session version they were made at
    model: null, // {origin, summary, spec} of the session's model
    lastPrediction: null,
    load: {}, // seconds per load step, and `ready`: seconds from navigation to Ready
    data: { loading: true, pretrained: [], mnist: null }, // the part loaded after Ready
    // Plot heights in px; widths follow the cards of the page's grid (style.css).
    charts: {
      loss: new Chart("#chart-loss", specs.loss, 250),
      accuracy: new Chart("#chart-accuracy", specs.accuracy, 250),
      boundary: new Chart("#chart-boundary", specs.boundary, 220),
      confusion: new Chart("#chart-confusion", specs.confusion, 220),
      probabilities: new Chart("#chart-probabilities", specs.probabilities, 180),
      strip: new Chart("#chart-strip", specs.strip),
      hidden: new Chart("#chart-hidden", specs.hidden),
    },
    worker: null,
  };
  window.nncoreWeb = app;

  const noticeBox = document.getElementById("notice");
  const retryButton = document.getElementById("notice-retry");
  let retry = null;
  /* A notice above the page; with `onRetry` it carries a Retry button. */
  app.notify = (text, onRetry) => {
    document.getElementById("notice-text").textContent = text;
    retry = onRetry || null;
    retryButton.hidden = !retry;
    noticeBox.hidden = false;
  };
  document.getElementById("notice-close").addEventListener("click", () => { noticeBox.hidden = true; });
  retryButton.addEventListener("click", () => {
    noticeBox.hidden = true;
    if (retry) retry();
  });

  const build = setupBuildPanel(app);
  const train = setupTrainPanel(app);
  const draw = setupDrawPanel(app);
  const model = setupModelPanel(app);
  const inside = setupInsidePanel(app);
  app.panels = { build, train, draw, model, inside };

  /* ---- the experiment ---- */

  app.setExperiment = (experiment, preset) => {
    app.experiment = copy(experiment);
    app.preset = preset || null;
    build.render();
    train.showExperiment();
    app.experimentChanged({});
  };
  app.loadPreset = (name) => app.setExperiment(config.experiments[name], name);

  let described = 0; // the latest description asked for: older answers are ignored
  app.experimentChanged = async ({ settings }) => {
    if (settings) train.showExperiment();
    app.problem = undefined;
    train.setEnabled();
    if (!app.ready) return;
    const request = ++described;
    const answer = await app.worker.request("describe", { experiment: app.experiment });
    if (request !== described) return;
    app.problem = answer.problem;
    app.link = answer.link;
    build.showValidation(answer);
    // a layer's own error shows in its box; anything else (a setting, a stack that does
    // not fit the data) above the Train buttons too
    const problem = answer.problem;
    const atLayer = problem && problem.index !== undefined && problem.index !== null;
    train.showError(problem && !atLayer ? problem.message : "");
    if (answer.link) writeHash(answer.link);
    train.setEnabled();
    model.showCode();
  };

  /* An experiment from a link: Python reads it (bounded, checked) once it is loaded. */
  async function openLink({ text, notice }) {
    if (notice) app.notify(notice);
    if (!text) return false;
    try {
      app.setExperiment(await app.worker.request("decode", { text }), null);
      return true;
    } catch (error) {
      app.notify(`The experiment in this link could not be read (${error.message}); showing the XOR preset instead.`);
      return false;
    }
  }
  const fromHash = readHash(location.hash);
  if (fromHash.notice) app.notify(fromHash.notice);
  onHashChange((link) => { if (app.ready) openLink(link); });

  /* ---- the session ---- */

  let rowsBusy = false;
  let lastDrawn = 0;
  let renderMs = 0;
  /* Fetch and draw the rows when the session moved on: one request at a time, and never
   * more often than the charts can be drawn, so the page stays responsive. */
  function followRows() {
    if (rowsBusy || !app.report || (app.rows && app.rows.version >= app.report.version)) return;
    rowsBusy = true;
    const wait = Math.max(0, lastDrawn + Math.max(ROWS_MS, 2 * renderMs) - performance.now());
    setTimeout(async () => {
      try {
        const rows = await app.worker.request("rows");
        const started = performance.now();
        await drawRows(app, rows);
        app.rows = rows;
        renderMs = performance.now() - started;
      } catch (error) {
        train.showError(error.message);
      } finally {
        lastDrawn = performance.now();
        rowsBusy = false;
        followRows();
      }
    }, wait);
  }

  app.showReport = (report) => {
    const before = app.report;
    app.report = report;
    train.showReport(report);
    followRows();
    const ended = report.status === "finished" && before && before.status !== "finished";
    // Draw offers a digit network just trained here or imported first, once each
    // (Session.drawing_offer: nncore.lab's rule, as in the Streamlit app)
    if (report.drawing_offer !== null && report.drawing_offer !== app.drawingOffer) {
      app.drawingOffer = report.drawing_offer;
      app.offerTrained = true;
    }
    if (ended || (before && before.status === "idle" && report.status !== "idle")) app.refreshModel();
    if (ended) model.showCode(); // the last run's final loss, under the script
  };
  function useWorker(worker) {
    app.worker = new PythonWorker(worker);
    app.worker.onSession = (report, error) => {
      if (report) app.showReport(report);
      else if (error) train.showError(error.message);
    };
  }

  app.refreshModel = async () => {
    const answer = await app.worker.request("model_info");
    app.model = answer.model;
    model.showModel(app.model);
    draw.setModels(app.pretrained || [], Boolean(app.model), app.data.loading);
    if (app.offerTrained && app.model) {
      app.offerTrained = false;
      draw.useTrained();
    }
    train.setEnabled();
  };

  setupTabs();
  model.showModel(null);
  draw.setModels([], false);
  build.render();
  train.showExperiment();
  train.setEnabled();

  /* ---- loading: Python first (then Ready), the data after ---- */

  const status = document.getElementById("status");
  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  async function loadPython() {
    setStatus("Loading Python…", "loading");
    document.querySelectorAll("#load-steps li").forEach((item) => {
      item.dataset.state = "waiting";
      item.textContent = item.dataset.step;
    });
    try {
      const boot = await app.worker.request("init", {}, (event) => loadProgress(app, event));
      app.ready = true;
      app.load.marks = boot.marks.map(([name, ms]) => [name, (boot.origin + ms - performance.timeOrigin) / 1000]);
      const linked = await openLink({ text: fromHash.text, notice: null });
      if (!linked) app.experimentChanged({});
      app.showReport(await app.worker.request("speed", { name: document.getElementById("speed").value }));
    } catch (error) {
      setStatus("Load failed", "failed");
      document.getElementById("summary").replaceChildren(Object.assign(document.createElement("p"),
        { className: "muted", textContent: "Python did not load: press Retry above." }));
      app.notify(`Python could not be loaded: ${error.message}. Check the connection, then press Retry.`, () => {
        app.worker.terminate();
        useWorker("src/worker.js");
        loadPython();
      });
      return;
    }
    app.load.ready = performance.now() / 1000; // since navigation started
    setStatus("Ready", "ready");
    status.title = `Python, NumPy and nncore loaded; Ready ${app.load.ready.toFixed(1)} s after the page opened`;
    draw.readPending();
    loadData();
  }

  /* The MNIST digits and the pretrained models, after Ready; a file that did not download
   * is downloaded again by the notice's Retry. */
  async function loadData(retry) {
    app.data = { loading: true, pretrained: [], mnist: null };
    draw.setModels([], Boolean(app.model), true);
    let answer;
    try {
      answer = await app.worker.request("data", { retry: Boolean(retry) }, (event) => loadProgress(app, event));
    } catch (error) {
      answer = { pretrained: [], mnist: null, mnist_error: `MNIST is unavailable (${error.message})`,
                 pretrained_error: error.message, missing: [] };
    }
    app.data = { loading: false, pretrained: answer.pretrained, mnist: answer.mnist };
    app.pretrained = answer.pretrained;
    const mnistOption = document.querySelector('#dataset option[value="mnist"]');
    mnistOption.disabled = !answer.mnist;
    mnistOption.textContent = mnistOption.textContent.replace(" (unavailable)", "") + (answer.mnist ? "" : " (unavailable)");
    draw.setModels(app.pretrained, Boolean(app.model), false);
    const again = answer.missing.length ? () => loadData(true) : null;
    if (answer.missing.length) console.warn(answer.missing.join("; "));
    if (!answer.mnist) app.notify(answer.mnist_error, again);
    if (answer.pretrained_error) {
      console.warn(answer.pretrained_error);
      const models = app.pretrained.length ? "Some pretrained digit models" : "The pretrained digit models";
      if (answer.mnist) app.notify(`${models} did not load (${answer.pretrained_error}).`, again);
    }
  }

  setupTabs();
  model.showModel(null);
  draw.setModels([], false, true);
  build.render();
  train.showExperiment();
  train.setEnabled();
  useWorker(window.nncorePython || "src/worker.js");
  await loadPython();
}

function loadProgress(app, event) {
  if (event.type !== "load") return;
  const item = document.querySelector(`#load-steps [data-step="${event.step}"]`);
  if (event.state === "failed") {
    item.dataset.state = "failed";
    item.textContent = `${event.step} failed`;
  } else if (event.state === "start") {
    item.dataset.state = "running";
    item.textContent = `${event.step}…`;
    if (!app.ready) document.getElementById("status").textContent = `Loading ${event.step}…`;
  } else {
    item.dataset.state = "done";
    app.load[event.step] = event.seconds;
    const detail = typeof event.detail === "string" ? ` ${event.detail}` : "";
    item.textContent = `${event.step}${detail} ${event.seconds.toFixed(1)} s`;
  }
}

function setupTabs() {
  const tabs = document.querySelectorAll("[data-tab]");
  tabs.forEach((tab) => {
    tab.addEventListener("click", () => {
      tabs.forEach((other) => other.setAttribute("aria-selected", String(other === tab)));
      document.querySelectorAll("[data-panel]").forEach((panel) => {
        panel.hidden = panel.dataset.panel !== tab.dataset.tab;
      });
    });
  });
}

start().catch((error) => {
  const status = document.getElementById("status");
  status.textContent = "The page failed to start";
  status.dataset.state = "failed";
  const notice = document.getElementById("notice");
  document.getElementById("notice-text").textContent = `This build is incomplete: ${error.message}`;
  const retry = document.getElementById("notice-retry");
  retry.hidden = false;
  retry.onclick = () => location.reload(); // nothing of the page is up: load it again
  notice.hidden = false;
});
