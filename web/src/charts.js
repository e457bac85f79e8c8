/* Charts: the Vega-Lite specs exported from app/charts.py, rendered with vega-embed and fed
 * through their named data sources ("loss", "grid", ...). Updates are queued per chart so
 * rows arrive in order even while a previous render is running. */

// Page-only styling merged into every chart's config: legends above the plot, so two charts
// fit side by side next to the layer stack.
const EMBED_CONFIG = { legend: { orient: "top" }, font: "Helvetica Neue, Helvetica, Arial, sans-serif" };

export class Chart {
  constructor(element, spec) {
    this.rows = {}; // name -> the rows currently shown (tests and the page read them)
    // Streamed rows change the axis labels' widths: let the view re-measure its padding.
    const streaming = Object.assign({ autosize: { type: "pad", resize: true } }, spec);
    const options = { actions: false, renderer: "canvas", logLevel: vega.Error, config: EMBED_CONFIG };
    this.queue = vegaEmbed(element, streaming, options).then(
      (embedded) => {
        this.view = embedded.view;
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

export async function loadChartSpecs() {
  const response = await fetch("charts.json");
  if (!response.ok) throw new Error("charts.json is missing from this build");
  return response.json();
}
