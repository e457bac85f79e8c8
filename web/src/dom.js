/* Small DOM helpers shared by the panels. */

/* el("div", {class: "x", hidden: true}, "text", child) -> an element. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "value") node.value = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function formatShape(shape) {
  return "(" + shape.join(", ") + (shape.length === 1 ? ",)" : ")");
}

export function formatNumber(value) {
  return Number(value).toLocaleString("en-US");
}

export function formatLoss(value) {
  if (value === null || value === undefined) return "–";
  return value < 0.001 ? value.toExponential(2) : value.toPrecision(4);
}

export function show(element, text) {
  element.textContent = text;
  element.hidden = !text;
}
