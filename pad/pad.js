/* The one drawing pad of both hosts: a 280x280 canvas drawn with pointer events (mouse, pen,
 * touch), with Undo and Clear. No imports, so the same file is
 *   - an ES module of the web page (web/build.py copies it into the site's src/):
 *       import { createPad } from "./pad.js";
 *   - the JavaScript of the Streamlit custom component (components v2, no iframe; app/pad.py
 *     reads this file): the default export below mounts it and, at pen-up, sends the drawing
 *     as a PNG data URL with setStateValue, without debounce.
 * Either way the pixels go to nncore.preprocess.canvas_to_mnist, the one preprocessing.
 */

export const SIZE = 280; // canvas side, px
// MNIST strokes are ~2 px wide in the 20 px box of a digit (median 20 px for MNIST's test
// digits drawn 10x), so a 20 px pen on a 280 px pad matches a digit drawn ~200 px tall.
export const PEN_WIDTH = 20;
const INK = "#111111";
const PAPER = "#ffffff";

/* Make `canvas` a drawing pad. Callbacks: onStart() at pen-down, onDraw(pad, why) after a
 * stroke ("stroke", at pen-up), "undo" and "clear". */
export function createPad(canvas, { onStart = () => {}, onDraw = () => {} } = {}) {
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const strokes = []; // each: an array of {x, y} in canvas pixels, or {picture} (restored)
  let drawing = null; // {id, points} of the pointer drawing now
  canvas.style.touchAction = "none"; // a finger draws instead of scrolling the page

  function position(event) {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width,
             y: ((event.clientY - box.top) * canvas.height) / box.height };
  }

  function segment(from, to) {
    context.strokeStyle = INK;
    context.fillStyle = INK;
    context.lineWidth = PEN_WIDTH;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    if (from.x === to.x && from.y === to.y) {
      // a zero-length line paints nothing in Chromium: a tap is a round dot
      context.arc(from.x, from.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
      context.fill();
    } else {
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
    }
  }

  function redraw() {
    context.fillStyle = PAPER;
    context.fillRect(0, 0, canvas.width, canvas.height);
    for (const stroke of strokes) {
      if (stroke.picture) { context.drawImage(stroke.picture, 0, 0); continue; }
      segment(stroke[0], stroke[0]);
      for (let index = 1; index < stroke.length; index++) segment(stroke[index - 1], stroke[index]);
    }
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (drawing) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const point = position(event);
    drawing = { id: event.pointerId, points: [point] };
    strokes.push(drawing.points);
    onStart();
    segment(point, point);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const moved of moves.length ? moves : [event]) {
      const point = position(moved);
      segment(drawing.points[drawing.points.length - 1], point);
      drawing.points.push(point);
    }
  });
  const end = (event) => {
    if (!drawing || event.pointerId !== drawing.id) return;
    drawing = null;
    onDraw(pad, "stroke");
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const pad = {
    canvas,
    isEmpty: () => strokes.length === 0,
    clear() { strokes.length = 0; drawing = null; redraw(); onDraw(pad, "clear"); },
    undo() {
      if (!strokes.length) return;
      strokes.pop(); drawing = null; redraw(); onDraw(pad, "undo");
    },
    /* Start from a picture (an <img> or a canvas), e.g. a drawing restored after a rerun;
     * Undo removes it like a stroke. */
    restore(picture) { strokes.length = 0; strokes.push({ picture }); redraw(); },
    imageData: () => context.getImageData(0, 0, canvas.width, canvas.height),
    // PNG: a few kB for a digit (the RGBA pixels are 313 kB; as a JSON list, over 1 MB)
    dataURL: () => canvas.toDataURL("image/png"),
  };
  redraw();
  return pad;
}

/* ------------------------------------------------------------ Streamlit (components v2) */

const mounted = new WeakMap(); // parentElement -> {pad, send}: the component's function runs
                               // again whenever its data changes; the pad must survive it

export default function mountInStreamlit({ parentElement, data, setStateValue }) {
  let entry = mounted.get(parentElement);
  if (!entry) {
    const box = document.createElement("div");
    box.className = "nncore-pad-box";
    box.innerHTML = `<canvas class="nncore-pad" width="${SIZE}" height="${SIZE}"
        aria-label="Drawing pad: draw a digit"></canvas>
      <div class="nncore-pad-actions">
        <button type="button" data-action="undo">Undo</button>
        <button type="button" data-action="clear">Clear</button>
      </div>`;
    parentElement.appendChild(box);
    entry = { send: setStateValue };
    const send = (pad) => entry.send("drawing", pad.isEmpty() ? "" : pad.dataURL());
    entry.pad = createPad(box.querySelector("canvas"), { onDraw: send });
    box.querySelector('[data-action="undo"]').addEventListener("click", () => entry.pad.undo());
    box.querySelector('[data-action="clear"]').addEventListener("click", () => entry.pad.clear());
    const drawn = data && data.drawing;
    if (drawn) { // mounted again (a rerun rebuilt the tab): show what Python still reads
      const picture = new Image();
      picture.onload = () => entry.pad.restore(picture);
      picture.src = drawn;
    }
    mounted.set(parentElement, entry);
  }
  entry.send = setStateValue;
  return () => mounted.delete(parentElement);
}
