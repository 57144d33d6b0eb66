// The drawing Beat Hunt (blend.js) and Beat Blender's instrument (blend_instrument.js) share: the
// board of n × n cells coloured by their place between the four corners, and the step grid of a
// beat (a row per drum, a column per 16th, beats and bars marked). The pure parts are in
// blend_grid.js.
import { cellColour, cellName, stepRows } from "./blend_grid.js";

export const DRUM_LABEL = { kick: "kick", snare: "snare", closed_hat: "closed hat", open_hat: "open hat", low_tom: "low tom", mid_tom: "mid tom", high_tom: "high tom", crash: "crash", ride: "ride" };

/** Fill `board` with n × n cells (.cell, data-x, data-y), then the `keep` elements (the puck...);
 * returns the cells by "x,y". */
export function buildBoard(board, n, keep = []) {
  board.style.setProperty("--n", n);
  const cells = new Map();
  const all = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.dataset.x = x;
      cell.dataset.y = y;
      cell.style.background = cellColour(x, y, n);
      cells.set(`${x},${y}`, cell);
      all.push(cell);
    }
  }
  board.replaceChildren(...all, ...keep);
  return cells;
}

/** Fill `el` with a step grid for `view` ({drums, steps, beat_steps, steps_per_bar}): a label and
 * `steps` cells (<i>, data-drum, data-step) a drum. Returns {cells: [drum][step], columns: [step][drum]}. */
export function buildSteps(el, view) {
  el.style.setProperty("--steps", view.steps);
  const cells = [];
  const columns = Array.from({ length: view.steps }, () => []);
  const rows = [];
  view.drums.forEach((drum, d) => {
    rows.push(Object.assign(document.createElement("span"), { className: "drum", textContent: DRUM_LABEL[drum] ?? drum }));
    cells[d] = [];
    for (let step = 0; step < view.steps; step++) {
      const i = document.createElement("i");
      i.dataset.drum = d;
      i.dataset.step = step;
      if (step % view.beat_steps === 0) i.classList.add("beat");
      if (step % view.steps_per_bar === 0) i.classList.add("bar");
      cells[d].push(i);
      columns[step].push(i);
      rows.push(i);
    }
  });
  el.replaceChildren(...rows);
  return { cells, columns };
}

/** Light the step grid's cells for cell (x, y)'s beat of `view` (its `beats[x][y]`); returns
 * the drums heard, as people name them. */
export function drawSteps(grid, view, cell) {
  const rows = stepRows(view, cell);
  rows.forEach((row, d) => row.forEach((on, step) => grid.cells[d][step].classList.toggle("on", on)));
  return rows.map((row, d) => (row.some(Boolean) ? DRUM_LABEL[view.drums[d]] : null)).filter(Boolean);
}

/** Move the playhead's mark (.now) from column `before` to `after` (-1: none). */
export function markPlayhead(grid, before, after) {
  if (before === after) return;
  grid.columns[before]?.forEach((c) => c.classList.remove("now"));
  grid.columns[after]?.forEach((c) => c.classList.add("now"));
}

/** Put the puck on `cell` of an n × n board and show that cell's beat of `view`: the puck, the
 * cell's name, the step grid and what a screen reader says of them. `els`: {board, puck, cell,
 * steps}; returns the cell's name. */
export function showPuck(els, stepGrid, view, n, cell) {
  const [x, y] = cell;
  els.puck.style.setProperty("--px", x);
  els.puck.style.setProperty("--py", y);
  els.puck.dataset.x = x;
  els.puck.dataset.y = y;
  const name = cellName(cell);
  els.cell.textContent = name;
  const heard = drawSteps(stepGrid, view, cell);
  els.steps.dataset.cell = `${x},${y}`;
  els.steps.setAttribute("aria-label", `The beat under the puck (${name}): ${heard.join(", ") || "silence"}`);
  els.board.setAttribute("aria-label", `Beat grid, ${n} by ${n}: the puck on ${name}`);
  return name;
}

