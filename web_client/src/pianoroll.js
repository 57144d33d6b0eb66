// A clip drawn as a small piano roll: one bar per note, pitch up, time across; bar lines faint.
export function drawRoll(canvas, piece, { lowest = null, highest = null } = {}) {
  const ctx = canvas.getContext("2d");
  const w = (canvas.width = 232), h = (canvas.height = 160);
  ctx.fillStyle = "#f6f1ff";
  ctx.fillRect(0, 0, w, h);
  const steps = piece.bars * piece.steps_per_bar;
  ctx.strokeStyle = "#ddd4f5";
  for (let bar = 1; bar < piece.bars; bar++) {
    const x = (bar * piece.steps_per_bar * w) / steps;
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h);
    ctx.stroke();
  }
  if (!piece.melody.length) return;
  const pitches = piece.melody.map((n) => n.pitch);
  const lo = (lowest ?? Math.min(...pitches)) - 2, hi = (highest ?? Math.max(...pitches)) + 2;
  const rowH = h / (hi - lo + 1);
  ctx.fillStyle = "#6c4ee8";
  for (const n of piece.melody) {
    const x = (n.start * w) / steps, x2 = (Math.min(n.end, steps) * w) / steps;
    ctx.fillRect(x + 1, h - (n.pitch - lo + 1) * rowH, Math.max(2, x2 - x - 2), Math.max(3, rowH));
  }
}
