"""The melody VAE's pieces, on a small untrained model: shapes, the numpy decoder against torch,
seeds, interpolation ends, continuation, and refused requests. No training here."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from models.dataset import EncodedTune, WindowSampler
from models.encoding import FIRST_NOTE, HOLD, PITCH_LOW, REST, STEPS_PER_BAR, VOCAB, decode, encode, fit_to_range, window
from models.melody import ComposerError, MelodyComposer, slerp
from models.melody_vae import FINAL, OPENING, PENULTIMATE, PHRASE_BAR, PHRASE_START, MelodyVAE, VAEConfig, grown_from, last_notes, place_ids, vae_loss
from models.sampling import FastDecoder

SMALL = VAEConfig(token_embed=8, cond_embed=4, encoder_hidden=16, z_dim=8, conductor_hidden=16, decoder_hidden=24, bar_input=8)


@pytest.fixture(scope="module")
def composer():
    torch.manual_seed(0)
    return MelodyComposer(MelodyVAE(SMALL))


@st.composite
def melodies(draw, total=64):
    notes, step = [], draw(st.integers(0, 4))
    while step < total:
        length = draw(st.integers(1, 8))
        notes.append((draw(st.integers(PITCH_LOW, PITCH_LOW + 47)), step, min(step + length, total)))
        step += length + draw(st.integers(0, 3))
    return np.array(notes, dtype=np.int64).reshape(-1, 3)


@given(melodies())
def test_encoding_round_trip(notes):
    tokens = encode(notes, 64)
    assert tokens.shape == (64,) and tokens.max() < VOCAB
    assert np.array_equal(decode(tokens), notes)


def test_encoding_tokens_by_hand():
    notes = np.array([[60, 0, 2], [62, 4, 8]])
    assert encode(notes, 8).tolist() == [FIRST_NOTE + 12, HOLD, REST, HOLD, FIRST_NOTE + 14, HOLD, HOLD, HOLD]
    assert window(encode(notes, 8), 1, 4).tolist() == [REST, REST, HOLD, FIRST_NOTE + 14]


def test_fit_to_range_moves_tonic_to_c_by_octaves():
    notes = np.array([[62, 0, 4], [69, 4, 8]])  # D, A in D
    moved = fit_to_range(notes, tonic=2)
    assert (moved[:, 0] - (notes[:, 0] - 2)) % 12 == pytest.approx(0)
    assert fit_to_range(np.array([[20, 0, 1], [120, 1, 2]]), 0) is None


def test_shapes_and_loss():
    model = MelodyVAE(SMALL)
    tokens = torch.randint(0, VOCAB, (3, 4 * 12))
    cond = model.condition(torch.tensor([1, 1, 1]), torch.tensor([0, 1, 2]), torch.tensor([0, 1, 0]))
    logits, mu, logvar = model(tokens, 4, cond)
    assert logits.shape == (3, 48, VOCAB) and mu.shape == logvar.shape == (3, SMALL.z_dim)
    loss, stats = vae_loss(logits, tokens, mu, logvar, beta=0.2, free_bits=1.0)
    loss.backward()
    assert 0 <= stats["accuracy"] <= 1


@pytest.mark.parametrize("endings", [None, [[0, 1, 2], [1, 2, 0]]])
def test_numpy_decoder_matches_torch(composer, endings):
    """Greedy tokens from the numpy loop are the argmax of torch's teacher-forced logits."""
    model = composer.model
    z = torch.randn(2, SMALL.z_dim)
    ends = None if endings is None else torch.tensor(endings)
    with torch.no_grad():
        cond = model.condition(torch.tensor([2, 2]), torch.tensor([1, 3]), torch.tensor([0, 1]))
        conductor = model.conduct(z, 3, cond, ends)
        tokens = FastDecoder(model).decode(conductor, cond, 16, 0.0, np.random.default_rng(0), endings=None if ends is None else ends.numpy())
        logits = model.decode_bars(conductor, torch.from_numpy(tokens), cond, ends)
    assert np.array_equal(logits.argmax(-1).numpy(), tokens)


