"""A hierarchical melody VAE in the spirit of MusicVAE (Roberts et al., 2018), sized for a CPU.

Encoder (hierarchical, so a 16-bar melody costs 16 + 16 sequential steps, not 256):
    tokens [B, bars*S] -> embed -> per-bar BiLSTM over S steps  -> bar codes [B, bars, 2*He]
                        -> BiLSTM over bars                     -> [B, 2*He] -> mu, logvar [B, Z]
Decoder:
    z [B, Z] -> conductor LSTM, one step per bar                -> c [B, bars, Hc]
    for each bar b: an LSTM whose state starts from tanh(W c_b) emits S tokens autoregressively;
    its input each step is [embed(previous token), P c_b, position-in-bar, meter/style/mode,
    ending, embed'(last note)]. (P c_b is a small projection of the bar embedding: a narrow input
    keeps the step cheap.)
Last note: the pitch of the latest note started before this step, across bar lines. A bar's LSTM
starts afresh from c_b, and the previous token alone is HOLD whenever a note is tied over the
bar line, so without it a bar would not know which pitch it continues from: a tune's last note
would be reached by a leap as often as by a step.
Conditioning: meter (2/4, 3/4, 4/4, 6/8) and style (the corpus collection) are embedded and fed
to the encoder, conductor and decoder. Melodies are in C (see encoding.py); the mode (major or
minor) is a condition too.
Places: each bar also carries its place in the tune, embedded and fed to the conductor and the
decoder: OPENING (the tune's first full bar), PHRASE_START (every fourth bar after it), PENULTIMATE
or FINAL (the tune's last two bars), PHRASE_BAR (any other). Trained on windows that end where
their tune ends, it lets a composed piece close like a tune: the approach in the penultimate bar,
a tonic held on the last. Tunes open and start their 4-bar phrases otherwise than they go on (in
the train split a phrase's first bar repeats a note more often and falls by a step less often:
Essen 0.29 / 0.23 / 0.19 repeated notes in the opening bar / other phrase starts / other bars),
which a window taken anywhere in a tune cannot tell without its place. [B, bars] ids; None = all
PHRASE_BAR.

S = steps per bar on the 16th grid (8, 12 or 16); a batch holds one meter and one length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .encoding import FIRST_NOTE, REST, VOCAB
from .options import METERS, MODES, STYLES  # embedding ids in these orders

PHRASE_BAR, PENULTIMATE, FINAL, OPENING, PHRASE_START = 0, 1, 2, 3, 4
PLACES = 5
PHRASE_BARS = 4  # folk tunes phrase in 4 bars (8-bar strains of two phrases)


def place_ids(bars: int, ends_tune: bool, first_bar: int = 0) -> list[int]:
    """Per-bar place ids for a piece of `bars` bars whose first bar is bar `first_bar` of its
    tune, counted from the tune's first full bar (-1: a pickup bar, or a bar carried over from
    before): OPENING and PHRASE_START where phrases begin, the last two bars PENULTIMATE and FINAL
    if the piece ends the tune, PHRASE_BAR elsewhere."""
    def place(bar: int) -> int:
        if bar == 0:
            return OPENING
        return PHRASE_START if bar > 0 and bar % PHRASE_BARS == 0 else PHRASE_BAR

    ids = [place(first_bar + b) for b in range(bars)]
    if ends_tune:
        for bar, kind in ((bars - 2, PENULTIMATE), (bars - 1, FINAL)):
            if bar >= 0:
                ids[bar] = kind
    return ids


@dataclass(frozen=True)
class VAEConfig:
    vocab: int = VOCAB
    token_embed: int = 32
    cond_embed: int = 8
    encoder_hidden: int = 128
    z_dim: int = 96
    conductor_hidden: int = 192
    decoder_hidden: int = 256
    bar_input: int = 32
    max_steps_per_bar: int = 16
    ending_embed: int = 8
    last_note_embed: int = 16

    def to_dict(self) -> dict:
        return asdict(self)


class Conditioning(nn.Module):
    """Meter, style and mode ids [B] -> one vector [B, 3*E]."""

    def __init__(self, size: int):
        super().__init__()
        self.meter = nn.Embedding(len(METERS), size)
        self.style = nn.Embedding(len(STYLES), size)
        self.mode = nn.Embedding(len(MODES), size)

    def forward(self, meter: torch.Tensor, style: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.meter(meter), self.style(style), self.mode(mode)], dim=-1)


class MelodyVAE(nn.Module):
    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = c = config
        cond = 3 * c.cond_embed
        self.condition = Conditioning(c.cond_embed)
        self.embed = nn.Embedding(c.vocab, c.token_embed)
        self.position = nn.Embedding(c.max_steps_per_bar, c.cond_embed)
        self.ending = nn.Embedding(PLACES, c.ending_embed)
        self.last_note = nn.Embedding(c.vocab, c.last_note_embed)
        # encoder
        self.bar_encoder = nn.LSTM(c.token_embed + c.cond_embed, c.encoder_hidden, batch_first=True, bidirectional=True)
        self.song_encoder = nn.LSTM(2 * c.encoder_hidden + cond, c.encoder_hidden, batch_first=True, bidirectional=True)
        self.to_mu = nn.Linear(2 * c.encoder_hidden, c.z_dim)
        self.to_logvar = nn.Linear(2 * c.encoder_hidden, c.z_dim)
        # decoder
        self.z_to_conductor = nn.Linear(c.z_dim + cond, 2 * c.conductor_hidden)
        self.conductor = nn.LSTM(cond + c.ending_embed, c.conductor_hidden, batch_first=True)
        self.bar_to_decoder = nn.Linear(c.conductor_hidden, 2 * c.decoder_hidden)
        self.bar_to_input = nn.Linear(c.conductor_hidden, c.bar_input)
        # decoder input layout: [token embed | bar input | position | conditioning | ending | last note]
        self.decoder = nn.LSTM(c.token_embed + c.bar_input + c.cond_embed + cond + c.ending_embed + c.last_note_embed, c.decoder_hidden, batch_first=True)
        self.output = nn.Linear(c.decoder_hidden, c.vocab)

    # ---- encoder -------------------------------------------------------------------------
    def encode(self, tokens: torch.Tensor, bars: int, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens [B, bars*S], cond [B, C] -> mu, logvar [B, Z]."""
        batch, total = tokens.shape
        steps = total // bars
        x = self.embed(tokens.reshape(batch * bars, steps))  # [B*bars, S, E]
        pos = self.position.weight[:steps].expand(batch * bars, steps, -1)
        _, (h, _) = self.bar_encoder(torch.cat([x, pos], dim=-1))  # h [2, B*bars, He]
        bar_codes = h.transpose(0, 1).reshape(batch, bars, -1)  # [B, bars, 2*He]
        bar_codes = torch.cat([bar_codes, cond[:, None, :].expand(-1, bars, -1)], dim=-1)
        _, (h, _) = self.song_encoder(bar_codes)  # [2, B, He]
        summary = h.transpose(0, 1).reshape(batch, -1)  # [B, 2*He]
        return self.to_mu(summary), self.to_logvar(summary)

    # ---- decoder -------------------------------------------------------------------------
    def endings_of(self, endings: torch.Tensor | None, batch: int, bars: int) -> torch.Tensor:
        """Ending ids [B, bars] -> embeddings [B, bars, En]; None = every bar PHRASE_BAR."""
        if endings is None:
            endings = torch.zeros(batch, bars, dtype=torch.long)
        return self.ending(endings.expand(batch, bars))

    def conduct(self, z: torch.Tensor, bars: int, cond: torch.Tensor, endings: torch.Tensor | None = None) -> torch.Tensor:
        """z [B, Z], endings [B, bars] -> bar embeddings [B, bars, Hc]."""
        h0, c0 = torch.tanh(self.z_to_conductor(torch.cat([z, cond], dim=-1))).chunk(2, dim=-1)
        inputs = torch.cat([cond[:, None, :].expand(-1, bars, -1), self.endings_of(endings, z.shape[0], bars)], dim=-1)
        out, _ = self.conductor(inputs, (h0[None].contiguous(), c0[None].contiguous()))
        return out

    def _bar_state(self, bar_embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = torch.tanh(self.bar_to_decoder(bar_embedding)).chunk(2, dim=-1)
        return h[None].contiguous(), c[None].contiguous()

    def decode_teacher_forced(self, z: torch.Tensor, tokens: torch.Tensor, bars: int, cond: torch.Tensor, endings: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, bars*S, V] for the targets `tokens` [B, bars*S]."""
        return self.decode_bars(self.conduct(z, bars, cond, endings), tokens, cond, endings)

    def decode_bars(self, conductor: torch.Tensor, tokens: torch.Tensor, cond: torch.Tensor, endings: torch.Tensor | None = None) -> torch.Tensor:
        """conductor [B, bars, Hc], tokens [B, bars*S] -> logits [B, bars*S, V]. All bars run in
        parallel, each fed the true previous token (for its first step, the bar before's last)."""
        batch, bars = conductor.shape[:2]
        total = tokens.shape[1]
        steps = total // bars
        flat = conductor.reshape(batch * bars, -1)  # [B*bars, Hc]
        previous = torch.cat([torch.full_like(tokens[:, :1], 1), tokens[:, :-1]], dim=1)  # REST before the start
        x = self.embed(previous.reshape(batch * bars, steps))  # [B*bars, S, E]
        bar_input = self.bar_to_input(flat)[:, None, :].expand(-1, steps, -1)
        pos = self.position.weight[:steps].expand(batch * bars, steps, -1)
        cond_rep = cond.repeat_interleave(bars, dim=0)[:, None, :].expand(-1, steps, -1)
        ending = self.endings_of(endings, batch, bars).reshape(batch * bars, 1, -1).expand(-1, steps, -1)
        last = self.last_note(last_notes(tokens).reshape(batch * bars, steps))  # [B*bars, S, L]
        out, _ = self.decoder(torch.cat([x, bar_input, pos, cond_rep, ending, last], dim=-1), self._bar_state(flat))  # [B*bars, S, Hd]
        return self.output(out).reshape(batch, total, -1)

    def forward(self, tokens: torch.Tensor, bars: int, cond: torch.Tensor, endings: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training pass: logits [B, T, V], mu, logvar [B, Z] (z drawn by the reparameterization)."""
        mu, logvar = self.encode(tokens, bars, cond)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_teacher_forced(z, tokens, bars, cond, endings), mu, logvar


def last_notes(tokens: torch.Tensor) -> torch.Tensor:
    """tokens [B, T] -> [B, T]: at each step the latest NOTE token before it, REST where none has
    started yet (HOLD and REST tokens in between are passed over)."""
    steps = torch.arange(tokens.shape[1], device=tokens.device).expand_as(tokens)
    latest = torch.where(tokens >= FIRST_NOTE, steps, -1).cummax(dim=1).values  # at or before each step
    at_or_before = torch.where(latest >= 0, tokens.gather(1, latest.clamp(min=0)), REST)
    return torch.cat([torch.full_like(tokens[:, :1], REST), at_or_before[:, :-1]], dim=1)


def grown_from(old_state: dict[str, torch.Tensor], config: VAEConfig) -> MelodyVAE:
    """A model with `config` whose weights are an older model's wherever the shapes agree; the
    inputs added since (the ending and last-note columns of the conductor and decoder LSTMs)
    start at zero and the places added since as an ordinary bar, so the grown model computes
    exactly what the old one did until it is trained."""
    new = MelodyVAE(config)
    new_state = new.state_dict()
    for name, old_value in old_state.items():
        old_value = old_value.float()
        value = new_state[name]
        if value.shape == old_value.shape:
            new_state[name] = old_value.clone()
        elif name == "ending.weight" and value.shape[1] == old_value.shape[1]:  # places added since: start as PHRASE_BAR
            grown = old_value[PHRASE_BAR].expand_as(value).clone()
            grown[: old_value.shape[0]] = old_value
            new_state[name] = grown
        elif name.endswith("weight_ih_l0") and value.shape[0] == old_value.shape[0]:
            grown = torch.zeros_like(value)
            grown[:, : old_value.shape[1]] = old_value
            new_state[name] = grown
    new.load_state_dict(new_state)
    return new


def vae_loss(logits: torch.Tensor, tokens: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float, free_bits: float) -> tuple[torch.Tensor, dict]:
    """Cross-entropy per sequence + beta * max(KL - free_bits, 0), MusicVAE's objective."""
    reconstruction = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none").sum(dim=1).mean()
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=1).mean()
    loss = reconstruction + beta * torch.clamp(kl - free_bits, min=0)
    accuracy = (logits.argmax(dim=-1) == tokens).float().mean()
    return loss, {"reconstruction": reconstruction.item(), "kl": kl.item(), "accuracy": accuracy.item()}
