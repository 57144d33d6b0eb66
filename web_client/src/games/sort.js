// Sort in the page: the board (slots and tray of clips drawn as piano rolls), listening, moves by
// dragging (pointer events: mouse, pen and touch alike), by click-then-slot (tap-then-slot on a
// phone) or by the keyboard alone, the partner's moves live. Every move goes to the server, which
// decides; the page draws the board the server sends back. Numbers are for people: slot 1 is the
// first; each clip has a number for the round (its place in the round's clip map, which says
// nothing about the order), shown on the clip and read out by screen readers. A hidden clip is
// heard, never read: a listen's reply gives the address of its sound (rendered by the server),
// which the page fetches once and plays; its notes come only with the result.
// The page module (games/index.js: the interface the shell uses) is at the end: the lobby card,
// the board's markup, the result (the player's order beside the right one).
import * as audio from "../audio.js";
import { drawRoll } from "../pianoroll.js";
import { downloadLinks, fromTemplate, levelCard, stylesheet } from "./kit.js";

const DRAG_START_PX = 8; // a press that moves less is a tap (select and listen)
const PARTNER_MARK_MS = 2000;
const EDGE_SCROLL_PX = 40; // a drag this close to the top or bottom of the window scrolls it

export class SortView {
  /** `root`: the board's markup (VIEW below), in the document or not yet. */
  constructor(app, root) {
    this.app = app;
    this.round = null;
    this.board = null;
    this.clips = {};
    this.number = {}; // clip id -> its number for people (1, 2, ...)
    this.pieces = {}; // clip id -> piece: the visible clips' (a hidden clip's come with the result)
    this.sounds = {}; // clip id -> the address of a hidden clip's sound, from its first listen
    this.selected = null;
    this.drag = null; // the pointer drag under way
    this.partnerMark = null; // {clips, name, until}: the clips the partner just moved
    this.queue = Promise.resolve(); // own moves, one after the other (each on the board the last one left)
    const $ = (id) => root.querySelector(`#${id}`);
    this.el = { section: root, slots: $("slots"), tray: $("tray"), info: $("sort-info"), title: $("sort-title") };
    this.el.status = Object.assign(document.createElement("p"), { id: "sort-status", className: "sort-status" });
    this.el.status.setAttribute("role", "status");
    this.el.status.setAttribute("aria-live", "polite");
    this.el.keys = Object.assign(document.createElement("p"), {
      id: "sort-keys",
      className: "sort-keys hint",
      textContent: "Keys: Enter or Space listens to a clip and selects it, then puts it in the slot you press it on (or swaps two slots). Delete takes a placed clip back to the tray. Escape clears the selection. Arrow keys: ← → move between slots or clips, ↑ to the slots, ↓ to the tray.",
    });
    this.el.slots.before(this.el.status, this.el.keys);
    $("sort-play").addEventListener("click", () => this.playBoard());
    $("sort-submit").addEventListener("click", () => this.move("submit"));
    for (const area of [this.el.slots, this.el.tray]) {
      area.addEventListener("click", (e) => this.#click(e));
      area.addEventListener("pointerdown", (e) => this.#pointerDown(e));
    }
    this.el.section.addEventListener("keydown", (e) => this.#key(e));
    this.onMove = (e) => this.#pointerMove(e);
    this.onUp = (e) => this.#pointerUp(e);
    this.onCancel = (e) => this.#pointerCancel(e);
  }

  enter(round) {
    const same = this.round && this.round.round_id === round.round_id;
    this.round = round;
    if (!same) {
      this.clips = round.board.clips;
      this.number = Object.fromEntries(Object.keys(this.clips).map((id, i) => [id, i + 1]));
      this.pieces = {};
      this.sounds = {};
      for (const [id, clip] of Object.entries(this.clips)) if (clip.piece) this.pieces[id] = clip.piece;
      audio.prepare(Object.values(this.pieces)); // the samples of the clips' instruments, before the first listen
      this.selected = null;
      this.partnerMark = null;
      this.#endDrag();
      this.#say("");
    }
    this.board = round.board;
    this.el.title.textContent = `Sort · ${this.app.levelName(round.level)}`;
    this.render();
  }

  /** Off the screen (the result, the lobby): a drag under way ends. */
  exit() {
    this.#endDrag();
  }

  /** The partner's move: the board after it, who made it and what it was. */
  onBoard(data) {
    if (!this.round || data.round_id !== this.round.round_id) return;
    if (data.board.version < this.board.version) return;
    const before = this.board;
    this.board = data.board;
    if (data.by && data.by !== this.app.net.playerId) this.#partnerMoved(data, before);
    this.render();
  }

  /** Send a move on the board as it is when the move goes out: moves wait for the one before
   * (a listen bumps the version too), so a quick listen-then-place is not refused as stale. */
  move(kind, fields = {}) {
    const send = async () => {
      const reply = await this.app.send("sort_move", { round_id: this.round.round_id, version: this.board.version, move: { kind, ...fields } });
      if (reply.ok) {
        if (reply.board.version >= this.board.version) this.board = reply.board;
        if (reply.clip?.hidden) this.sounds[reply.clip.id] = reply.clip.audio;
        else if (reply.clip) this.pieces[reply.clip.id] = reply.clip.piece;
      } else if (reply.error.board) {
        this.board = reply.error.board; // stale: the partner moved first; here is the board now
        this.#say("The board changed before your move (your partner moved first): here it is now.");
      }
      this.render();
      return reply;
    };
    const done = this.queue.then(send);
    this.queue = done.catch(() => {});
    return done;
  }

  async listen(clipId, said = null) {
    const reply = await this.move("listen_clip", { clip: clipId });
    if (reply.ok) {
      const [music] = await this.#music([clipId]);
      this.#highlight(clipId, audio.play(music));
      if (said) this.#say(said);
    }
    return reply;
  }

  async playBoard() {
    const reply = await this.move("listen_board");
    if (!reply.ok) return;
    const music = await this.#music(this.board.slots.filter(Boolean));
    if (music.length) audio.play(music);
    this.#say("Playing the board");
  }

  /** What to play for these clips: a visible clip's notes, a hidden clip's sound once a listen
   * gave its address (fetched once), else silence as long as the clip. */
  async #music(clipIds) {
    const known = Object.values(this.pieces)[0];
    return Promise.all(
      clipIds.map(async (id) => {
        if (this.pieces[id]) return this.pieces[id];
        if (this.sounds[id]) {
          try {
            return await audio.loadSound(this.sounds[id]);
          } catch {
            this.#say(`Clip ${this.number[id]} could not be loaded: listen again`);
          }
        }
        return silence(known, this.clips[id].bars);
      }),
    );
  }

  render() {
    const b = this.board;
    const focus = this.#focusKey();
    this.el.info.textContent = `${b.listens} listens${b.submitted ? " · submitted" : ""}`;
    this.el.slots.replaceChildren(
      ...b.slots.map((clip, i) => {
        const slot = document.createElement("div");
        slot.className = "slot" + (b.fixed.includes(i) ? " fixed" : "");
        slot.dataset.slot = i;
        slot.tabIndex = 0;
        slot.setAttribute("role", "button");
        slot.setAttribute("aria-label", this.#slotLabel(i));
        slot.setAttribute("aria-describedby", "sort-keys");
        if (clip) slot.append(this.#card(clip, i));
        else slot.textContent = String(i + 1);
        return slot;
      }),
    );
    this.el.tray.replaceChildren(
      ...b.tray.map((clip) => {
        const card = this.#card(clip, null);
        card.tabIndex = 0;
        card.setAttribute("role", "button");
        card.setAttribute("aria-label", `Clip ${this.number[clip]} in the tray${this.clips[clip].hidden ? ", heard only" : ""}${this.selected === clip ? ", selected" : ""}`);
        card.setAttribute("aria-describedby", "sort-keys");
        return card;
      }),
    );
    this.el.tray.setAttribute("aria-label", "Tray");
    this.el.slots.setAttribute("aria-label", "Slots");
    if (focus) this.#restoreFocus(focus);
  }

  // --- drawing ------------------------------------------------------------------------------------

  /** A clip as drawn: its piano roll (or "?" for a hidden clip) and its number. */
  #face(clipId) {
    const card = document.createElement("div");
    const clip = this.clips[clipId];
    card.className = "clip" + (clip.hidden ? " hidden" : "");
    card.dataset.clip = clipId;
    if (!clip.hidden) {
      const canvas = document.createElement("canvas");
      drawRoll(canvas, clip.piece);
      card.append(canvas);
    }
    card.append(Object.assign(document.createElement("span"), { className: "num", textContent: String(this.number[clipId]) }));
    return card;
  }

  #card(clipId, slot) {
    const card = this.#face(clipId);
    if (this.selected === clipId) card.classList.add("selected");
    if (this.drag?.on && this.drag.clip === clipId) card.classList.add("dragging");
    const mark = this.partnerMark;
    if (mark && mark.until > Date.now() && mark.clips.includes(clipId)) {
      card.classList.add("partner-moved");
      card.append(Object.assign(document.createElement("span"), { className: "partner-tag", textContent: mark.name }));
    }
    if (slot !== null) card.setAttribute("aria-hidden", "true"); // the slot, a button, names it
    return card;
  }

  #slotLabel(i) {
    const b = this.board, clip = b.slots[i];
    let label = `Slot ${i + 1} of ${b.slots.length}` + (clip ? `: clip ${this.number[clip]}${this.clips[clip].hidden ? ", heard only" : ""}` : ", empty");
    if (b.fixed.includes(i)) label += ", fixed";
    if (clip && this.selected === clip) label += ", selected";
    return label;
  }

  // --- what the player does: the same moves by click, tap, keyboard or drag -------------------------

  /** A clip pressed (clicked, tapped, Enter): another clip selected and this one in a slot puts
   * the selected one there; otherwise this one is selected (or unselected) and played. */
  #pressClip(clipId, slot) {
    const fixed = slot !== null && this.board.fixed.includes(slot);
    if (this.selected && this.selected !== clipId && slot !== null) return this.#put(this.selected, slot);
    const was = this.selected === clipId;
    this.selected = fixed || was ? null : clipId;
    this.render();
    const n = this.number[clipId];
    this.listen(clipId, this.selected ? `Clip ${n} selected and playing: now choose a slot` : fixed ? `Clip ${n} (fixed) playing` : `Clip ${n} playing; selection cleared`);
  }

