/* Inside: every layer's output for the drawn digit (under Draw's answer), and the
 * backpropagation walk for one sample (its own tab). Both only draw what nncore.lab
 * computed in the worker: pictures, the "strip" chart's rows, formulas and numbers. */
import { el, show } from "./dom.js";
import { canvasOf } from "./results.js";

const TILE_PX = 56; // a feature map's size on the page
const DIRECTION_WORDS = { forward: "Forward", loss: "Loss", backward: "Backward" };

/* The Draw tab's views: nncore.lab.inside.activations(network, digit) and its strip rows. */
export function drawLayerViews(app, views, strip) {
  const box = document.getElementById("layer-views");
  const maps = document.getElementById("layer-maps");
  box.hidden = !views || views.length === 0;
  if (box.hidden) return Promise.resolve();
  const stripCard = document.getElementById("card-strip");
  const children = [];
  for (const view of views) {
    if (view.kind === "strip") {
      // one chart holds every flat layer, placed where the first of them comes
      if (!children.includes(stripCard)) children.push(stripCard);
      continue;
    }
    const shape = view.shape.join(" × ");
    const note = view.note ? ` · ${view.note}` : "";
    const head = el("h4", { class: "view-title" }, view.title, el("span", { class: "muted" },
      ` · ${shape}${note}`));
    children.push(view.kind !== "maps"
      ? el("div", { class: "layer-view", "data-layer": view.layer }, head)
      : el("div", { class: "layer-view", "data-layer": view.layer }, head,
        el("div", { class: "tiles" }, ...view.maps.map((picture) => canvasOf(picture, TILE_PX)))));
  }
  if (!children.includes(stripCard)) children.push(stripCard);
  maps.replaceChildren(...children);
  document.getElementById("card-strip").hidden = strip.length === 0;
  return strip.length ? app.charts.strip.replace("strip", strip) : Promise.resolve();
}

