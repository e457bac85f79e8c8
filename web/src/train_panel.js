/* Train: the settings, Train / Stop, and the live charts fed by the worker's events.
 *
 * The worker posts one "chunk" event per ~50 ms of training ({epochs, batches, boundary?});
 * rows for the charts are collected and flushed to Vega at most every FLUSH_MS. */
import { el, formatLoss, formatNumber, show } from "./dom.js";

const FLUSH_MS = 120; // at least this long between chart updates, more if rendering is slow
const MAX_LOSS_ROWS = 1200; // past this the loss chart keeps every other row (long runs)
const XOR_POINTS = [
  { x1: 0, x2: 0, label: 0 }, { x1: 0, x2: 1, label: 1 },
  { x1: 1, x2: 0, label: 1 }, { x1: 1, x2: 1, label: 0 },
];

/* Every other row of each series, always keeping each series' last row. */
function thin(rows) {
  const seen = {};
  const lastOf = {};
  rows.forEach((row, index) => { lastOf[row.series] = index; });
  return rows.filter((row, index) => {
    seen[row.series] = (seen[row.series] || 0) + 1;
    return seen[row.series] % 2 === 1 || index === lastOf[row.series];
  });
}

export function setupTrainPanel(app) {
  const form = document.getElementById("train-form");
  const fields = {
    dataset: document.getElementById("dataset"),
    size: document.getElementById("size"),
    loss: document.getElementById("loss"),
    optimizer: document.getElementById("optimizer"),
    lr: document.getElementById("lr"),
    batch_size: document.getElementById("batch-size"),
    epochs: document.getElementById("epochs"),
    seed: document.getElementById("seed"),
  };
  const optimizerOptions = document.getElementById("optimizer-options");
  const trainButton = document.getElementById("train");
  const stopButton = document.getElementById("stop");
  const status = document.getElementById("train-status");
  const errorBox = document.getElementById("train-error");
  const testAccuracy = document.getElementById("test-accuracy");

  for (const loss of app.config.losses) fields.loss.append(el("option", { value: loss }, loss));
  for (const name of Object.keys(app.config.optimizers)) {
    fields.optimizer.append(el("option", { value: name }, name));
  }
  fields.optimizer.addEventListener("change", () => renderOptimizerOptions({}));
  fields.dataset.addEventListener("change", layoutForDataset);

  function renderOptimizerOptions(values) {
    optimizerOptions.replaceChildren();
    const defaults = app.config.optimizers[fields.optimizer.value] || {};
    for (const [name, fallback] of Object.entries(defaults)) {
      const value = name in values ? values[name] : fallback;
      optimizerOptions.append(el("label", { class: "field small" }, el("span", {}, name.replace("_", " ")),
        el("input", { type: "number", step: "any", value: String(value), "data-option": name })));
    }
  }

  function layoutForDataset() {
    const mnist = fields.dataset.value === "mnist";
    document.getElementById("size-field").hidden = !mnist;
    document.getElementById("card-boundary").hidden = mnist;
    document.getElementById("card-confusion").hidden = !mnist;
  }

  /* Fill the form with a preset's training settings. */
  function applySettings(settings) {
    for (const [name, field] of Object.entries(fields)) {
      if (name in settings) field.value = String(settings[name]);
    }
    renderOptimizerOptions(settings.options || {});
    layoutForDataset();
  }

  function readSettings() {
    const options = {};
    optimizerOptions.querySelectorAll("input").forEach((input) => {
      options[input.dataset.option] = Number(input.value);
    });
    const number = (field, name, integer) => {
      const value = Number(field.value);
      if (field.value.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
        throw new Error(`${name} must be ${integer ? "a whole number" : "a number"}`);
      }
      return value;
    };
    return {
      dataset: fields.dataset.value,
      size: number(fields.size, "The number of training digits", true),
      loss: fields.loss.value,
      optimizer: fields.optimizer.value,
      options,
      lr: number(fields.lr, "The learning rate"),
      batch_size: number(fields.batch_size, "The batch size", true),
      epochs: number(fields.epochs, "Epochs", true),
      seed: number(fields.seed, "The seed", true),
      validation_split: app.validationSplit,
    };
  }

  /* ---- one run ---- */
  let pending = null; // chart rows waiting for the next flush
  let flushTimer = null;

  function resetCharts(dataset) {
    app.history = { epochs: [], batches: [], boundary: null, result: null };
    pending = { loss: [], accuracy: [], grid: null };
    app.charts.loss.replace("loss", []);
    app.charts.accuracy.replace("accuracy", []);
    app.charts.boundary.replace("grid", []);
    app.charts.boundary.replace("points", dataset === "xor" ? XOR_POINTS : []);
    app.charts.confusion.replace("confusion", []);
    testAccuracy.textContent = "";
  }

  let renderMs = 0; // how long the last chart update took to draw

  function flush() {
    flushTimer = null;
    const started = performance.now();
    const shown = app.charts.loss.rows.loss || [];
    if (shown.length + pending.loss.length > MAX_LOSS_ROWS) {
      app.charts.loss.replace("loss", thin(shown.concat(pending.loss)));
    } else if (pending.loss.length) {
      app.charts.loss.append("loss", pending.loss);
    }
    if (pending.accuracy.length) app.charts.accuracy.append("accuracy", pending.accuracy);
    const last = pending.grid ? app.charts.boundary.replace("grid", pending.grid) : app.charts.loss.queue;
    pending = { loss: [], accuracy: [], grid: null };
    Promise.all([app.charts.loss.queue, last]).then(() => { renderMs = performance.now() - started; });
  }

  /* Keep the page responsive (Stop must be clickable): wait at least twice as long as the
   * last update took to draw. */
  function scheduleFlush() {
    if (!flushTimer) flushTimer = setTimeout(flush, Math.max(FLUSH_MS, 2 * renderMs));
  }

  function receive(event, run) {
    if (event.type === "start") {
      run.info = event.info;
      status.textContent = `Training on ${formatNumber(event.info.samples)} samples…`;
      return;
    }
    const chunk = event.chunk;
    for (const [step, loss] of chunk.batches) {
      app.history.batches.push([step, loss]);
      if (loss !== null && run.showBatches) pending.loss.push({ step, loss, series: "batch" });
    }
    for (const epoch of chunk.epochs) {
      app.history.epochs.push(epoch);
      if (epoch.loss !== null) pending.loss.push({ step: epoch.epoch, loss: epoch.loss, series: "train" });
      if (epoch.val_loss !== null && epoch.val_loss !== undefined) {
        pending.loss.push({ step: epoch.epoch, loss: epoch.val_loss, series: "validation" });
      }
      if (epoch.accuracy !== null && epoch.accuracy !== undefined) {
        pending.accuracy.push({ epoch: epoch.epoch, accuracy: epoch.accuracy, series: "train" });
      }
      if (epoch.val_accuracy !== null && epoch.val_accuracy !== undefined) {
        pending.accuracy.push({ epoch: epoch.epoch, accuracy: epoch.val_accuracy, series: "validation" });
      }
    }
    if (chunk.boundary) {
      const { x1, x2, output } = chunk.boundary;
      pending.grid = output.map((value, index) => ({ x1: x1[index], x2: x2[index], output: value }));
      app.history.boundary = pending.grid;
    }
    for (const notice of chunk.notices) show(errorBox, notice);
    const last = app.history.epochs[app.history.epochs.length - 1];
    if (last) {
      const seconds = ((performance.now() - run.started) / 1000).toFixed(1);
      let text = `Epoch ${last.epoch} / ${last.epochs} · loss ${formatLoss(last.loss)}`;
      if (last.val_loss !== null && last.val_loss !== undefined) text += ` · validation ${formatLoss(last.val_loss)}`;
      if (last.accuracy !== null && last.accuracy !== undefined) text += ` · accuracy ${(100 * last.accuracy).toFixed(1)}%`;
      status.textContent = `${text} · ${seconds} s`;
    }
    scheduleFlush();
  }

  async function train(submitEvent) {
    submitEvent.preventDefault();
    show(errorBox, "");
    let settings;
    try {
      settings = readSettings();
    } catch (error) {
      show(errorBox, error.message);
      return;
    }
    resetCharts(settings.dataset);
    layoutForDataset();
    const run = { started: performance.now(), info: null, showBatches: settings.dataset === "mnist" };
    app.training = true;
    app.updateControls();
    status.textContent = "Starting…";
    try {
      const result = await app.worker.request("train", { spec: app.spec, settings }, (event) => receive(event, run));
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      app.history.result = result;
      app.history.seconds = (performance.now() - run.started) / 1000;
      finished(result, run);
    } catch (error) {
      if (flushTimer) clearTimeout(flushTimer);
      show(errorBox, error.message);
      status.textContent = "Training did not run.";
    } finally {
      app.training = false;
      app.updateControls();
    }
  }

  function finished(result, run) {
    if (result.replaced) return;
    const last = app.history.epochs[app.history.epochs.length - 1];
    const seconds = app.history.seconds.toFixed(1);
    const loss = last ? ` · loss ${formatLoss(last.loss)}` : "";
    const epochs = `${result.epochs_done} epoch${result.epochs_done === 1 ? "" : "s"}`;
    status.textContent = result.stopped ? `Stopped after ${epochs}${loss} · ${seconds} s`
      : `Done: ${epochs}${loss} · ${seconds} s`;
    if (result.test_accuracy !== undefined) {
      testAccuracy.replaceChildren(
        el("span", { class: "value", id: "test-accuracy-value" }, `${(100 * result.test_accuracy).toFixed(1)}%`),
        el("span", { class: "muted" }, ` test accuracy on ${formatNumber(result.test_samples)} held-out digits`));
      app.charts.confusion.replace("confusion", result.confusion);
    }
    if (run.info) app.modelChanged({ origin: "trained here", summary: run.info.summary });
  }

  form.addEventListener("submit", train);
  stopButton.addEventListener("click", () => {
    stopButton.disabled = true;
    status.textContent = "Stopping…";
    app.worker.request("stop");
  });

  return {
    applySettings,
    setEnabled(ready, training) {
      trainButton.disabled = !ready || training;
      stopButton.disabled = !training;
    },
    setMnistAvailable(available, message) {
      const option = fields.dataset.querySelector('option[value="mnist"]');
      option.disabled = !available;
      if (!available) option.textContent = "MNIST digits (unavailable)";
      if (!available && fields.dataset.value === "mnist") {
        fields.dataset.value = "xor";
        layoutForDataset();
      }
      if (!available && message) app.notify(message);
    },
  };
}
