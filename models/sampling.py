"""The decoder's step loop in numpy, for serving.

Autoregressive decoding is 8-16 x 16 tiny sequential steps; torch spends ~0.1-0.4 ms of dispatch
per step at batch 1, numpy a few microseconds. Everything in the decoder input that does not
change step to step is folded into tables once:

    gates_t = Tok[prev_t] + Last[last_note_t] + Pos[step_t] + Bar_b + h_{t-1} @ W_hh^T   # [B, 4H]
    Tok = embed.weight @ W_tok^T [V, 4H],  Last = last_note.weight @ W_last^T [V, 4H],
    Pos = position.weight @ W_pos^T [S, 4H],
    Bar_b = bar_input(c_b) @ W_bar^T + cond @ W_cond^T + End[ending_b] + b_ih + b_hh   [B, 4H]

which is the same arithmetic as MelodyVAE.decode_teacher_forced (tests/test_composer.py checks
the logits agree). Every table's input, forget and output gate columns are stored halved
(`halve_sigmoid_gates`), so that one tanh over the gates gives all four (see `lstm_cell`).
Sampling draws from softmax(logits / T) with one uniform a row from a seeded numpy Generator
(`draw`). With top_p < 1 the draw is from the nucleus only (Holtzman et al., 2020): the fewest
tokens whose probability adds up to top_p, the unlikely tail left out, which keeps the rare wrong
leap or stray 16th out of a tune.
"""

from __future__ import annotations

import numpy as np
import torch

from .encoding import FIRST_NOTE, REST
from .melody_vae import MelodyVAE


