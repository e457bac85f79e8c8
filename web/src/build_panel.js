/* Build: presets, the layer stack editor, live validation by nncore and the summary table.
 *
 * The stack is app.spec ({input_shape, layers}); every edit re-validates it in Python
 * (Network.from_spec), shows the SpecError next to the offending layer, and writes the
 * stack into the URL hash. */
import { el, formatShape, formatNumber } from "./dom.js";
import { writeHash } from "./hash.js";

const ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"];
const CHOICES = { activation: [null, ...ACTIVATIONS], padding: ["valid", "same"] };
const LAYER_HINTS = {
  dense: "fully connected: y = x W + b",
  conv2d: "2-D convolution over (height, width, channels)",
  maxpool2d: "largest value in each pool",
  flatten: "(h, w, c) -> (h·w·c)",
  dropout: "zeroes inputs at random while training",
  relu: "max(x, 0)",
  leaky_relu: "x if x > 0 else αx",
  sigmoid: "1 / (1 + e^-x)",
  tanh: "tanh(x)",
  softmax: "probabilities that sum to 1",
};

export function setupBuildPanel(app) {
  const layerList = document.getElementById("layers");
  const inputShape = document.getElementById("input-shape");
  const newType = document.getElementById("new-layer-type");
  const specError = document.getElementById("spec-error");
  const summary = document.getElementById("summary");
  let validation = 0; // latest request number: older answers are ignored

  for (const type of Object.keys(app.config.layer_options)) {
    newType.append(el("option", { value: type }, type));
  }
  newType.value = "dense";

  document.querySelectorAll("[data-preset]").forEach((button) => {
    button.addEventListener("click", () => app.loadPreset(button.dataset.preset));
  });
  document.getElementById("add-layer").addEventListener("click", () => {
    const type = newType.value;
    app.spec.layers.push(Object.assign({ type }, app.config.layer_options[type]));
    changed();
  });
  inputShape.addEventListener("change", () => {
    const parts = inputShape.value.split(/[\s,x×()[\]]+/).filter(Boolean);
    app.spec.input_shape = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    changed();
  });
  document.getElementById("copy-link").addEventListener("click", async () => {
    writeHash(app.spec);
    try {
      await navigator.clipboard.writeText(location.href);
      app.notify("Link copied: it opens this network.");
    } catch (error) {
      app.notify("Copy this page's address to share the network.");
    }
  });

  function changed() {
    app.preset = null;
    markPreset();
    app.specChanged();
  }

  function markPreset() {
    document.querySelectorAll("[data-preset]").forEach((button) => {
      button.classList.toggle("active", button.dataset.preset === app.preset);
    });
  }

  function move(index, offset) {
    const target = index + offset;
    if (target < 0 || target >= app.spec.layers.length) return;
    const layers = app.spec.layers;
    [layers[index], layers[target]] = [layers[target], layers[index]];
    changed();
  }

  function optionInput(layer, name, fallback) {
    const value = name in layer ? layer[name] : fallback;
    let input;
    if (CHOICES[name]) {
      input = el("select", {});
      for (const choice of CHOICES[name]) {
        input.append(el("option", { value: choice === null ? "" : choice }, choice === null ? "none" : choice));
      }
      input.value = value === null || value === undefined ? "" : String(value);
      input.addEventListener("change", () => {
        layer[name] = input.value === "" ? null : input.value;
        changed();
      });
    } else {
      const numeric = typeof fallback === "number";
      input = el("input", {
        type: "text",
        inputmode: numeric ? "decimal" : "text",
        value: Array.isArray(value) ? value.join(", ") : String(value),
        size: 5,
        spellcheck: "false",
      });
      input.addEventListener("change", () => {
        layer[name] = parseOption(input.value, fallback);
        changed();
      });
    }
    input.dataset.option = name;
    return el("label", { class: "option" }, el("span", {}, name.replace("_", " ")), input);
  }

  function renderLayers() {
    inputShape.value = app.spec.input_shape.join(", ");
    layerList.replaceChildren();
    app.spec.layers.forEach((layer, index) => {
      const type = el("select", { class: "layer-type", "aria-label": `Layer ${index} type` });
      for (const name of Object.keys(app.config.layer_options)) {
        type.append(el("option", { value: name }, name));
      }
      if (!(layer.type in app.config.layer_options)) {
        type.append(el("option", { value: layer.type }, layer.type));
      }
      type.value = layer.type;
      type.addEventListener("change", () => {
        app.spec.layers[index] = Object.assign({ type: type.value }, app.config.layer_options[type.value]);
        changed();
      });
      const defaults = app.config.layer_options[layer.type] || {};
      const names = Object.keys(defaults).concat(Object.keys(layer).filter((k) => k !== "type" && !(k in defaults)));
      const options = names.map((name) => optionInput(layer, name, defaults[name]));
      const button = (label, title, action, disabled) => {
        const node = el("button", { type: "button", class: "icon", title, "aria-label": title }, label);
        node.disabled = disabled;
        node.addEventListener("click", action);
        return node;
      };
      const last = app.spec.layers.length - 1;
      layerList.append(
        el("li", { class: "layer", "data-index": index, "data-type": layer.type },
          el("div", { class: "layer-head" },
            el("span", { class: "layer-index" }, String(index)),
            type,
            el("span", { class: "layer-shape", "data-shape": index }, ""),
            el("span", { class: "spacer" }),
            button("↑", "Move up", () => move(index, -1), index === 0),
            button("↓", "Move down", () => move(index, 1), index === last),
            button("✕", "Remove layer", () => { app.spec.layers.splice(index, 1); changed(); }, last === 0)),
          options.length ? el("div", { class: "layer-options" }, ...options)
            : el("div", { class: "layer-hint" }, LAYER_HINTS[layer.type] || ""),
          el("div", { class: "layer-error", role: "alert", hidden: true })));
    });
  }

  function showError(details) {
    const index = details.index;
    const card = index === null || index === undefined ? null : layerList.querySelector(`[data-index="${index}"]`);
    if (card) {
      card.classList.add("invalid");
      const box = card.querySelector(".layer-error");
      box.textContent = details.reason || details.message;
      box.hidden = false;
      specError.hidden = true;
    } else {
      specError.textContent = details.reason || details.message;
      specError.hidden = false;
    }
    summary.replaceChildren(el("p", { class: "muted" }, "Fix the stack to see its summary."));
  }

  function showSummary(result) {
    specError.hidden = true;
    result.rows.forEach((row) => {
      const shape = layerList.querySelector(`[data-shape="${row.index}"]`);
      if (shape) shape.textContent = "→ " + formatShape(row.output_shape);
    });
    const table = el("table", { class: "summary-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "layer"), el("th", {}, "output shape"), el("th", { class: "number" }, "parameters"))),
      el("tbody", {},
        el("tr", { class: "input-row" }, el("td", {}, ""), el("td", {}, "input"), el("td", {}, formatShape(result.input_shape)), el("td", { class: "number" }, "")),
        ...result.rows.map((row) => el("tr", {},
          el("td", {}, String(row.index)), el("td", { title: row.layer }, row.type), el("td", {}, formatShape(row.output_shape)),
          el("td", { class: "number" }, formatNumber(row.parameters))))),
      el("tfoot", {}, el("tr", {}, el("td", {}, ""), el("td", { colspan: 2 }, "total"), el("td", { class: "number" }, formatNumber(result.parameters)))));
    summary.replaceChildren(table);
  }

  /* Called after every change of app.spec (edits, presets, imports, the URL). */
  async function refresh() {
    markPreset();
    renderLayers();
    writeHash(app.spec);
    app.specValid = false;
    if (!app.ready) return;
    const request = ++validation;
    try {
      const result = await app.worker.request("validate", { spec: app.spec });
      if (request !== validation) return;
      app.specValid = true;
      app.specSummary = result;
      showSummary(result);
    } catch (error) {
      if (request !== validation) return;
      app.specSummary = null;
      showError(error.details || { message: error.message });
    }
    app.updateControls();
  }

  return { refresh, markPreset };
}

/* Text from an option box -> a number, a pair ("3, 3") or the text itself (Python then
 * explains what is wrong with it). */
function parseOption(text, fallback) {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.toLowerCase() === "none") return null;
  const parts = trimmed.split(/[\s,]+/).filter(Boolean);
  if (parts.length > 1 && parts.every((part) => part !== "" && Number.isFinite(Number(part)))) {
    return parts.map(Number);
  }
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}