def test_place_ids_mark_phrase_starts_and_the_last_two_bars():
    o, p, s = OPENING, PHRASE_BAR, PHRASE_START
    assert place_ids(4, False) == [o, p, p, p]
    assert place_ids(4, True) == [o, p, PENULTIMATE, FINAL]
    assert place_ids(1, True) == [FINAL]
    assert place_ids(9, False) == [o, p, p, p, s, p, p, p, s]
    assert place_ids(8, True) == [o, p, p, p, s, p, PENULTIMATE, FINAL]
    assert place_ids(3, False, first_bar=-1) == [p, o, p]  # a pickup or carried-over bar first
    assert place_ids(3, False, first_bar=6) == [p, p, s]


def test_grown_model_computes_what_the_old_one_did():
    """Going on training from an older checkpoint: the added ending and last-note inputs start at
    zero and the added places as an ordinary bar, so none changes a logit until training moves them."""
    old = MelodyVAE(SMALL)
    old_state = {k: v for k, v in old.state_dict().items() if not k.startswith(("ending", "last_note"))}
    old_state["conductor.weight_ih_l0"] = old_state["conductor.weight_ih_l0"][:, : -SMALL.ending_embed]
    old_state["decoder.weight_ih_l0"] = old_state["decoder.weight_ih_l0"][:, : -(SMALL.ending_embed + SMALL.last_note_embed)]
    grown = grown_from(old_state, SMALL)
    tokens = torch.randint(0, VOCAB, (2, 32))
    cond = grown.condition(torch.tensor([2, 2]), torch.tensor([0, 1]), torch.tensor([0, 1]))
    z = torch.randn(2, SMALL.z_dim)
    with torch.no_grad():
        plain = grown.decode_teacher_forced(z, tokens, 2, cond)
        ending = grown.decode_teacher_forced(z, tokens, 2, cond, torch.tensor([[1, 2], [1, 2]]))
        grown.last_note.weight.normal_()
        other_last_notes = grown.decode_teacher_forced(z, tokens, 2, cond)
    assert torch.equal(plain, ending) and torch.equal(plain, other_last_notes)

    three_places = dict(grown.state_dict())
    three_places["ending.weight"] = three_places["ending.weight"][:3].clone()
    three_places["ending.weight"][PHRASE_BAR].normal_()
    regrown = grown_from(three_places, SMALL)
    with torch.no_grad():
        ordinary = regrown.decode_teacher_forced(z, tokens, 2, cond, torch.tensor([[PHRASE_BAR, PHRASE_BAR]] * 2))
        opening = regrown.decode_teacher_forced(z, tokens, 2, cond, torch.tensor([[OPENING, PHRASE_START]] * 2))
    assert torch.equal(ordinary, opening)


def test_last_notes_pass_over_holds_and_rests_across_bar_lines():
    c, d = FIRST_NOTE + 12, FIRST_NOTE + 14
    tokens = torch.tensor([[REST, c, HOLD, HOLD, REST, HOLD, d, HOLD]])
    assert last_notes(tokens).tolist() == [[REST, REST, c, c, c, c, c, d]]


def test_numpy_decoder_follows_the_last_note_out_of_a_repeated_bar(composer):
    """After a copied bar, the next bar is decoded from the copy's last note (greedy tokens of
    every bar that is not a copy are the argmax of torch's teacher-forced logits)."""
    model = composer.model
    z = torch.randn(2, SMALL.z_dim)
    repeats = np.array([[-1, -1, 0, -1], [-1, -1, -1, 1]])
    with torch.no_grad():
        cond = model.condition(torch.tensor([2, 2]), torch.tensor([1, 3]), torch.tensor([0, 1]))
        conductor = model.conduct(z, 4, cond)
        tokens = FastDecoder(model).decode(conductor, cond, 16, 0.0, np.random.default_rng(0), repeats=repeats)
        predicted = model.decode_bars(conductor, torch.from_numpy(tokens), cond).argmax(-1).numpy().reshape(2, 4, 16)
    written = repeats < 0
    assert np.array_equal(predicted[written], tokens.reshape(2, 4, 16)[written])


