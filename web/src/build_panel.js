/* Build: presets, the layer stack editor, live validation by nncore and the summary table.
 *
 * The stack is app.experiment.spec ({input_shape, layers}). The editor is generated from
 * the layer vocabulary (nncore.lab.vocabulary, exported into config.json by the build):
 * layer types, their options, defaults, choices and help text all come from the layer
 * classes, so a new layer or activation appears here with no edit. Python validates every
 * edit and names the offending layer; layers are numbered from 1, as in its messages. */
import { el, formatShape, formatNumber } from "./dom.js";

export function setupBuildPanel(app) {
  const vocabulary = app.config.vocabulary;
  const kinds = Object.fromEntries(vocabulary.layers.map((entry) => [entry.type, entry]));
  const layerList = document.getElementById("layers");
  const inputShape = document.getElementById("input-shape");
  const newType = document.getElementById("new-layer-type");
  const specError = document.getElementById("spec-error");
  const summary = document.getElementById("summary");
  const presets = document.getElementById("presets");

  for (const [name, label] of app.config.presets) {
    const chip = el("button", { type: "button", class: "chip", "data-preset": name, title: label },
      label.split(":")[0]);
    chip.addEventListener("click", () => app.loadPreset(name));
    presets.append(chip);
  }
  typeChoices(newType, null);
  newType.value = "dense";

  const spec = () => app.experiment.spec;

  /* A new layer of `type`, with the options its class starts with. */
  function fresh(type) {
    const layer = { type };
    for (const option of kinds[type].options) layer[option.name] = option.default;
    return layer;
  }

  document.getElementById("add-layer").addEventListener("click", () => {
    spec().layers.push(fresh(newType.value));
    changed();
  });
  inputShape.addEventListener("change", () => {
    const parts = inputShape.value.split(/[\s,x×()[\]]+/).filter(Boolean);
    spec().input_shape = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    changed();
  });
  document.getElementById("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      app.notify("Link copied: it opens this network with these training settings.");
    } catch (error) {
      app.notify("Copy this page's address to share the experiment: it holds the network and its training settings.");
    }
  });

  function changed() {
    app.preset = null;
    render();
    app.experimentChanged({});
  }

  function markPreset() {
    presets.querySelectorAll("[data-preset]").forEach((button) => {
      button.classList.toggle("active", button.dataset.preset === app.preset);
    });
  }

  function typeChoices(select, current) {
    for (const entry of vocabulary.layers) {
      select.append(el("option", { value: entry.type, title: entry.help }, entry.type));
    }
    if (current !== null && !(current in kinds)) select.append(el("option", { value: current }, current));
  }

  function move(index, offset) {
    const layers = spec().layers;
    const target = index + offset;
    if (target < 0 || target >= layers.length) return;
    [layers[index], layers[target]] = [layers[target], layers[index]];
    changed();
  }

  function optionInput(layer, option) {
    const value = option.name in layer ? layer[option.name] : option.default;
    let input;
    if (option.kind === "choice") {
      input = el("select", {});
      for (const choice of option.choices) {
        input.append(el("option", { value: choice === null ? "" : choice }, choice === null ? "none" : choice));
      }
      input.value = value === null || value === undefined ? "" : String(value);
      input.addEventListener("change", () => {
        layer[option.name] = input.value === "" ? null : input.value;
        changed();
      });
    } else {
      input = el("input", {
        type: "text",
        inputmode: option.kind === "size" ? "text" : "decimal",
        value: Array.isArray(value) ? value.join(", ") : String(value),
        size: 5,
        spellcheck: "false",
      });
      input.addEventListener("change", () => {
        layer[option.name] = parseOption(input.value);
        changed();
      });
    }
    input.dataset.option = option.name;
    return el("label", { class: "option", title: option.help || "" }, el("span", {}, option.label), input);
  }

  function render() {
    markPreset();
    inputShape.value = spec().input_shape.join(", ");
    layerList.replaceChildren();
    const layers = spec().layers;
    layers.forEach((layer, index) => {
      const type = el("select", { class: "layer-type", "aria-label": `Layer ${index + 1} type` });
      typeChoices(type, layer.type);
      type.value = layer.type;
      type.addEventListener("change", () => {
        layers[index] = fresh(type.value);
        changed();
      });
      const known = kinds[layer.type];
      const options = known ? known.options.map((option) => optionInput(layer, option)) : [];
      const button = (label, title, action, disabled) => {
        const node = el("button", { type: "button", class: "icon", title, "aria-label": title }, label);
        node.disabled = disabled;
        node.addEventListener("click", action);
        return node;
      };
      const last = layers.length - 1;
      layerList.append(
        el("li", { class: "layer", "data-index": index, "data-type": layer.type },
          el("div", { class: "layer-head" },
            el("span", { class: "layer-index" }, String(index + 1)),
            type,
            el("span", { class: "layer-shape", "data-shape": index }, ""),
            el("span", { class: "spacer" }),
            button("↑", "Move up", () => move(index, -1), index === 0),
            button("↓", "Move down", () => move(index, 1), index === last),
            button("✕", "Remove layer", () => { layers.splice(index, 1); changed(); }, last === 0)),
          options.length ? el("div", { class: "layer-options" }, ...options)
            : el("div", { class: "layer-hint" }, known ? known.help : ""),
          el("div", { class: "layer-error", role: "alert", hidden: true })));
    });
  }

  /* The worker's description of the experiment: the summary, or what is wrong with the stack. */
  function showValidation(answer) {
    layerList.querySelectorAll(".layer").forEach((card) => {
      card.classList.remove("invalid");
      card.querySelector(".layer-error").hidden = true;
    });
    specError.hidden = true;
    const problem = answer.problem;
    if (answer.summary) showSummary(answer.summary);
    else summary.replaceChildren(el("p", { class: "muted" }, "Fix the stack to see its summary."));
    if (!problem || (problem.field && problem.field !== "spec")) return;
    const index = problem.index;
    const card = index === null || index === undefined ? null : layerList.querySelector(`[data-index="${index}"]`);
    if (card) {
      card.classList.add("invalid");
      const box = card.querySelector(".layer-error");
      box.textContent = problem.reason || problem.message;
      box.hidden = false;
    } else {
      specError.textContent = problem.reason || problem.message;
      specError.hidden = false;
    }
  }

  function showSummary(result) {
    result.rows.forEach((row) => {
      const shape = layerList.querySelector(`[data-shape="${row.index}"]`);
      if (shape) shape.textContent = "→ " + formatShape(row.output_shape);
    });
    const table = el("table", { class: "summary-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "layer"), el("th", {}, "output shape"), el("th", { class: "number" }, "parameters"))),
      el("tbody", {},
        el("tr", { class: "input-row" }, el("td", {}, ""), el("td", {}, "input"), el("td", {}, formatShape(result.input_shape)), el("td", { class: "number" }, "")),
        ...result.rows.map((row) => el("tr", {},
          el("td", {}, String(row.index + 1)), el("td", { title: row.layer }, row.type), el("td", {}, formatShape(row.output_shape)),
          el("td", { class: "number" }, formatNumber(row.parameters))))),
      el("tfoot", {}, el("tr", {}, el("td", {}, ""), el("td", { colspan: 2 }, "total"), el("td", { class: "number" }, formatNumber(result.parameters)))));
    summary.replaceChildren(table);
  }

  return { render, showValidation, markPreset };
}

/* Text from an option box -> a number, a pair ("3, 3") or the text itself (Python then
 * explains what is wrong with it). */
function parseOption(text) {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.toLowerCase() === "none") return null;
  const parts = trimmed.split(/[\s,]+/).filter(Boolean);
  if (parts.length > 1 && parts.every((part) => Number.isFinite(Number(part)))) {
    return parts.map(Number);
  }
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : trimmed;
}