/* The Inside tab: choose a model and a sample, then walk the steps with Back / Next. */
export function setupInsidePanel(app) {
  const model = document.getElementById("inside-model");
  const point = document.getElementById("inside-point");
  const digit = document.getElementById("inside-digit");
  const back = document.getElementById("inside-back");
  const next = document.getElementById("inside-next");
  const errorBox = document.getElementById("inside-error");
  let walked = null;
  let position = 0;
  let asked = 0;
  // the numbered field serves test points and test digits: each keeps its own number
  const numbers = {};
  let numbered = null; // the dataset the numbered field shows now

  // the sample chooser on show: an XOR point, or the number of a test point (your model,
  // trained on a 2-D problem) or of a test digit (784 inputs): nncore.lab.backprop.chooser
  const chooser = () => (document.getElementById("inside-digit-field").hidden ? point : digit);

  async function load() {
    if (!app.ready || document.getElementById("panel-inside").hidden) return;
    const request = ++asked;
    const index = Number(chooser().value) || 0;
    if (app.data.loading) {
      // the worker answers once the MNIST digits and the pretrained models are in
      document.getElementById("inside-summary").textContent = "Loading the MNIST digits and the pretrained models…";
    }
    try {
      const answer = await app.worker.request("walk", { model: model.value, experiment: app.experiment, index });
      if (request !== asked) return;
      show(errorBox, "");
      document.getElementById("inside-point-field").hidden = answer.dataset !== "xor";
      const field = document.getElementById("inside-digit-field");
      field.hidden = answer.dataset === "xor";
      if (!field.hidden) {
        field.querySelector("span").textContent = answer.chooser.label;
        digit.max = String(answer.chooser.count - 1);
        if (numbered !== answer.dataset) {
          if (numbered) numbers[numbered] = digit.value;
          digit.value = numbers[answer.dataset] || "0";
          numbered = answer.dataset;
        }
        if (Number(digit.value) > answer.chooser.count - 1) digit.value = String(answer.chooser.count - 1);
      }
      if ((Number(chooser().value) || 0) !== index) return load(); // the other chooser showed up
      walked = answer;
      app.walk = answer;
      position = 0;
    } catch (error) {
      if (request !== asked) return;
      walked = null;
      app.walk = null;
      show(errorBox, error.message);
    }
    render();
  }

  function render() {
    const steps = walked ? walked.steps : [];
    back.disabled = !walked || position === 0;
    next.disabled = !walked || position === steps.length - 1;
    const summary = document.getElementById("inside-summary");
    const check = document.getElementById("inside-check");
    if (!walked) {
      for (const id of ["inside-summary", "inside-check", "inside-step", "inside-formula"]) {
        document.getElementById(id).textContent = "";
      }
      document.getElementById("inside-tensors").replaceChildren();
      return;
    }
    summary.textContent = walked.headline;
    const result = walked.check;
    check.dataset.passed = String(result.passed);
    check.textContent = result.passed === null ? result.sentence
      : `${result.passed ? "✓" : "✗"} ${result.sentence}`;
    const step = steps[position];
    document.getElementById("inside-step").textContent =
      `Step ${position + 1} of ${steps.length} · ${DIRECTION_WORDS[step.direction]} · ${step.title}`;
    document.getElementById("inside-formula").textContent = step.formula;
    document.getElementById("inside-tensors").replaceChildren(...step.tensors.map(tensorView));
    const columns = ["layer", "parameter", "index", "analytic", "numeric", "relative_error"];
    document.getElementById("inside-entries").replaceChildren(
      el("thead", {}, el("tr", {}, ...columns.map((name) => el("th", {}, name.replace("_", " "))))),
      el("tbody", {}, ...result.entries.map((entry) => el("tr", {},
        ...columns.map((name) => el("td", {}, formatCell(entry[name])))))));
  }

  back.addEventListener("click", () => { position = Math.max(0, position - 1); render(); });
  next.addEventListener("click", () => {
    if (walked) position = Math.min(walked.steps.length - 1, position + 1);
    render();
  });
  model.addEventListener("change", () => { walked = null; load(); });
  point.addEventListener("change", load);
  digit.addEventListener("change", load);
  // after the tab switch (main.js) has shown the panel
  document.querySelector('[data-tab="inside"]').addEventListener("click", () => setTimeout(load, 0));
  return { load };
}

function tensorView(item) {
  const box = el("div", { class: "tensor" });
  if (item.shape === null) {
    box.append(el("strong", {}, item.name), ` — ${item.note}`);
    return box;
  }
  box.append(el("div", {}, el("strong", {}, item.name), ` · ${item.shape.join(" × ") || "scalar"}`));
  if (item.values !== null) box.append(valuesView(item.values));
  if (item.picture !== null) {
    const width = Math.min(320, item.picture.width * 6);
    box.append(canvasOf(item.picture, width),
      el("div", { class: "caption" }, `black ${item.picture.low.toPrecision(3)}, white ${item.picture.high.toPrecision(3)}`));
  }
  if (item.stats) {
    const stats = item.stats;
    box.append(el("div", { class: "caption" },
      `min ${stats.min.toPrecision(4)} · max ${stats.max.toPrecision(4)} · mean ${stats.mean.toPrecision(4)} · norm ${stats.norm.toPrecision(4)}${item.note ? " · " + item.note : ""}`));
  }
  return box;
}

/* A small tensor's numbers, ", " between them, each kept whole on its line (a browser
 * would break "3.81e-8" after its minus sign). */
function valuesView(values) {
  const words = JSON.stringify(values).replace(/,/g, ", ").split(" ");
  const parts = [];
  words.forEach((word, index) => {
    if (index) parts.push(" ");
    parts.push(el("span", {}, word));
  });
  return el("pre", { class: "code values" }, ...parts);
}

function formatCell(value) {
  if (typeof value === "number" && !Number.isInteger(value)) return value.toPrecision(4);
  return Array.isArray(value) ? value.join(", ") : String(value);
}