def test_seed_gives_same_melody_and_no_seed_differs(composer):
    a = composer.sample(4, "6/8", "irish", 2, "major", seed=3)[0]
    b = composer.sample(4, "6/8", "irish", 2, "major", seed=3)[0]
    c = composer.sample(4, "6/8", "irish", 2, "major", seed=4, count=3)
    assert np.array_equal(a, b)
    assert len(c) == 3 and any(not np.array_equal(a, m) for m in c)
    fresh = [composer.sample(4, "6/8", "irish", 2, "major")[0] for _ in range(3)]
    assert any(not np.array_equal(fresh[0], m) for m in fresh[1:])
    assert all(m[:, 2].max() <= 4 * 12 for m in fresh if len(m))


def test_interpolation_keeps_the_ends_exactly(composer):
    a = np.array([[60, 0, 4], [64, 4, 8], [67, 8, 16]])
    b = np.array([[72, 0, 8], [71, 8, 12], [69, 12, 32]])
    path = composer.interpolate(a, b, 5, 2, "4/4", "essen", 0, "major")
    assert len(path) == 5
    assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)
    assert all(m.shape[1] == 3 for m in path)


def test_slerp_ends():
    a, b = torch.randn(8), torch.randn(8)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)


def test_continuation_keeps_the_primer(composer):
    primer = np.array([[62, 0, 4], [66, 4, 8], [69, 8, 16]])
    result = composer.continue_melody(primer, 1, 3, "4/4", "irish", 2, "major", seed=1)
    assert np.array_equal(result[:3], primer)
    assert result[:, 2].max() <= 48


def test_vary_is_deterministic_with_seed_and_zero_is_the_melody(composer):
    notes = np.array([[60, 0, 4], [62, 4, 8], [64, 8, 32]])
    assert np.array_equal(composer.vary(notes, 0.5, 2, "4/4", "essen", 0, "major", seed=2),
                          composer.vary(notes, 0.5, 2, "4/4", "essen", 0, "major", seed=2))
    assert np.array_equal(composer.vary(notes, 0, 2, "4/4", "essen", 0, "major", seed=2), notes)


def test_continuation_keeps_a_primer_note_held_to_its_end(composer):
    primer = np.array([[62, 0, 8], [66, 8, 16]])  # the last note sounds to the bar line
    result = composer.continue_melody(primer, 1, 2, "4/4", "irish", 2, "major", seed=3)
    assert np.array_equal(result[:2], primer) and (result[2:, 1] >= 16).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bars=0), "bars must be an integer 1..16"),
        (dict(bars=1000), "bars must be an integer 1..16"),
        (dict(meter="7/8"), "unknown meter '7/8'"),
        (dict(style="klezmer"), "unknown style 'klezmer'"),
        (dict(temperature=0), r"temperature must be a number in \(0, 5\]"),
        (dict(temperature=-1.0), r"temperature must be a number"),
    ],
)
def test_bad_requests_refused(composer, kwargs, message):
    request = dict(bars=4, meter="4/4", style="irish", tonic=0, mode="major", temperature=1.0) | kwargs
    with pytest.raises(ComposerError, match=message):
        composer.sample(**request)


def test_interpolation_needs_two_steps(composer):
    a = np.array([[60, 0, 4]])
    with pytest.raises(ComposerError, match="n >= 2"):
        composer.interpolate(a, a, 1, 2, "4/4", "essen", 0, "major")