  /** A slot pressed (its empty space clicked, or the slot itself by the keyboard). */
  #pressSlot(slot) {
    if (!this.selected) return this.#say(`Slot ${slot + 1} is empty: choose a clip first`);
    this.#put(this.selected, slot);
  }

  /** The clip into the slot: placed from the tray (the slot's clip, if any, goes back to the tray
   * first), or swapped with the slot's if it is in another slot. */
  async #put(clipId, slot) {
    const b = this.board;
    if (b.fixed.includes(slot)) return this.#say(`Slot ${slot + 1} is fixed: choose another slot`);
    const from = b.slots.indexOf(clipId);
    this.selected = null;
    if (from === slot) return this.render();
    const n = this.number[clipId];
    if (from !== -1) {
      const reply = await this.move("swap", { slot: from, other: slot });
      if (reply.ok) this.#say(`Slots ${from + 1} and ${slot + 1} swapped`);
      return;
    }
    const there = b.slots[slot];
    if (there) {
      const back = await this.move("take_back", { slot });
      if (!back.ok) return;
    }
    const reply = await this.move("place", { clip: clipId, slot });
    if (reply.ok) this.#say(`Clip ${n} placed in slot ${slot + 1}` + (there ? `; clip ${this.number[there]} back in the tray` : ""));
  }

  async #takeBack(slot) {
    const clip = this.board.slots[slot];
    if (!clip) return this.#say(`Slot ${slot + 1} is empty`);
    if (this.board.fixed.includes(slot)) return this.#say(`Slot ${slot + 1} is fixed: its clip stays`);
    if (this.selected === clip) this.selected = null;
    const reply = await this.move("take_back", { slot });
    if (reply.ok) this.#say(`Clip ${this.number[clip]} back in the tray`);
  }

  #click(e) {
    if (this.swallowClick) return; // the click that ends a drag
    const card = e.target.closest(".clip"), slotEl = e.target.closest(".slot");
    if (!this.board || this.board.submitted) return;
    if (card) return this.#pressClip(card.dataset.clip, slotEl ? Number(slotEl.dataset.slot) : null);
    if (slotEl) return this.#pressSlot(Number(slotEl.dataset.slot));
    // the tray's free space: a placed clip selected goes back to the tray
    const from = this.selected ? this.board.slots.indexOf(this.selected) : -1;
    if (e.currentTarget === this.el.tray && from !== -1) this.#takeBack(from);
  }

  #key(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !this.board) return;
    if (e.key === "Escape") {
      if (!this.selected) return;
      e.preventDefault();
      this.selected = null;
      this.render();
      return this.#say("Selection cleared");
    }
    const el = e.target.closest?.("#slots .slot, #tray .clip");
    if (!el) return;
    const slot = el.matches(".slot") ? Number(el.dataset.slot) : null;
    switch (e.key) {
      case "Enter":
      case " ":
      case "Spacebar":
        e.preventDefault();
        if (e.repeat || this.board.submitted) return;
        if (slot === null) return this.#pressClip(el.dataset.clip, null);
        {
          const clip = this.board.slots[slot];
          if (!clip) return this.#pressSlot(slot);
          if (this.selected === clip) {
            this.selected = null;
            this.render();
            return this.#say("Selection cleared");
          }
          return this.#pressClip(clip, slot);
        }
      case "Delete":
      case "Backspace":
        if (slot === null) return;
        e.preventDefault();
        if (!e.repeat && !this.board.submitted) this.#takeBack(slot);
        return;
      case "ArrowLeft":
      case "ArrowRight":
      case "Home":
      case "End": {
        e.preventDefault();
        const group = [...(slot === null ? this.el.tray : this.el.slots).children];
        const at = group.indexOf(el);
        const to = e.key === "Home" ? 0 : e.key === "End" ? group.length - 1 : Math.max(0, Math.min(group.length - 1, at + (e.key === "ArrowLeft" ? -1 : 1)));
        return group[to]?.focus();
      }
      case "ArrowUp": {
        e.preventDefault();
        if (slot !== null) return;
        const slots = [...this.el.slots.children];
        const free = slots.find((s) => !s.querySelector(".clip") && !s.classList.contains("fixed"));
        return (free ?? slots[0])?.focus();
      }
      case "ArrowDown": {
        e.preventDefault();
        if (slot === null) return;
        return this.el.tray.firstElementChild?.focus();
      }
    }
  }

  // --- dragging with any pointer ---------------------------------------------------------------------

  #pointerDown(e) {
    if (this.drag || !e.isPrimary || (e.pointerType === "mouse" && e.button !== 0)) return;
    const card = e.target.closest(".clip");
    if (!card || !this.board || this.board.submitted) return;
    const clip = card.dataset.clip;
    const from = this.board.slots.indexOf(clip);
    if (from !== -1 && this.board.fixed.includes(from)) return;
    const box = card.getBoundingClientRect();
    this.drag = { id: e.pointerId, clip, card, x0: e.clientX, y0: e.clientY, dx: e.clientX - box.left, dy: e.clientY - box.top, w: box.width, h: box.height, on: false, ghost: null, target: null };
    try {
      card.setPointerCapture(e.pointerId);
    } catch {
      // the pointer is gone already: the drag ends with its pointerup/cancel, or never starts
    }
    addEventListener("pointermove", this.onMove);
    addEventListener("pointerup", this.onUp);
    addEventListener("pointercancel", this.onCancel);
  }

  #pointerMove(e) {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    if (!d.on) {
      if (Math.hypot(e.clientX - d.x0, e.clientY - d.y0) < DRAG_START_PX) return;
      d.on = true;
      d.ghost = this.#face(d.clip);
      d.ghost.classList.add("drag-ghost");
      d.ghost.setAttribute("aria-hidden", "true");
      Object.assign(d.ghost.style, { width: `${d.w}px`, height: `${d.h}px` });
      document.body.append(d.ghost);
      document.querySelector(`#sort .clip[data-clip="${d.clip}"]`)?.classList.add("dragging");
    }
    e.preventDefault();
    d.ghost.style.transform = `translate(${e.clientX - d.dx}px, ${e.clientY - d.dy}px)`;
    const target = this.#dropTarget(e.clientX, e.clientY);
    if (target !== d.target) {
      d.target?.classList.remove("target");
      target?.classList.add("target");
      d.target = target;
    }
    if (e.clientY < EDGE_SCROLL_PX) scrollBy(0, -12);
    else if (e.clientY > innerHeight - EDGE_SCROLL_PX) scrollBy(0, 12);
  }

  #pointerUp(e) {
    const d = this.drag;
    if (!d || e.pointerId !== d.id) return;
    const target = d.on ? this.#dropTarget(e.clientX, e.clientY) : null;
    const dragged = d.on;
    this.#endDrag();
    if (!dragged) return; // a tap or a click: its click event selects and plays the clip
    this.swallowClick = true; // the click a mouse sends after the drag is not a press
    setTimeout(() => (this.swallowClick = false), 0);
    if (!target) return;
    const from = this.board.slots.indexOf(d.clip);
    if (target === this.el.tray) {
      if (from !== -1) this.#takeBack(from);
      return;
    }
    const slot = Number(target.dataset.slot);
    if (slot !== from) this.#put(d.clip, slot);
  }

  #pointerCancel(e) {
    if (this.drag && e.pointerId === this.drag.id) this.#endDrag();
  }

  /** The slot or the tray under the pointer (the dragged copy lets the pointer through). */
  #dropTarget(x, y) {
    const under = document.elementFromPoint(x, y);
    if (!under) return null;
    return under.closest("#slots .slot") ?? (under.closest("#tray") ? this.el.tray : null);
  }

  #endDrag() {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    removeEventListener("pointermove", this.onMove);
    removeEventListener("pointerup", this.onUp);
    removeEventListener("pointercancel", this.onCancel);
    d.ghost?.remove();
    d.target?.classList.remove("target");
    for (const c of document.querySelectorAll("#sort .clip.dragging")) c.classList.remove("dragging");
  }

  // --- the partner's moves, the status line, the focus -------------------------------------------------

  #partnerMoved(data, before) {
    const seat = this.app.room?.seats?.find((s) => s.player_id === data.by);
    const name = seat?.name || "Your partner";
    const detail = data.detail || { kind: data.move };
    const slotNo = (i) => Number(i) + 1;
    const num = (id) => this.number[id] ?? "?";
    let clips = [], said = null;
    switch (detail.kind ?? data.move) {
      case "place":
        clips = [detail.clip];
        said = `${name} placed clip ${num(detail.clip)} in slot ${slotNo(detail.slot)}`;
        break;
      case "swap":
        clips = [this.board.slots[detail.other], this.board.slots[detail.slot]];
        said = `${name} swapped slots ${slotNo(detail.slot)} and ${slotNo(detail.other)}`;
        break;
      case "take_back": {
        const clip = before?.slots[detail.slot];
        clips = [clip];
        said = `${name} took ${clip ? `clip ${num(clip)}` : "a clip"} from slot ${slotNo(detail.slot)} back to the tray`;
        break;
      }
      case "listen_clip":
        clips = [detail.clip];
        said = `${name} listened to clip ${num(detail.clip)}`;
        break;
      case "listen_board":
        said = `${name} played the board`;
        break;
      case "submit":
        said = `${name} submitted the board`;
        break;
    }
    clips = clips.filter(Boolean);
    if (clips.length) {
      this.partnerMark = { clips, name, until: Date.now() + PARTNER_MARK_MS };
      clearTimeout(this.partnerTimer);
      this.partnerTimer = setTimeout(() => this.#clearPartnerMark(), PARTNER_MARK_MS);
    }
    if (said) this.#say(said);
  }

  #clearPartnerMark() {
    this.partnerMark = null;
    for (const c of document.querySelectorAll("#sort .clip.partner-moved")) c.classList.remove("partner-moved");
    for (const t of document.querySelectorAll("#sort .partner-tag")) t.remove();
  }

  #say(text) {
    const status = this.el.status;
    // the same words again are still news: a no-break space makes them a change for screen readers
    status.textContent = text && status.textContent === text ? text + "\u00a0" : text;
  }

  /** Where the keyboard focus is on the board, to put it back on the same place once redrawn. */
  #focusKey() {
    const a = document.activeElement;
    if (!a || !this.el.section.contains(a)) return null;
    if (a.matches("#slots .slot")) return { slot: Number(a.dataset.slot) };
    if (a.matches("#tray .clip")) return { clip: a.dataset.clip, index: [...this.el.tray.children].indexOf(a) };
    return null;
  }

  #restoreFocus(key) {
    const slots = [...this.el.slots.children], tray = [...this.el.tray.children];
    let el;
    if (key.slot !== undefined) el = slots[Math.min(key.slot, slots.length - 1)];
    else el = tray.find((c) => c.dataset.clip === key.clip) ?? tray[Math.min(key.index, tray.length - 1)] ?? slots.find((s) => s.querySelector(`.clip[data-clip="${key.clip}"]`)) ?? slots[0];
    el?.focus();
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

