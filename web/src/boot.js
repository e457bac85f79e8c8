/* The first script of the page: it starts the Python worker before the chart libraries and
 * the page's modules load, so Pyodide boots meanwhile (worker.js begins loading at once).
 * main.js takes the worker over (client.js); a worker that fails to start says so here
 * too, before anyone listens. */
"use strict";
(function startPython() {
  const worker = new Worker("src/worker.js");
  worker.failure = null;
  worker.addEventListener("error", (event) => {
    worker.failure = event.message || "the Python worker did not start";
  });
  window.nncorePython = worker;
})();
