"""The studio in the page (web_client/src/studio.js, studio_tune.js, at /studio), in Debian's
headless Chromium driven by Playwright against a real server, as a person uses it: words typed (the
interpretation shown as they type, what could not be honoured with it), a piece composed, drawn and
taken home as MIDI, then played as Sort on that very piece with a partner who opens the room's link; a tune played in on the computer
keyboard against the metronome, continued by the server with its bars kept note for note, and
played as Run to its goal by the human-model bot's keys, and a MIDI file uploaded the same way (then
played as Beat Hunt around its beat); on a phone, the studio fitting the screen,
its keys played by touch, a MIDI file uploaded (cut to 8 bars), continued, two bars re-rolled by a
finger dragged across the roll, and two files refused with the server's reasons; MusicLM's demo story composed and started as a Run
story level. Real key, mouse and touch events at a person's pace; no page may log an error."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request

from game_server.games.blend.material import beat_of, masks, unpack_beats
from game_server.games.run.physics import STEP
from music import Key, Meter, Note, Piece, piece_from_dict, read_midi, to_midi_bytes

from .browser import PHONE, arrow_keys, human_plan, press_at_ticks, touch_drag

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

DESCRIPTION = "a fast Scottish reel in D minor with vocals, on fiddle"
NOTE_COLOUR = (0x6C, 0x4E, 0xE8)  # pianoroll.js's notes


def sig(notes) -> list[tuple[int, int, int]]:
    return [(n["pitch"], n["start"], n["end"]) for n in notes]


def roll_pixels(page, selector: str) -> int:
    """How many of a roll canvas's pixels are note-coloured: it has been drawn with notes."""
    return page.eval_on_selector(
        selector,
        """(canvas, [r, g, b]) => {
          const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) n++;
          return n;
        }""",
        list(NOTE_COLOUR),
    )


def played_notes(page) -> int:
    """Notes and hits the page's audio has handed to its instruments so far (audio.js)."""
    return page.evaluate("import('/static/audio.js').then((a) => a.playedNotes().sampled + a.playedNotes().synth)")


def open_studio(page) -> None:
    """From the lobby's card to /studio, as a person goes there."""
    page.click("#studio-open")
    page.wait_for_function("location.pathname === '/studio'")
    page.wait_for_selector("#studio #studio-run-level option", state="attached")
    page.wait_for_selector("#studio-melody option", state="attached")  # the choices have come


def sections_start(run: dict, index: int) -> int:
    """The bar the story level's section `index` starts on (the view's `run.sections`)."""
    return run["sections"][index]["bar"]