def test_draws_keep_to_the_nucleus_each_token_as_often_as_its_share():
    """`draw` takes the fewest likeliest tokens whose probabilities reach top_p, and draws each of
    them in proportion to its probability (all tokens at top_p 1)."""
    from models.sampling import draw

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, VOCAB)) * 3
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    repeats = 20_000
    for top_p in (0.5, 0.9, 1.0):
        tokens = draw(np.repeat(logits, repeats, axis=0), top_p, rng).reshape(4, repeats)
        for row in range(4):
            order = np.argsort(-probs[row])
            n = int(np.searchsorted(np.cumsum(probs[row, order]), top_p)) + 1 if top_p < 1 else VOCAB
            expected = np.zeros(VOCAB)
            expected[order[:n]] = probs[row, order[:n]] / probs[row, order[:n]].sum()
            seen = np.bincount(tokens[row], minlength=VOCAB) / repeats
            assert set(np.nonzero(seen)[0]) <= set(order[:n])
            assert np.abs(seen - expected).max() < 0.015


def test_a_temperature_per_bar_reaches_each_bar(composer):
    """Bars given a near-zero temperature decode as greedy ones do; the others are sampled."""
    model, decoder = composer.model, FastDecoder(composer.model)
    z = torch.randn(3, SMALL.z_dim)
    with torch.no_grad():
        cond = model.condition(torch.tensor([2, 2, 2]), torch.tensor([1, 1, 1]), torch.tensor([0, 0, 0]))
        conductor = model.conduct(z, 2, cond)
    greedy = decoder.decode(conductor, cond, 16, 0.0, np.random.default_rng(0))
    cold_first = decoder.decode(conductor, cond, 16, np.array([[1e-6, 5.0]] * 3), np.random.default_rng(0))
    assert np.array_equal(cold_first[:, :16], greedy[:, :16]) and not np.array_equal(cold_first[:, 16:], greedy[:, 16:])


def test_a_tune_ending_writes_its_last_two_bars_whatever_the_form(composer):
    """The form's other repeats hold; its repeats of the last two bars do not, for a piece that
    ends a tune (the same melody as with those bars marked fresh); a fragment keeps them all."""
    form, fresh_end = (-1, -1, -1, -1, 0, 1, 0, 1), (-1, -1, -1, -1, 0, 1, -1, -1)
    ending = composer.sample(8, "4/4", "irish", 0, "major", seed=5, forms=[form])[0]
    assert np.array_equal(ending, composer.sample(8, "4/4", "irish", 0, "major", seed=5, forms=[fresh_end])[0])
    fragment = composer.sample(8, "4/4", "irish", 0, "major", seed=5, forms=[form], ends_tune=False)[0]
    tokens = encode(fragment, 8 * 16).reshape(8, 16)
    assert np.array_equal(tokens[6:], tokens[0:2]) and np.array_equal(tokens[4:6], tokens[0:2])


def test_windows_carry_their_place_counted_from_the_first_full_bar():
    """A tune of a pickup bar and 8 full bars: each window's place ids count from bar 1, and
    windows that open or end the tune are among those drawn."""
    steps = STEPS_PER_BAR["4/4"]
    tokens = np.full(9 * steps, HOLD, dtype=np.int64)
    for bar in range(9):  # a note every beat, of a pitch that names the bar
        tokens[bar * steps : (bar + 1) * steps : 4] = FIRST_NOTE + 24 + bar
    sampler = WindowSampler([EncodedTune("t", "4/4", "essen", "major", 9, tokens, first_full_bar=1)], lengths=(4,), weights=(1,))
    windows, _, _, _, _, places = sampler.batch(np.random.default_rng(0), 200, 4)
    starts = (windows[:, 0] - FIRST_NOTE - 24).tolist()
    for start, ids in zip(starts, places.tolist()):
        assert ids == place_ids(4, start + 4 == 9, start - 1)
    assert {1, 5} <= set(starts)  # the opening window and the ending one
