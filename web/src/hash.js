/* The experiment in the URL: #e=<nncore.lab.experiment.encode(experiment)>, so the address
 * is always a share link (TensorFlow Playground keeps its State in the hash the same way).
 * The text is made and read by Python (encode / decode: zlib + base64url, bounded reads);
 * this module only finds it in the hash and puts it back. */

const KEY = "e=";
let written = null; // the hash this page wrote last: its own hashchange is not news

/* location.hash -> {text, notice}: text is the encoded experiment, or null. */
export function readHash(hash) {
  const fragment = (hash || "").replace(/^#/, "");
  if (!fragment) return { text: null, notice: null };
  if (!fragment.startsWith(KEY)) {
    return { text: null, notice: "The link's #fragment is not an nncore experiment; showing the XOR preset." };
  }
  const text = fragment.slice(KEY.length);
  try {
    return { text: decodeURIComponent(text), notice: null };
  } catch (error) {
    return { text, notice: null }; // not URI-encoded text: Python refuses it with a reason
  }
}

export function writeHash(text) {
  const hash = "#" + KEY + text;
  written = hash;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

/* Call `apply(text)` when someone puts another experiment in the address bar. */
export function onHashChange(apply) {
  window.addEventListener("hashchange", () => {
    if (location.hash === written) return;
    apply(readHash(location.hash));
  });
}