def refusal(server, body: bytes) -> str:
    """The server's own message for a MIDI file it refuses (POST /api/studio/midi)."""
    request = urllib.request.Request(server.url + "/api/studio/midi", data=body, headers={"Content-Type": "audio/midi"}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        return json.loads(error.read())["error"]["message"]
    raise AssertionError("the server took the file")


def test_words_to_a_piece_taken_home_and_played_as_sort(players, server):
    ada = players("Composer")
    page = ada.page
    page.goto(server.url + "/studio")  # the address itself opens the studio (the name is kept: connected)
    page.wait_for_selector("#studio #studio-run-level option", state="attached")
    page.wait_for_selector("#studio-melody option", state="attached")
    page.wait_for_selector("#status[data-state=connected]")
    # the controls offer what the server knows (GET /api/studio/choices)
    from models.grooves import STYLES as GROOVES
    from models.options import METERS, STYLES
    from music import DRUM_KITS, GM_PROGRAMS

    def offered(select: str) -> list[str]:
        return page.eval_on_selector_all(f"{select} option", "options => options.map((o) => o.value ? o.textContent : null).filter((t) => t !== null)")

    assert offered("#studio-melody") == list(GM_PROGRAMS) and offered("#studio-drums") == [f"{name} kit" for name in DRUM_KITS.values()]
    assert offered("#studio-groove") == list(GROOVES) and offered("#studio-meter") == list(METERS) and len(offered("#studio-style")) == len(STYLES)

    # typed at a person's pace: the words are read once the typing pauses, not at every key
    described = []
    page.on("request", lambda r: r.url.endswith("/api/studio/describe") and described.append(r))
    page.locator("#studio-text").press_sequentially(DESCRIPTION, delay=40)
    page.wait_for_function("document.querySelector('#studio-ignored').textContent.includes('vocals')")
    assert len(described) <= 3, f"{len(described)} describe requests for one pause in typing"
    understood, ignored = page.inner_text("#studio-understood"), page.inner_text("#studio-ignored")
    assert "150 bpm" in understood and "D minor" in understood and "Fiddle" in understood
    assert "vocals" in ignored and "no voices" in ignored and "vocals" not in understood
    assert page.input_value("#studio-tempo") == "150" and page.input_value("#studio-melody") == "110" and page.input_value("#studio-key") == "2"

    with page.expect_response(lambda r: r.url.endswith("/api/studio/compose")) as composed:
        page.click("#studio-compose")
    made = composed.value.json()
    assert composed.value.status == 200 and made["piece"]["tempo"] == 150 and made["music"]["seed"] == made["seed"]
    page.wait_for_selector("#studio-piece:not([hidden]) #studio-roll-box .studio-roll[data-notes]:not([data-notes='0'])")
    assert page.inner_text("#studio-piece-line") == "8 bars · 4/4 · 150 bpm · D minor · Fiddle"
    assert roll_pixels(page, "#studio-roll-box canvas") > 200  # the melody is drawn
    assert page.locator("#studio-roll-box .studio-bars .bar").count() == 8
    ada.shot("studio", full_page=True)

    # heard: its notes go to the instruments while a playhead crosses the roll, until "Stop"
    before = played_notes(page)
    page.click("#studio-play")
    page.wait_for_selector("#studio-play[aria-pressed=true]")
    page.wait_for_selector("#studio-roll-box .studio-playhead:not([hidden])")
    page.wait_for_function(f"import('/static/audio.js').then((a) => a.playedNotes().sampled + a.playedNotes().synth > {before})")
    page.click("#studio-play")
    page.wait_for_selector("#studio-play[aria-pressed=false]")
    assert page.is_hidden("#studio-roll-box .studio-playhead")

    # take it home: the MIDI file is the piece, at its tempo and in its key
    with page.expect_download() as download:
        page.click("#studio-downloads [data-ext=mid]")
    data = open(download.value.path(), "rb").read()
    assert data[:4] == b"MThd"
    midi = read_midi(data)
    assert (midi.tempo, midi.key.tonic, midi.key.mode, midi.bars) == (150, 2, "minor", 8)
    assert [(n.pitch, n.start, n.end) for n in midi.melody] == sig(made["piece"]["melody"])

    # play it as Sort with a partner: a co-op room whose link the partner opens, as the lobby's;
    # the round, started once they are in, is on this very piece (the answer's music, its seed)
    page.check("#studio-coop")
    page.click("#studio-play-sort")
    page.wait_for_selector("#room-panel:not([hidden]) #room-waiting:not([hidden])")
    assert page.evaluate("location.pathname") == "/"
    partner = players("Partner").page
    partner.goto(page.input_value("#room-link"))
    page.wait_for_selector("#room-seats li:nth-child(2)")
    page.click("#start-round")
    for player in (page, partner):
        player.wait_for_function("window.arcade.round && window.arcade.round.game === 'sort'")
        assert player.is_visible("#sort-title")
    stored = server.stored_round(page.evaluate("window.arcade.round.round_id"))
    assert json.loads(stored.piece) == made["piece"] and len(stored.players) == 2
    assert page.evaluate("window.arcade.refused") == [] and partner.evaluate("window.arcade.refused") == []


def test_a_tune_played_in_continued_and_run(players, server):
    bo = players("Tunesmith")
    page = bo.page
    open_studio(page)
    page.click("#studio-tab-tune")
    page.fill("#studio-tempo", "")
    page.locator("#studio-tempo").press_sequentially("120", delay=60)  # by hand: the recording's tempo
    page.select_option("#studio-tune-bars", "2")
    page.click("#studio-record")
    page.wait_for_selector("#studio-tune[data-phase=count-in]")
    page.wait_for_selector("#studio-tune[data-phase=recording]", timeout=5000)  # one bar of clicks: 2 s
    # C E G B C A F D, legato as a player plays a tune (the next key down before the last is let
    # go), 250-400 ms apart, the last held to the end: a rest of half a bar would be a hole too
    # wide to jump in Run (the server refuses such a piece: unplayable_music)
    keys = "adgjkhfs"
    page.keyboard.down(keys[0])
    for last, key, gap in zip(keys, keys[1:], (375, 375, 250, 400, 375, 250, 375)):
        page.wait_for_timeout(gap - 30)
        page.keyboard.down(key)
        page.wait_for_timeout(30)
        page.keyboard.up(last)
    page.wait_for_selector("#studio-tune[data-phase=done]", timeout=5000)
    page.keyboard.up(keys[-1])
    tune = page.evaluate("window.arcade.studio.tune()")
    played = sig(tune["melody"])
    assert (tune["tempo"], tune["meter"], tune["bars"]) == (120, "4/4", 2)
    assert [p for p, _, _ in played] == [60, 64, 67, 71, 72, 69, 65, 62], played  # every key, in order, one note each
    assert all(b[1] == a[2] for a, b in zip(played, played[1:])) and played[-1][2] == 32  # one at a time, each cut by the next
    assert page.locator("#studio-tune-roll .studio-roll[data-notes='8']").count() == 1

    made, view = continued_and_started_as_run(page, played, 4, lambda: bo.shot("studio-tune", full_page=True))
    assert view["level"] == "run-1-own" and view["run"]["piece"]["melody"] == made["melody"] and view["run"]["tempo"] == 120
    run_to_the_goal(page, view)
    bo.shot("run-tune-result")


def test_an_uploaded_tune_continued_and_run(players, server):
    """A MIDI file from disk instead of keys: the same way to a Run level, to its goal; then the
    same music played as Beat Hunt."""
    di = players("Uploader")
    page = di.page
    open_studio(page)
    page.click("#studio-tab-tune")
    tune = Piece(tempo=100, meter=Meter(4, 4), key=Key(7, "major"), bars=2, melody=tuple(Note(4 * i, 4 * i + 4, p) for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69])))
    with page.expect_response(lambda r: r.url.endswith("/api/studio/midi")):
        page.set_input_files("#studio-midi", files=[{"name": "air.mid", "mimeType": "audio/midi", "buffer": to_midi_bytes(tune)}])
    page.wait_for_selector("#studio-tune-roll .studio-roll[data-notes='8']")
    read = page.evaluate("window.arcade.studio.tune()")
    assert (read["tempo"], read["bars"]) == (100, 2) and sig(read["melody"]) == [(n.pitch, n.start, n.end) for n in tune.melody]
    made, view = continued_and_started_as_run(page, sig(read["melody"]), 4)
    assert view["level"] == "run-1-own" and view["run"]["piece"]["melody"] == made["melody"] and view["run"]["tempo"] == 100
    run_to_the_goal(page, view)

    # back in the studio, the same piece as Beat Hunt: its first two bars of drums are the grid's
    # top-left corner, heard under the puck there; a submit ends the round
    page.click("#result-lobby")
    open_studio(page)
    page.select_option("#studio-blend-level", "hunt|0")
    page.click("#studio-play-blend")
    page.wait_for_selector("#hunt:not([hidden]) #hunt-board .cell")
    hunt = page.evaluate("window.arcade.round")
    assert hunt["level"] == "hunt-0-own" and hunt["hunt"]["tempo"] == 100
    assert masks(unpack_beats(hunt["hunt"]["packed_beats"], 25, hunt["hunt"]["steps"])[0]) == masks(beat_of(piece_from_dict(made)))  # cell (0, 0)
    box = page.locator("#hunt-board .cell[data-x='0'][data-y='0']").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#hunt-puck[data-x='0'][data-y='0']")
    page.click("#hunt-submit")
    page.wait_for_selector("#result:not([hidden])")
    assert page.evaluate("window.arcade.round.result")["level"] == "hunt-0-own"


