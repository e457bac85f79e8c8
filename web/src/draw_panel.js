/* Draw: a pad for pointer input (mouse, pen, touch), the 28x28 image nncore.preprocess makes
 * of it, and the model's reading: digit, confidence, the probability bars. */
import { show } from "./dom.js";
import { drawLayerViews } from "./inside_panel.js";

const PEN_WIDTH = 18; // px on the 280 px pad: about MNIST's stroke once scaled to 20 px

export function setupDrawPanel(app) {
  const pad = document.getElementById("pad");
  const context = pad.getContext("2d", { willReadFrequently: true });
  const preview = document.getElementById("preview");
  const previewContext = preview.getContext("2d");
  const modelChoice = document.getElementById("draw-model");
  const prediction = document.getElementById("prediction");
  const confidence = document.getElementById("confidence");
  const errorBox = document.getElementById("draw-error");
  let drawing = null; // the pointer currently drawing: {id, x, y}
  let inked = false;
  let version = 0; // bumped by every new stroke and by Clear: older readings are dropped

  function clear() {
    version++;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, pad.width, pad.height);
    previewContext.fillStyle = "#000000";
    previewContext.fillRect(0, 0, preview.width, preview.height);
    inked = false;
    prompt("Draw a digit in the box");
  }

  function prompt(text) {
    prediction.textContent = "?";
    confidence.textContent = text;
    app.lastPrediction = { digit: null, message: text };
    app.charts.probabilities.replace("probabilities", []);
    drawLayerViews(app, [], []);
  }

  function position(event) {
    const box = pad.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * pad.width) / box.width, y: ((event.clientY - box.top) * pad.height) / box.height };
  }

  function stroke(from, to) {
    context.strokeStyle = "#111111";
    context.lineWidth = PEN_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    if (from.x === to.x && from.y === to.y) {
      // a zero-length line paints nothing in Chromium: a tap is a round dot
      context.fillStyle = "#111111";
      context.arc(from.x, from.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
    }
    inked = true;
  }

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    version++;
    const point = position(event);
    drawing = { id: event.pointerId, ...point };
    stroke(point, point);
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const moved of events.length ? events : [event]) {
      const point = position(moved);
      stroke(drawing, point);
      Object.assign(drawing, point);
    }
  });
  const end = (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    drawing = null;
    predict();
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  document.getElementById("clear").addEventListener("click", clear);
  modelChoice.addEventListener("change", () => { if (inked) predict(); });

  let busy = false;
  let again = false;
  async function predict() {
    if (!app.ready) {
      confidence.textContent = "Python is still loading…";
      return;
    }
    if (busy) { again = true; return; }
    busy = true;
    const asked = version;
    const started = performance.now();
    try {
      const image = context.getImageData(0, 0, pad.width, pad.height);
      const result = await app.worker.request("predict", {
        pixels: image.data, width: pad.width, height: pad.height, model: modelChoice.value,
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
        await app.charts.probabilities.replace("probabilities",
          result.probabilities.map((probability, digit) => ({ digit, probability })));
        await drawLayerViews(app, result.views, result.strip);
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
    setModels(pretrained, trained) {
      for (const option of modelChoice.options) {
        option.disabled = option.value === "trained" ? !trained : !pretrained.includes(option.value);
      }
      if (modelChoice.selectedOptions[0].disabled) {
        const first = [...modelChoice.options].find((option) => !option.disabled);
        if (first) modelChoice.value = first.value;
      }
    },
    useTrained() { modelChoice.value = "trained"; },
  };
}