// --- the page module ---------------------------------------------------------------------------

stylesheet(new URL("sort.css", import.meta.url));

const VIEW = `
<section id="sort">
  <div class="row">
    <h2 id="sort-title">Sort</h2>
    <span id="sort-info"></span>
    <button id="sort-play">▶ Play the board</button>
    <button id="sort-submit">Submit</button>
  </div>
  <p class="hint">Click or tap a clip to hear it, then a slot to place it; or drag it there. Drag a placed clip onto another slot to swap, or back to the tray. Keyboard: Tab to a clip, Enter picks it, Tab to a slot, Enter places it, Delete takes it back.</p>
  <div id="slots" class="slots"></div>
  <h3>Tray</h3>
  <div id="tray" class="tray"></div>
</section>`;

let section = null;
let view = null;

export const sortPage = {
  lobbyCard(entry, ctx) {
    section = fromTemplate(VIEW);
    view = new SortView(ctx, section);
    return levelCard(entry, ctx, { about: "A fresh piece is cut into clips. Listen, and put them back in order." }).card;
  },

  mount(container, round) {
    if (section.parentNode !== container) container.replaceChildren(section);
    view.enter(round);
  },

  events: ["board"],

  apply(event, payload) {
    if (event === "board") view.onBoard(payload);
  },

  /** The player's order beside the right one, each slot marked, and what each factor took away. */
  result(container, result) {
    Object.assign(view.pieces, result.revealed ?? {}); // the hidden clips' notes, now that it is over
    const d = result.details;
    const afterOrder = 1000 * d.order, afterListens = afterOrder * d.factors.listens;
    const lost = { order: Math.round(1000 - afterOrder), listens: Math.round(afterOrder - afterListens), time: Math.round(afterListens - afterListens * d.factors.time) };
    container.innerHTML =
      `<p><b>${d.correct_slots} of ${d.free_slots} slots right</b> — ${d.cleared ? "level cleared" : "not cleared (¾ of the slots needed)"}.</p>` +
      `<ul class="losses"><li>Order: −${lost.order} (${Math.round(d.order * 100)} % in order)</li>` +
      `<li>Listens: −${lost.listens} (${d.listens} listens, ×${d.factors.listens})</li>` +
      `<li>Time: −${lost.time} (${Math.round(d.seconds)} s for a par of ${Math.round(d.factors.par_seconds)} s, ×${d.factors.time})</li></ul>` +
      `<div id="result-orders"><h3>Your order</h3><div id="result-mine" class="slots"></div><h3>The right order</h3><div id="result-answer" class="slots"></div></div>`;
    const slots = view.board ? view.board.slots : [];
    const fixed = view.board ? view.board.fixed : [];
    const card = (id, mark) => {
      const el = document.createElement("div");
      el.className = "clip" + (mark ? ` ${mark}` : "");
      const piece = view.pieces[id];
      if (piece) {
        const canvas = document.createElement("canvas");
        drawRoll(canvas, piece);
        el.append(canvas);
      }
      if (mark) el.append(Object.assign(document.createElement("span"), { className: "mark", textContent: mark === "right" ? "✓" : "✗" }));
      el.setAttribute("aria-label", mark ? `slot ${slots.indexOf(id) + 1}: ${mark}` : "clip");
      return el;
    };
    const mark = (i) => (d.slots_right[i] === null || fixed.includes(i) ? null : d.slots_right[i] ? "right" : "wrong");
    container.querySelector("#result-mine").replaceChildren(...slots.map((id, i) => card(id, mark(i))));
    container.querySelector("#result-answer").replaceChildren(...result.answer.map((id) => card(id, null)));
    container.append(downloadLinks(result.round_id));
    return Boolean(d.cleared);
  },

  howToClear: "Put at least three quarters of the clips in the right slots to clear this level.",

  replay(round) {
    audio.play(round.result.answer.map((id) => view.pieces[id]).filter(Boolean));
  },

  unmount() {
    view?.exit();
    section?.remove();
  },
};
