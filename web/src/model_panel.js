/* Model file: export the current model as nncore's .npz, import one (from this page, the
 * Streamlit app or Python's nncore.io). */
import { el, formatNumber, formatShape, show } from "./dom.js";

export function setupModelPanel(app) {
  const exportButton = document.getElementById("export");
  const importInput = document.getElementById("import");
  const message = document.getElementById("model-message");
  const errorBox = document.getElementById("model-error");
  const summary = document.getElementById("model-summary");

  exportButton.addEventListener("click", async () => {
    show(errorBox, "");
    try {
      const result = await app.worker.request("export");
      const blob = new Blob([result.bytes], { type: "application/octet-stream" });
      const link = el("a", { href: URL.createObjectURL(blob), download: "nncore-model.npz" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      message.textContent = `Exported nncore-model.npz (${formatNumber(result.size)} bytes).`;
    } catch (error) {
      show(errorBox, error.message);
    }
  });

  importInput.addEventListener("change", async () => {
    const file = importInput.files[0];
    if (!file) return;
    show(errorBox, "");
    message.textContent = `Reading ${file.name}…`;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const result = await app.worker.request("import", { bytes, name: file.name, experiment: app.experiment }, null, [bytes.buffer]);
      message.textContent = `Imported ${file.name}: it is now your model, its stack is in Build, Continue in Train trains it on, and Draw can use it.`;
      app.setExperiment(result.experiment, null);
      app.showReport(await app.worker.request("report")); // first: it sees Draw's offer
      await app.refreshModel();
    } catch (error) {
      message.textContent = "";
      show(errorBox, `${file.name} is not a usable nncore model: ${error.message}`);
    } finally {
      importInput.value = "";
    }
  });

  /* ---- the experiment as code (nncore.lab.code, through the worker) ---- */
  const code = document.getElementById("code");
  const note = document.getElementById("code-note");
  let language = "python";
  let asked = 0;
  async function showCode() {
    if (!app.ready || document.getElementById("panel-model").hidden) return;
    const request = ++asked;
    try {
      const answer = await app.worker.request("code", { experiment: app.experiment, language });
      if (request !== asked) return;
      code.textContent = answer.text;
      // the last run's final loss, when this script reproduces it (nncore.lab.code.run_note)
      note.textContent = answer.note || "";
      note.hidden = !answer.note;
    } catch (error) {
      if (request !== asked) return;
      code.textContent = `# ${error.message}`;
      note.hidden = true;
    }
  }
  document.querySelectorAll("[data-language]").forEach((button) => {
    button.addEventListener("click", () => {
      language = button.dataset.language;
      document.querySelectorAll("[data-language]").forEach((other) => {
        other.classList.toggle("active", other === button);
      });
      showCode();
    });
  });
  document.getElementById("copy-code").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code.textContent);
      app.notify("The script is on the clipboard.");
    } catch (error) {
      app.notify("Select the script and copy it with your keyboard.");
    }
  });
  // after the tab switch (main.js) has shown the panel
  document.querySelector('[data-tab="model"]').addEventListener("click", () => setTimeout(showCode, 0));

  return {
    showCode,
    showModel(model) {
      exportButton.disabled = !model;
      if (!model) {
        summary.replaceChildren(el("p", { class: "muted" }, "No model yet: train one, or import a file."));
        return;
      }
      const rows = model.summary.rows.map((row) =>
        el("tr", {}, el("td", {}, row.layer), el("td", {}, formatShape(row.output_shape)),
          el("td", { class: "number" }, formatNumber(row.parameters))));
      summary.replaceChildren(
        el("p", {}, el("strong", {}, "Current model: "), model.origin,
          ` · input ${formatShape(model.summary.input_shape)} · ${formatNumber(model.summary.parameters)} parameters`),
        el("table", { class: "summary-table" },
          el("thead", {}, el("tr", {}, el("th", {}, "layer"), el("th", {}, "output shape"), el("th", { class: "number" }, "parameters"))),
          el("tbody", {}, ...rows)));
    },
  };
}
