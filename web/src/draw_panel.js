/* Draw: the shared drawing pad (pad.js: pointer input from mouse, pen and touch, Undo,
 * Clear; the Streamlit app mounts the same file), the 28x28 image nncore.preprocess makes
 * of it, and the model's reading: digit (or "not sure"), confidence, the probability bars. */
import { show } from "./dom.js";
import { drawLayerViews } from "./inside_panel.js";
import { createPad } from "./pad.js";

export function setupDrawPanel(app) {
  const canvas = document.getElementById("pad");
  const preview = document.getElementById("preview");
  const previewContext = preview.getContext("2d");
  const modelChoice = document.getElementById("draw-model");
  const prediction = document.getElementById("prediction");
  const confidence = document.getElementById("confidence");
  const errorBox = document.getElementById("draw-error");
  const loadingNote = document.getElementById("draw-loading");
  let pending = false; // a digit drawn before Python was Ready: read it once it is
  let version = 0; // bumped by every new stroke, Undo and Clear: older readings are dropped
  const pad = createPad(canvas, {
    onStart: () => { version++; },
    onDraw: (drawn) => {
      version++;
      if (drawn.isEmpty()) prompt("Draw a digit in the box");
      else predict();
    },
  });

  function clear() {
    pad.clear(); // onDraw prompts
    previewContext.fillStyle = "#000000";
    previewContext.fillRect(0, 0, preview.width, preview.height);
  }

  function prompt(text) {
    prediction.textContent = "?";
    confidence.textContent = text;
    app.lastPrediction = { digit: null, message: text };
    app.charts.probabilities.replace("probabilities", []);
    drawLayerViews(app, [], []);
  }

  document.getElementById("clear").addEventListener("click", clear);
  document.getElementById("undo").addEventListener("click", () => pad.undo());
  modelChoice.addEventListener("change", () => { if (!pad.isEmpty()) predict(); });

  let busy = false;
  let again = false;
  async function predict() {
    if (!app.ready) {
      pending = true;
      confidence.textContent = "Python is still loading: the digit is read once it is Ready";
      return;
    }
    if (busy) { again = true; return; }
    busy = true;
    const asked = version;
    const started = performance.now();
    if (app.data.loading && modelChoice.value !== "trained") {
      // the worker holds the request until the weights are in
      prediction.textContent = "…";
      confidence.textContent = `${modelChoice.selectedOptions[0].textContent}: loading its weights…`;
    }
    try {
      const image = pad.imageData();
      const result = await app.worker.request("predict", {
        pixels: image.data, width: image.width, height: image.height, model: modelChoice.value,
      }, null, [image.data.buffer]);
      if (asked !== version) return; // the drawing changed meanwhile: a newer reading follows
      show(errorBox, "");
      if (result.digit === null) {
        prompt(result.message);
      } else {
        drawPreview(result.preview);
        // unsure (too little ink, low probability: nncore.lab.reading): "?" and why
        prediction.textContent = result.sure ? String(result.digit) : "?";
        confidence.textContent = result.sure ? `${(100 * result.confidence).toFixed(1)}% sure`
          : result.message;
        await app.charts.probabilities.replace("probabilities", result.rows.probabilities);
        await drawLayerViews(app, result.views, result.rows.strip);
        app.lastPrediction = {
          digit: result.digit, confidence: result.confidence, probabilities: result.probabilities,
          sure: result.sure, message: result.message,
          model: modelChoice.value, milliseconds: performance.now() - started,
          pythonMilliseconds: 1000 * result.predict_seconds,
        };
      }
    } catch (error) {
      show(errorBox, error.message);
      prediction.textContent = "?";
      confidence.textContent = "No reading";
      app.lastPrediction = { digit: null, error: error.message };
    } finally {
      busy = false;
      if (again) { again = false; predict(); }
    }
  }

  function drawPreview(values) {
    // values: 784 floats in [0, 1], white ink on black, as MNIST stores digits
    const image = previewContext.createImageData(28, 28);
    for (let index = 0; index < 784; index++) {
      const level = Math.round(255 * Math.min(1, Math.max(0, values[index])));
      image.data.set([level, level, level, 255], index * 4);
    }
    previewContext.putImageData(image, 0, 0);
  }

  clear();
  return {
    clear,
    predict,
    /* Which models can read a digit; while `loading`, the pretrained ones count as there
     * (a reading waits for them) and a note under the pad says they are still loading. */
    setModels(pretrained, trained, loading) {
      loadingNote.hidden = !loading;
      for (const option of modelChoice.options) {
        option.disabled = option.value === "trained" ? !trained
          : !loading && !pretrained.includes(option.value);
      }
      if (modelChoice.selectedOptions[0].disabled) {
        const first = [...modelChoice.options].find((option) => !option.disabled);
        if (first) modelChoice.value = first.value;
      }
    },
    useTrained() { modelChoice.value = "trained"; },
    readPending() {
      if (pending && !pad.isEmpty()) predict();
      pending = false;
    },
  };
}