class FastDecoder:
    def __init__(self, model: MelodyVAE):
        c = model.config
        with torch.no_grad():
            w_ih = model.decoder.weight_ih_l0.float()  # [4H, In]
            e, b, p = c.token_embed, c.bar_input, c.cond_embed
            half = halve_sigmoid_gates
            self.tok = half((model.embed.weight @ w_ih[:, :e].T).numpy())  # [V, 4H]
            self.pos = half((model.position.weight @ w_ih[:, e + b : e + b + p].T).numpy())  # [S, 4H]
            self.w_bar = half(w_ih[:, e : e + b].T.numpy())  # [b, 4H]
            conditioning = e + b + p + 3 * c.cond_embed
            self.w_cond = half(w_ih[:, e + b + p : conditioning].T.numpy())  # [C, 4H]
            last = conditioning + c.ending_embed
            self.ending = half((model.ending.weight @ w_ih[:, conditioning:last].T).numpy())  # [PLACES, 4H]
            self.last = half((model.last_note.weight @ w_ih[:, last:].T).numpy())  # [V, 4H]
            self.bias = half((model.decoder.bias_ih_l0 + model.decoder.bias_hh_l0).numpy())  # [4H]
            self.w_hh = half(model.decoder.weight_hh_l0.T.numpy())  # [H, 4H]
            self.w_out = model.output.weight.T.contiguous().numpy()  # [H, V]
            self.b_out = model.output.bias.numpy()
        self.model = model

    def decode(
        self,
        conductor: torch.Tensor,
        cond: torch.Tensor,
        steps: int,
        temperature: float | np.ndarray,
        rng: np.random.Generator,
        forced: np.ndarray | None = None,
        repeats: np.ndarray | None = None,
        endings: np.ndarray | None = None,
        top_p: float = 1.0,
    ) -> np.ndarray:
        """conductor [B, bars, Hc], cond [B, C] -> tokens [B, bars*S]. temperature 0 = argmax;
        an array [B, bars] gives each row's bars their own (all > 0).
        forced [B, F]: tokens given, not sampled, for the first F steps, except where -1 (a
        primer; or the kept bars of a variation, the new ones -1).
        repeats [B, bars]: bar b of row r is a copy of bar repeats[r, b] when that is >= 0 (a
        form, models/forms.py); the copy also feeds the next bar its last token.
        endings [B, bars] or [1, bars]: place ids (melody_vae.place_ids); None = PHRASE_BAR."""
        m = self.model
        with torch.no_grad():
            h0, c0 = torch.tanh(m.bar_to_decoder(conductor)).chunk(2, dim=-1)  # [B, bars, H] each
            bar_in = m.bar_to_input(conductor).numpy()  # [B, bars, b]
        h0, c0 = h0.numpy(), c0.numpy()
        static = bar_in @ self.w_bar + (cond.detach().numpy() @ self.w_cond)[:, None, :] + self.bias  # [B, bars, 4H]
        static = static + self.ending[0 if endings is None else np.asarray(endings)]
        batch, bars = static.shape[:2]
        out = np.empty((batch, bars * steps), dtype=np.int64)
        previous = np.full(batch, REST, dtype=np.int64)  # before the first step
        last_note = previous.copy()  # the latest NOTE token so far (melody_vae.last_notes)
        n_forced = 0 if forced is None else forced.shape[1]
        per_bar = np.ndim(temperature) > 0
        for bar in range(bars):
            # a bar's LSTM starts afresh from its conductor state, so the rows whose bar is a
            # copy (a form's repeat) need not decode it: only the tokens carried on change there
            rows = np.arange(batch) if repeats is None else np.nonzero(repeats[:, bar] < 0)[0]
            h, c = h0[rows, bar], c0[rows, bar]
            bar_static, row_previous, row_last = static[rows, bar], previous[rows], last_note[rows]
            bar_temperature = temperature[rows, bar, None] if per_bar else temperature
            for step in range(steps if len(rows) else 0):
                h, c = lstm_cell(self.tok[row_previous] + self.last[row_last] + self.pos[step] + bar_static + h @ self.w_hh, c)
                t = bar * steps + step
                given = forced[rows, t] if t < n_forced else None
                if given is not None and (given >= 0).all():
                    token = given
                else:
                    logits = h @ self.w_out + self.b_out  # [rows, V]
                    if per_bar or temperature > 0:
                        token = draw(logits / bar_temperature, top_p, rng)
                    else:
                        token = logits.argmax(axis=-1)
                    if given is not None:
                        token = np.where(given >= 0, given, token)
                out[rows, t] = token
                row_previous = token
                row_last = np.where(token >= FIRST_NOTE, token, row_last)
            previous[rows], last_note[rows] = row_previous, row_last
            if repeats is not None:
                for row in np.nonzero(repeats[:, bar] >= 0)[0]:
                    source = repeats[row, bar]
                    copy = out[row, source * steps : (source + 1) * steps]
                    out[row, bar * steps : (bar + 1) * steps] = copy
                    previous[row] = copy[-1]
                    notes = copy[copy >= FIRST_NOTE]
                    if len(notes):
                        last_note[row] = notes[-1]
        return out

    def log_likelihood(self, conductor: torch.Tensor, cond: torch.Tensor, steps: int, tokens: np.ndarray, endings: torch.Tensor | None = None) -> np.ndarray:
        """Sum of log p(tokens) under teacher forcing, per batch row: [B]. tokens [B, F] cover
        the first F steps (a primer); used to pick the latent that best explains a primer."""
        with torch.no_grad():
            bars = -(-tokens.shape[1] // steps)
            padded = np.zeros((tokens.shape[0], bars * steps), dtype=np.int64)
            padded[:, : tokens.shape[1]] = tokens
            logits = self.model.decode_bars(conductor[:, :bars], torch.from_numpy(padded), cond, None if endings is None else endings[:, :bars])
            logp = torch.log_softmax(logits, dim=-1).gather(-1, torch.from_numpy(padded)[..., None])[..., 0]
            return logp[:, : tokens.shape[1]].sum(dim=1).numpy()


def draw(logits: np.ndarray, top_p: float, rng: np.random.Generator) -> np.ndarray:
    """One token a row [B] from softmax(logits [B, V]) restricted to its top-p nucleus: the
    tokens at least as likely as the least likely one that the fewest likeliest tokens adding up
    to top_p need (all of them at top_p >= 1), drawn by one uniform a row against their
    cumulative probabilities."""
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p < 1:
        ranked = -np.sort(-probs, axis=-1)  # most likely first
        last = np.minimum((np.cumsum(ranked, axis=-1) < top_p).sum(axis=-1), probs.shape[1] - 1)
        probs = np.where(probs >= ranked[np.arange(len(probs)), last, None], probs, 0.0)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random(len(probs)) * cumulative[:, -1]
    return np.minimum((cumulative <= u[:, None]).sum(axis=-1), probs.shape[1] - 1)


def halve_sigmoid_gates(w: np.ndarray) -> np.ndarray:
    """A copy of w [..., 4H] (torch's gate order: input, forget, cell, output) with the input,
    forget and output gates' columns halved, as `lstm_cell` takes them. Halving is exact in
    floating point, so sums and products of halved tables are the halved sums and products."""
    h = w.shape[-1] // 4
    scale = np.full(4 * h, 0.5, dtype=w.dtype)
    scale[2 * h : 3 * h] = 1.0
    return np.ascontiguousarray(w * scale)


def lstm_cell(half_gates: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step from its summed gate inputs [B, 4H], the sigmoid gates' halved
    (`halve_sigmoid_gates`), and the cell state [B, H] -> the new h, c [B, H] each.
    sigmoid(x) = (tanh(x / 2) + 1) / 2, so one tanh over all the gates serves the three sigmoids
    and the cell's input: a decode step is mostly numpy's cost per call, and this cell makes 8
    calls where three sigmoids and two tanhs made 17 (the numbers are the same to the bit)."""
    h = c.shape[-1]
    t = np.tanh(half_gates)
    gate = (t + 1.0) * 0.5  # the input, forget and output gates (the cell's quarter unused)
    c = gate[:, h : 2 * h] * c + gate[:, :h] * t[:, 2 * h : 3 * h]
    return gate[:, 3 * h :] * np.tanh(c), c


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)
