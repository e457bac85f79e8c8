/* The Train tab's pictures of the current model, drawn from the session's rows
 * (nncore.lab.views.rows, the same rows the Streamlit app draws). Nothing is computed here:
 * charts get their rows as they are, pictures ({width, height, pixels 0..255}) become
 * small canvases. */
import { el, formatNumber } from "./dom.js";

const PICTURE_PX = 56; // a weight or misread picture's size on the page

/* rows -> every chart and picture of the Train tab; resolves when the charts are drawn. */
export function drawRows(app, rows) {
  const charts = app.charts;
  const plane = rows.grid.length > 0;
  const tested = rows.test !== null;
  document.getElementById("card-boundary").hidden = !plane;
  document.getElementById("card-confusion").hidden = !tested;
  const drawn = [charts.loss.replace("loss", rows.loss), charts.accuracy.replace("accuracy", rows.accuracy)];
  if (plane) {
    drawn.push(charts.boundary.replace("grid", rows.grid), charts.boundary.replace("points", rows.points));
    answers(rows.answers);
    scores(rows.plane);
  }
  document.getElementById("card-hidden").hidden = rows.hidden.length === 0;
  if (rows.hidden.length) drawn.push(charts.hidden.replace("hidden", rows.hidden));
  if (tested) {
    document.getElementById("test-accuracy").replaceChildren(
      el("span", { class: "value", id: "test-accuracy-value" }, `${(100 * rows.test.accuracy).toFixed(2)}%`),
      el("span", { class: "muted" },
        ` test accuracy on ${formatNumber(rows.test.samples)} digits · ${formatNumber(rows.test.wrong)} misread`));
    drawn.push(charts.confusion.replace("confusion", rows.confusion));
  }
  gallery("card-misread", "misread", rows.misread.map((item) => ({
    picture: item.picture, caption: `${item.actual} → ${item.predicted}`,
  })));
  const changed = rows.weights.length && rows.weights[0].changed;
  document.getElementById("weights-caption").textContent =
    `Each image is ${changed ? "what training changed in one unit's (or filter's) weights" : "one unit's (or filter's) weights"}: light = positive, dark = negative, grey = zero.`;
  gallery("card-weights", "weights", rows.weights.map((picture) => ({ picture, caption: null })));
  return Promise.all(drawn);
}

/* A point cloud's accuracy on its train and test points (null for XOR's four points). */
function scores(plane) {
  const box = document.getElementById("plane-scores");
  box.hidden = !plane;
  document.getElementById("boundary-caption").textContent = plane
    ? "The network's output over the input square; training points filled, test points hollow."
    : "The network's output over the input square; the four XOR points on top.";
  if (!plane) return;
  const percent = (value) => `${(100 * value).toFixed(1)}%`;
  box.replaceChildren(
    el("div", {}, el("span", { class: "value", id: "plane-train" }, percent(plane.train_accuracy)),
      el("span", { class: "muted" }, ` of ${plane.train_samples} training points right`)),
    el("div", {}, el("span", { class: "value", id: "plane-test" }, percent(plane.test_accuracy)),
      el("span", { class: "muted" }, ` of ${plane.test_samples} test points, never trained on`)));
}

function answers(rows) {
  const table = document.getElementById("answers");
  table.hidden = rows.length === 0;
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ...["x1", "x2", "target", "output", "answer", ""].map((name) => el("th", {}, name)))),
    el("tbody", {}, ...rows.map((row) => el("tr", {},
      el("td", {}, String(row.x1)), el("td", {}, String(row.x2)), el("td", {}, String(row.target)),
      el("td", {}, row.output.toFixed(4)), el("td", {}, String(row.answer)),
      el("td", { class: row.right ? "right" : "wrong" }, row.right ? "✓" : "✗")))));
}

function gallery(cardId, listId, items) {
  document.getElementById(cardId).hidden = items.length === 0;
  document.getElementById(listId).replaceChildren(...items.map(({ picture, caption }) =>
    el("figure", { class: "picture" }, canvasOf(picture), caption ? el("figcaption", {}, caption) : null)));
}

/* {width, height, pixels: grey levels 0..255, row-major} -> a canvas `width` px wide. */
export function canvasOf(picture, width = PICTURE_PX) {
  const canvas = el("canvas", { width: picture.width, height: picture.height });
  canvas.style.width = `${width}px`;
  canvas.style.height = `${Math.round((width * picture.height) / picture.width)}px`;
  const context = canvas.getContext("2d");
  const image = context.createImageData(picture.width, picture.height);
  picture.pixels.forEach((level, index) => image.data.set([level, level, level, 255], index * 4));
  context.putImageData(image, 0, 0);
  return canvas;
}
