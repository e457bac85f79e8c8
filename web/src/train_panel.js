/* Train: the experiment's training settings, the run's controls and where the run stands.
 *
 * Every control is one call into the worker's nncore.lab.Session (train, continue, pause,
 * resume, step_epoch, stop, speed); the worker then steps the session and posts a report
 * after each slice, which `showReport` draws. Nothing about a run is decided here. */
import { el, show } from "./dom.js";

const ACTIVE = new Set(["running", "paused", "evaluating"]);

export function setupTrainPanel(app) {
  const config = app.config;
  const form = document.getElementById("train-form");
  const fields = {};
  form.querySelectorAll("[data-setting]").forEach((field) => { fields[field.dataset.setting] = field; });
  const optimizerOptions = document.getElementById("optimizer-options");
  const buttons = {
    train: document.getElementById("train"),
    continue: document.getElementById("continue"),
    pause: document.getElementById("pause"),
    step: document.getElementById("step"),
    stop: document.getElementById("stop"),
  };
  const speed = document.getElementById("speed");
  const status = document.getElementById("train-status");
  const progress = document.getElementById("train-progress");
  const verdict = document.getElementById("verdict");
  const errorBox = document.getElementById("train-error");

  const choices = (select, entries) => {
    for (const [value, label] of entries) select.append(el("option", { value }, label));
  };
  choices(fields.dataset, config.datasets);
  choices(fields.loss, config.losses.map((name) => [name, name]));
  choices(fields.optimizer, Object.keys(config.optimizers).map((name) => [name, name]));
  choices(speed, config.speeds.map((name) => [name, name]));
  speed.value = config.default_speed;

  /* ---- the settings: each field writes one setting of app.experiment ---- */

  function read(field) {
    if (field.tagName === "SELECT") return field.value;
    const text = field.value.trim();
    const number = Number(text);
    // a text that is no number goes to Python as it is: its check says what is wrong
    return text !== "" && Number.isFinite(number) ? number : text;
  }

  for (const [setting, field] of Object.entries(fields)) {
    field.addEventListener("change", () => {
      app.experiment[setting] = read(field);
      if (setting === "optimizer") {
        // a new optimizer starts from its own textbook learning rate and options
        app.experiment.lr = config.default_lr[field.value];
        app.experiment.options = Object.assign({}, config.optimizers[field.value]);
      }
      app.experimentChanged({ settings: setting === "optimizer" || setting === "dataset" });
    });
  }

  function renderOptimizerOptions() {
    const experiment = app.experiment;
    const defaults = config.optimizers[experiment.optimizer] || {};
    optimizerOptions.replaceChildren();
    for (const [name, fallback] of Object.entries(defaults)) {
      const value = experiment.options && name in experiment.options ? experiment.options[name] : fallback;
      const input = el("input", { type: "number", step: "any", value: String(value), "data-option": name });
      input.addEventListener("change", () => {
        app.experiment.options = Object.assign({}, app.experiment.options, { [name]: read(input) });
        app.experimentChanged({});
      });
      optimizerOptions.append(el("label", { class: "field small" }, el("span", {}, name.replace("_", " ")), input));
    }
  }

  /* Fill the form from app.experiment (a preset, a link, an imported model). */
  function showExperiment() {
    for (const [setting, field] of Object.entries(fields)) {
      if (setting in app.experiment) field.value = String(app.experiment[setting]);
    }
    const mnist = app.experiment.dataset === "mnist";
    document.getElementById("size-field").hidden = !mnist;
    document.getElementById("validation-field").hidden = !mnist;
    const plane = config.plane_datasets.includes(app.experiment.dataset);
    document.querySelectorAll(".plane-field").forEach((field) => { field.hidden = !plane; });
    renderOptimizerOptions();
  }

  /* ---- the controls ---- */

  async function control(command) {
    show(errorBox, "");
    try {
      // the commands that start or continue a run train the experiment as it stands
      const starts = ["train", "continue", "step_epoch"].includes(command);
      if (starts && app.experiment.dataset === "mnist" && app.data.loading) {
        status.textContent = "Loading the MNIST digits first…"; // the worker waits for them
      }
      const report = await app.worker.request(command, starts ? { experiment: app.experiment } : {});
      app.showReport(report);
      app.refreshModel();
    } catch (error) {
      show(errorBox, error.message);
    }
  }

  buttons.train.addEventListener("click", () => control("train"));
  buttons.continue.addEventListener("click", () => control("continue"));
  buttons.step.addEventListener("click", () => control("step_epoch"));
  buttons.stop.addEventListener("click", () => control("stop"));
  buttons.pause.addEventListener("click", () => {
    control(app.report && app.report.status === "paused" ? "resume" : "pause");
  });
  speed.addEventListener("change", async () => {
    try {
      app.showReport(await app.worker.request("speed", { name: speed.value }));
    } catch (error) {
      show(errorBox, error.message);
    }
  });

  /* Buttons follow the session: what can be done from where the run stands. */
  function setEnabled() {
    const report = app.report || { status: "idle" };
    const valid = app.ready && app.problem === null;
    const running = report.status === "running" || report.status === "paused";
    buttons.train.disabled = !valid;
    buttons.continue.disabled = !valid || !app.model || running;
    buttons.pause.disabled = !app.ready || !running;
    buttons.pause.textContent = report.status === "paused" ? "Resume" : "Pause";
    buttons.step.disabled = !app.ready || (!valid && !running);
    buttons.stop.disabled = !app.ready || !ACTIVE.has(report.status);
    speed.disabled = !app.ready;
  }

  function showReport(report) {
    status.textContent = report.text;
    status.dataset.status = report.status;
    const moving = report.progress !== null && report.status !== "finished";
    progress.hidden = !moving;
    if (moving) progress.value = report.progress;
    const judged = report.verdict;
    verdict.hidden = !judged;
    if (judged) {
      verdict.dataset.kind = judged.kind;
      verdict.textContent = judged.title + (judged.advice ? " " + judged.advice : "");
    }
    setEnabled();
  }

  return { showExperiment, showReport, setEnabled, showError: (text) => show(errorBox, text) };
}