def continued_and_started_as_run(page, played: list, bars: int, first_shown=lambda: None) -> tuple[dict, dict]:
    """Continue the studio's 2-bar tune to `bars` bars (its notes kept as `played`), then "Play as
    Run". Run takes a player's piece only if a person can finish it (a long rest is a hole too wide
    to jump, and a continuation may have one): refused, the page is back in the studio, and the
    player continues the tune again, as a person would. Returns the piece and the round's view."""
    page.select_option("#studio-continue-bars", str(bars))
    for attempt in range(8):
        with page.expect_response(lambda r: r.url.endswith("/api/studio/tune")) as answered:
            page.click("#studio-continue")
        made = answered.value.json()["piece"]
        assert made["bars"] == bars and made["chords"] and made["drums"]
        assert [n for n in sig(made["melody"]) if n[1] < 2 * made["steps_per_bar"]] == played
        page.wait_for_function(f"document.querySelector('#studio-roll-box .studio-roll').dataset.notes === '{len(made['melody'])}'")
        assert page.eval_on_selector_all("#studio-roll-box .bar.tune", "bars => bars.map((b) => Number(b.dataset.bar))") == [0, 1]
        assert page.inner_text("#studio-piece-title") == "Your tune, continued"
        if attempt == 0:
            first_shown()
            page.select_option("#studio-run-level", "run|1")  # leaps of an octave: a tune may leap further than level 0's ninth
        page.click("#studio-play-run")
        if start_run_or_refused(page):
            return made, page.evaluate("window.arcade.round")
        assert page.inner_text("#notice").endswith("(unplayable_music)")
    raise AssertionError("Run refused 8 continuations of the tune")


