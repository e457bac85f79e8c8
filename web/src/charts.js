/* Charts: the Vega-Lite specs exported from charts/ (the one chart definition), rendered with vega-embed and fed
 * through their named data sources ("loss", "grid", ...). Updates are queued per chart so
 * rows arrive in order even while a previous render is running. */

// Page-only styling merged into every chart's config: legends above the plot, so the charts
// fit side by side in the page's grid of cards.
const EMBED_CONFIG = { legend: { orient: "top" }, font: "Helvetica Neue, Helvetica, Arial, sans-serif" };

export class Chart {
  /* `height` is the plot's height in px; the width is the card's (the page lays cards out in
   * a responsive grid), axes and legend included; a faceted chart keeps its spec's sizes. */
  constructor(element, spec, height) {
    this.rows = {}; // name -> the rows currently shown (tests and the page read them)
    this.element = typeof element === "string" ? document.querySelector(element) : element;
    // "fit-x": the whole chart is as wide as its container; streamed rows change the axis
    // labels' widths, so the view re-measures its padding on every update (resize).
    // Small multiples (a facet) keep their own cell size: Vega cannot fit a facet to a width.
    const faceted = Boolean(spec.facet || (spec.encoding && spec.encoding.facet));
    const sized = faceted ? Object.assign({}, spec, { autosize: { type: "pad", resize: true } }) : Object.assign({}, spec, {
      width: "container",
      height: height || spec.height,
      autosize: { type: "fit-x", contains: "padding", resize: true },
    });
    const options = { actions: false, renderer: "canvas", logLevel: vega.Error, config: EMBED_CONFIG };
    this.queue = vegaEmbed(this.element, sized, options).then(
      (embedded) => {
        this.view = embedded.view;
        followWidth(this.element);
      },
    );
  }

  /* Replace every row of the named source. */
  replace(name, rows) {
    this.rows[name] = rows.slice();
    return this.enqueue((view) => view.data(name, rows));
  }

  /* Append rows to the named source. */
  append(name, rows) {
    if (!rows.length) return this.queue;
    this.rows[name] = (this.rows[name] || []).concat(rows);
    return this.enqueue((view) => view.change(name, vega.changeset().insert(rows)));
  }

  enqueue(change) {
    this.queue = this.queue.then(() => change(this.view).runAsync()).catch((error) => {
      console.error("chart update failed", error);
    });
    return this.queue;
  }
}

/* A container-wide Vega view re-reads its container's width on window resize only. A chart
 * created in a hidden tab or card measures 0 px, so tell Vega when the card's width changes
 * (shown, or the grid reflowed). Heights are ignored: a redraw changes them. */
function followWidth(element) {
  let width = element.clientWidth;
  new ResizeObserver(() => {
    if (element.clientWidth === width) return;
    width = element.clientWidth;
    window.dispatchEvent(new Event("resize"));
  }).observe(element);
}

export async function loadChartSpecs() {
  const response = await fetch("charts.json");
  if (!response.ok) throw new Error("charts.json is missing from this build");
  return response.json();
}
