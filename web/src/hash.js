/* The layer stack in the URL: #spec=<base64url of the spec's JSON>, so a link shares a network.
 * Reading is defensive: anything that is not a plausible spec gives {spec: null, notice}. */

export function encodeSpec(spec) {
  const bytes = new TextEncoder().encode(JSON.stringify(spec));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeSpec(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded); // throws on characters outside base64
  const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
}

/* The shape of a spec, checked just enough for the editor to show it; Python validates
 * the rest (and says which layer is wrong). */
function plausible(spec) {
  return (
    spec !== null && typeof spec === "object" && !Array.isArray(spec) &&
    Array.isArray(spec.input_shape) && spec.input_shape.length > 0 &&
    spec.input_shape.length <= 3 &&
    spec.input_shape.every((size) => Number.isInteger(size) && size > 0 && size <= 100000) &&
    Array.isArray(spec.layers) && spec.layers.length > 0 && spec.layers.length <= 64 &&
    spec.layers.every((layer) => layer !== null && typeof layer === "object" &&
      !Array.isArray(layer) && typeof layer.type === "string")
  );
}

/* location.hash -> {spec, notice}: spec is null when there is none or it is unreadable. */
export function readHash(hash) {
  const text = (hash || "").replace(/^#/, "");
  if (!text) return { spec: null, notice: null };
  const match = /^spec=(.*)$/.exec(text);
  if (!match) {
    return { spec: null, notice: "The link's #fragment is not a network; showing the XOR preset." };
  }
  try {
    const spec = decodeSpec(decodeURIComponent(match[1]));
    if (plausible(spec)) return { spec, notice: null };
  } catch (error) {
    /* fall through to the notice */
  }
  return {
    spec: null,
    notice: "The network in this link could not be read (damaged or incomplete); showing the XOR preset instead.",
  };
}

export function writeHash(spec) {
  const hash = "#spec=" + encodeSpec(spec);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}