def run_to_the_goal(page, view: dict) -> None:
    """The human-model bot's keys, pressed as the round's clock reaches them, reach the goal."""
    plan = human_plan(view, 0)  # during the count-in
    page.wait_for_function("window.arcade.runTick() >= -30")
    press_at_ticks(page, plan, arrow_keys(page))
    page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    for key in ("ArrowLeft", "ArrowRight", "ArrowUp"):
        page.keyboard.up(key)
    result = page.evaluate("window.arcade.round.result")
    assert result["lanes"][0]["status"] == "goal", result["lanes"][0]
    assert page.evaluate("window.arcade.refused") == []


def start_run_or_refused(page) -> bool:
    """After "Play as Run" from the studio: the level started (the first-play help read, if it is
    shown), or the server refused the music and the page is back in the studio."""
    started = "window.arcade.round && window.arcade.round.game === 'run' && !window.arcade.round.result"
    help_shown = "document.querySelector('#run-help-start') && document.querySelector('#run-help-start').offsetParent !== null"
    page.wait_for_function(f"({started}) || ({help_shown}) || location.pathname === '/studio'", timeout=30_000)
    if page.is_visible("#run-help-start"):
        page.click("#run-help-start")
        page.wait_for_function(f"({started}) || location.pathname === '/studio'", timeout=30_000)
    return page.evaluate(started)


