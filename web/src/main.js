/* The page: wires the panels together and starts the Python worker.
 *
 * The page only renders; every computation is a request to src/worker.js, which runs
 * nncore under Pyodide. `window.nncoreWeb` exposes the page state (for the curious and
 * for the browser tests). */
import { setupBuildPanel } from "./build_panel.js";
import { Chart, loadChartSpecs } from "./charts.js";
import { PythonWorker } from "./client.js";
import { setupDrawPanel } from "./draw_panel.js";
import { readHash } from "./hash.js";
import { setupModelPanel } from "./model_panel.js";
import { setupTrainPanel } from "./train_panel.js";

const DEFAULT_PRESET = "xor";

async function start() {
  const [config, specs] = await Promise.all([
    fetch("config.json").then((response) => response.json()),
    loadChartSpecs(),
  ]);
  // Training settings per preset: nncore.spec.TRAINING and TRAINING_DEFAULTS, exported into
  // config.json by the build, so the page and the Streamlit app start from the same settings.
  const defaults = config.training_defaults;
  const trainingFor = (name) =>
    Object.assign({ size: defaults.train_size, seed: defaults.seed }, config.training[name]);
  const app = {
    config,
    spec: null,
    preset: null,
    ready: false,
    training: false,
    specValid: false,
    model: null,
    history: null,
    lastPrediction: null,
    validationSplit: defaults.validation_split,
    load: {},
    // Plot heights in px; widths follow the cards of the page's grid (style.css).
    charts: {
      loss: new Chart("#chart-loss", specs.loss, 250),
      accuracy: new Chart("#chart-accuracy", specs.accuracy, 250),
      boundary: new Chart("#chart-boundary", specs.boundary, 220),
      confusion: new Chart("#chart-confusion", specs.confusion, 220),
      probabilities: new Chart("#chart-probabilities", specs.probabilities, 180),
    },
    worker: new PythonWorker("src/worker.js"),
  };
  window.nncoreWeb = app;

  const noticeBox = document.getElementById("notice");
  app.notify = (text) => {
    document.getElementById("notice-text").textContent = text;
    noticeBox.hidden = false;
  };
  document.getElementById("notice-close").addEventListener("click", () => { noticeBox.hidden = true; });

  const build = setupBuildPanel(app);
  const train = setupTrainPanel(app);
  const draw = setupDrawPanel(app);
  const model = setupModelPanel(app);
  app.panels = { build, train, draw, model };

  app.specChanged = () => build.refresh();
  app.setSpec = (spec, preset) => {
    app.spec = JSON.parse(JSON.stringify(spec));
    app.preset = preset;
    build.refresh();
  };
  app.loadPreset = (name) => {
    app.setSpec(config.presets[name], name);
    train.applySettings(trainingFor(name));
  };
  app.updateControls = () => {
    train.setEnabled(app.ready && app.specValid, app.training);
  };
  app.modelChanged = (current, preferIt) => {
    app.model = current;
    model.showModel(current);
    draw.setModels(app.pretrained || [], true);
    if (preferIt) draw.useTrained();
  };

  setupTabs();
  model.showModel(null);
  draw.setModels([], false);

  // The network in the URL, if any and readable; else the default preset.
  const fromHash = readHash(location.hash);
  if (fromHash.notice) app.notify(fromHash.notice);
  if (fromHash.spec) {
    app.setSpec(fromHash.spec, null);
    train.applySettings(trainingFor(presetFor(fromHash.spec)));
  } else {
    app.loadPreset(DEFAULT_PRESET);
  }

  const status = document.getElementById("status");
  const started = performance.now();
  try {
    const result = await app.worker.request("init", {}, (event) => loadProgress(app, event));
    app.ready = true;
    app.pretrained = result.data.pretrained;
    app.load.total = (performance.now() - started) / 1000;
    status.textContent = "Ready";
    status.dataset.state = "ready";
    status.title = `Python, NumPy, nncore and data loaded in ${app.load.total.toFixed(1)} s`;
    train.setMnistAvailable(Boolean(result.data.mnist), result.data.mnist_error);
    draw.setModels(app.pretrained, Boolean(app.model));
    if (result.data.pretrained_error) {
      console.warn(result.data.pretrained_error);
      if (!app.pretrained.length) app.notify("The pretrained digit models are not in this build: train an MNIST network to use Draw.");
    }
    build.refresh();
  } catch (error) {
    status.textContent = "Python failed to load";
    status.dataset.state = "failed";
    app.notify(`Python could not start in this browser: ${error.message}`);
  }
}

/* A stack from a link has no preset: train it like the preset whose data its input fits. */
function presetFor(spec) {
  const size = spec.input_shape.reduce((product, side) => product * side, 1);
  return size === 784 ? "mnist-mlp" : "xor";
}

function loadProgress(app, event) {
  if (event.type !== "load") return;
  const item = document.querySelector(`#load-steps [data-step="${event.step}"]`);
  if (event.state === "start") {
    item.dataset.state = "running";
    document.getElementById("status").textContent = `Loading ${event.step}…`;
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
  notice.hidden = false;
});
