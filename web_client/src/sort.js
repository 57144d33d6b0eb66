// Sort in the page: the board (slots and tray of clips drawn as piano rolls), listening, moves by
// drag and drop or by click-then-slot, the partner's moves live. Every move goes to the server,
// which decides; the page draws the board the server sends back.
import * as audio from "./audio.js";
import { drawRoll } from "./pianoroll.js";

export class SortView {
  constructor(app) {
    this.app = app;
    this.round = null;
    this.board = null;
    this.clips = {};
    this.pieces = {}; // clip id -> piece, for clips heard (hidden ones come with the listen reply)
    this.selected = null;
    const $ = (id) => document.getElementById(id);
    this.el = { slots: $("slots"), tray: $("tray"), info: $("sort-info"), title: $("sort-title") };
    $("sort-play").addEventListener("click", () => this.playBoard());
    $("sort-submit").addEventListener("click", () => this.move("submit"));
    this.el.tray.addEventListener("dragover", (e) => e.preventDefault());
    this.el.tray.addEventListener("drop", (e) => this.#drop(e, null));
  }

  enter(round) {
    const same = this.round && this.round.round_id === round.round_id;
    this.round = round;
    if (!same) {
      this.clips = round.board.clips;
      this.pieces = {};
      for (const [id, clip] of Object.entries(this.clips)) if (clip.piece) this.pieces[id] = clip.piece;
      this.selected = null;
    }
    this.board = round.board;
    this.el.title.textContent = `Sort · ${round.level}`;
    this.render();
  }

  onBoard(data) {
    if (!this.round || data.round_id !== this.round.round_id) return;
    if (data.board.version >= this.board.version) {
      this.board = data.board;
      this.render();
    }
  }

  async move(kind, fields = {}) {
    const reply = await this.app.send("sort_move", { round_id: this.round.round_id, version: this.board.version, move: { kind, ...fields } });
    if (reply.ok) {
      if (reply.board.version >= this.board.version) this.board = reply.board;
      if (reply.clip) this.pieces[reply.clip.id] = reply.clip.piece;
    } else if (reply.error.board) {
      this.board = reply.error.board; // stale: the partner moved first; here is the board now
    }
    this.render();
    return reply;
  }

  async listen(clipId) {
    const reply = await this.move("listen_clip", { clip: clipId });
    if (reply.ok) this.#highlight(clipId, audio.play(this.pieces[clipId]));
  }

  async playBoard() {
    const reply = await this.move("listen_board");
    if (!reply.ok) return;
    const known = Object.values(this.pieces)[0];
    const pieces = this.board.slots.filter(Boolean).map((id) => this.pieces[id] || silence(known, this.clips[id].bars));
    if (pieces.length) audio.play(pieces);
  }

  render() {
    const b = this.board;
    this.el.info.textContent = `version ${b.version} · ${b.listens} listens${b.submitted ? " · submitted" : ""}`;
    this.el.slots.replaceChildren(
      ...b.slots.map((clip, i) => {
        const slot = document.createElement("div");
        slot.className = "slot" + (b.fixed.includes(i) ? " fixed" : "");
        slot.dataset.slot = i;
        slot.textContent = clip ? "" : String(i + 1);
        if (clip) slot.append(this.#card(clip, i));
        slot.addEventListener("dragover", (e) => e.preventDefault());
        slot.addEventListener("drop", (e) => this.#drop(e, i));
        slot.addEventListener("click", () => this.#clickSlot(i));
        return slot;
      }),
    );
    this.el.tray.replaceChildren(...b.tray.map((clip) => this.#card(clip, null)));
  }

  #card(clipId, slot) {
    const card = document.createElement("div");
    const clip = this.clips[clipId];
    card.className = "clip" + (clip.hidden ? " hidden" : "") + (this.selected === clipId ? " selected" : "");
    card.dataset.clip = clipId;
    const fixed = slot !== null && this.board.fixed.includes(slot);
    card.draggable = !fixed && !this.board.submitted;
    if (!clip.hidden) {
      const canvas = document.createElement("canvas");
      drawRoll(canvas, clip.piece);
      card.append(canvas);
    }
    card.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", JSON.stringify({ clip: clipId, from: slot })));
    card.addEventListener("click", (e) => {
      e.stopPropagation();
      if (this.selected && this.selected !== clipId && slot !== null) return this.#clickSlot(slot);
      this.selected = fixed || this.selected === clipId ? null : clipId;
      this.listen(clipId);
    });
    return card;
  }

  #clickSlot(slot) {
    if (!this.selected) return;
    const clip = this.selected;
    this.selected = null;
    const from = this.board.slots.indexOf(clip);
    if (from === -1) this.move("place", { clip, slot });
    else if (from !== slot) this.move("swap", { slot: from, other: slot });
    else this.render();
  }

  #drop(e, slot) {
    e.preventDefault();
    const { clip, from } = JSON.parse(e.dataTransfer.getData("text/plain") || "{}");
    if (!clip) return;
    if (slot === null) return from !== null && this.move("take_back", { slot: from });
    if (from === null) return this.move("place", { clip, slot });
    if (from !== slot) this.move("swap", { slot: from, other: slot });
  }

  #highlight(clipId, playback) {
    const cards = [...document.querySelectorAll(`.clip[data-clip="${clipId}"]`)];
    cards.forEach((c) => c.classList.add("playing"));
    setTimeout(() => cards.forEach((c) => c.classList.remove("playing")), 1000 * Math.max(0.3, playback.endsAt - audio.now()));
  }
}

function silence(like, bars) {
  return { ...like, bars, melody: [], chords: [], drums: [] };
}