def test_on_a_phone_keys_by_touch_and_midi_files(players, server):
    cy = players("Thumbs", PHONE)
    page = cy.page
    page.locator("#studio-open").tap()
    page.wait_for_function("location.pathname === '/studio'")
    for tab in ("story", "compose", "tune"):  # every tab fits the screen
        page.locator(f"#studio-tab-{tab}").tap()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, tab
    page.wait_for_selector("#studio-keys .key")

    # a bar recorded by fingers on the on-screen keys
    page.select_option("#studio-tune-bars", "1")
    page.locator("#studio-record").tap()
    page.wait_for_selector("#studio-tune[data-phase=recording]", timeout=6000)
    for offset in (0, 4, 7):
        page.locator(f"#studio-keys .key[data-offset='{offset}']").tap()
        page.wait_for_timeout(300)
    page.wait_for_selector("#studio-tune[data-phase=done]", timeout=6000)
    assert [n["pitch"] for n in page.evaluate("window.arcade.studio.tune()")["melody"]] == [60, 64, 67]

    # a MIDI file of 12 bars: a tune of its first 8
    long = Piece(tempo=110, meter=Meter(4, 4), key=Key(2, "major"), bars=12, melody=tuple(Note(4 * i, 4 * i + 3, 62 + i % 5) for i in range(48)))
    with page.expect_response(lambda r: r.url.endswith("/api/studio/midi")):
        page.set_input_files("#studio-midi", files=[{"name": "reel.mid", "mimeType": "audio/midi", "buffer": to_midi_bytes(long)}])
    page.wait_for_function("document.querySelector('#studio-tune-status').textContent.includes('first 8 bars kept')")
    assert "the file has 12" in page.inner_text("#studio-tune-status")
    tune = page.evaluate("window.arcade.studio.tune()")
    assert tune["bars"] == 8 and sig(tune["melody"]) == [(62 + i % 5, 4 * i, 4 * i + 3) for i in range(32)]

    # continued to 12 bars; bars 10 and 11 re-rolled, picked by a finger dragged across them
    page.select_option("#studio-continue-bars", "12")
    with page.expect_response(lambda r: r.url.endswith("/api/studio/tune")) as answered:
        page.locator("#studio-continue").tap()
    made = answered.value.json()["piece"]
    assert [n for n in sig(made["melody"]) if n[1] < 128] == sig(tune["melody"])
    page.wait_for_selector("#studio-piece:not([hidden]) #studio-roll-box .studio-roll[data-bars='12']")
    page.locator("#studio-reroll-row").scroll_into_view_if_needed()

    def centre(bar):
        box = page.locator(f"#studio-roll-box .bar[data-bar='{bar}']").bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    touch_drag(page, page.context.new_cdp_session(page), [centre(9), centre(10)], 150)
    assert (page.input_value("#studio-from"), page.input_value("#studio-to")) == ("10", "11")
    with page.expect_response(lambda r: r.url.endswith("/api/studio/regenerate")) as answered:
        page.locator("#studio-reroll").tap()
    rerolled = answered.value.json()["piece"]

    def outside(piece):  # a note running into bar 10 may be cut at its start
        return [(p, s, min(e, 144) if s < 144 else e) for p, s, e in sig(piece["melody"]) if not 144 <= s < 176]

    assert outside(rerolled) == outside(made)
    page.wait_for_function("document.querySelector('#studio-piece-title').textContent.endsWith('re-rolled')")
    assert page.eval_on_selector_all("#studio-roll-box .bar.tune", "bars => bars.map((b) => Number(b.dataset.bar))") == list(range(8))
    assert page.eval_on_selector_all("#studio-roll-box .bar.selected", "bars => bars.map((b) => Number(b.dataset.bar))") == [9, 10]

    # a file that is no MIDI, and one too large: the server's own reasons
    for name, body, code in (("broken.mid", b"MThd\x00\x00\x00\x06 this is not a midi file", "bad_midi"), ("huge.mid", b"MThd" + bytes(65 * 1024), "too_large")):
        message = refusal(server, body)
        with page.expect_response(lambda r: r.url.endswith("/api/studio/midi")):
            page.set_input_files("#studio-midi", files=[{"name": name, "mimeType": "audio/midi", "buffer": body}])
        page.wait_for_selector(f"#studio-tune-status.bad[data-code='{code}']")
        assert message in page.inner_text("#studio-tune-status") and name in page.inner_text("#studio-tune-status")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cy.shot("studio-phone")
    # Chromium logs each refused request to the console: exactly those two, and nothing else
    refused = [e for e in cy.errors if "Failed to load resource" in e]
    assert len(refused) == 2 and "400" in refused[0] and "413" in refused[1], cy.errors
    cy.errors[:] = [e for e in cy.errors if e not in refused]


def test_musiclm_demo_story_composed_and_run(players, server):
    dee = players("Teller")
    page = dee.page
    open_studio(page)
    page.click("#studio-tab-story")
    page.click("#studio-demo")
    assert page.locator("#studio-sections-edit .desc").count() == 8
    assert page.input_value("#studio-sections-edit li:nth-child(4) .desc") == "death metal"
    with page.expect_response(lambda r: r.url.endswith("/api/studio/story")) as answered:
        page.click("#studio-story")
    told = answered.value.json()
    assert [s["bar"] for s in told["sections"]] == [0, 2, 4, 6, 8, 10, 12, 14]
    page.wait_for_selector("#studio-sections .studio-section >> nth=7")
    names = page.eval_on_selector_all("#studio-sections .studio-section-name", "names => names.map((n) => n.textContent)")
    assert names == [s["name"] for s in told["sections"]] and names[3] == "death metal"
    rap = page.locator("#studio-sections .studio-section").nth(4)
    assert "no voices" in rap.locator(".ignored").inner_text()  # what could not be honoured, section by section
    assert "Violin" in page.locator("#studio-sections .studio-section").nth(5).locator(".understood").first.inner_text()
    # taken home as one file: the sections joined, each at its tempo
    with page.expect_download() as download:
        page.click("#studio-downloads [data-ext=mid]")
    midi = read_midi(open(download.value.path(), "rb").read())
    assert midi.bars == 16 and [midi.tempo_at(s["bar"]) for s in told["sections"]] == [p["tempo"] for p in told["pieces"]]
    before = played_notes(page)
    page.click("#studio-play")  # the sections one after another, each at its tempo
    page.wait_for_function(f"import('/static/audio.js').then((a) => a.playedNotes().sampled + a.playedNotes().synth > {before})")

    page.select_option("#studio-run-level", "run|0")
    page.click("#studio-play-run")
    dee.start_run()
    view = page.evaluate("window.arcade.round")
    assert view["level"] == "run-0-story"
    assert [s["name"] for s in view["run"]["sections"]] == names
    assert page.evaluate("window.arcade.refused") == []
    # played by the human-model bot's keys into its third section: each is named as the playhead
    # reaches it, at the bar line the level drew for it (a section at another tempo is wider or
    # narrower); the whole level to its goal is tests/test_story.py's, on the same physics
    run = view["run"]
    assert len({piece_tempo_at(run["piece"], s["bar"]) for s in run["sections"]}) > 1  # the sections' own tempi
    third = math.ceil(run["bar_x"][sections_start(run, 2)] * 900 / (run["tempo"] * STEP))  # its first tick
    seen = []
    for tick, key, down in human_plan(view, 0):
        press_at_ticks(page, [(tick, key, down)], arrow_keys(page))
        shown = page.get_attribute("#run-section", "data-index")
        if shown is not None and (not seen or seen[-1] != shown):
            seen.append(shown)
        if tick >= third + 30:
            break
    assert seen == ["0", "1", "2"], seen
    assert page.inner_text("#run-section") == f"3/8: {names[2]}"
    dee.shot("run-story")


def piece_tempo_at(piece: dict, bar: int) -> int:
    """The tempo a piece's bar is played at (its JSON's `tempo_changes`)."""
    return [piece["tempo"], *(change["tempo"] for change in piece.get("tempo_changes", []) if change["bar"] <= bar)][-1]
