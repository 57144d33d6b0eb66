// The game pages, one module per game, by the game's id in GET /api/games. A new game is one page
// module and one line here: the shell (main.js, index.html, style.css) names no game. A game the
// server lists without a page here is left out of the lobby.
//
// Every page module exports an object with the same members. `ctx` is the shell's `app` (also
// `window.arcade`): net, room, round, offset, send(event, payload) (a move with the next sequence
// number, refusals shown), serial(work), notify(text, info), levelName(id), show("lobby" | "stage"
// | "result"), quit() (leave the room, back to the lobby), play(game, mode, {ladder, level, music?,
// story?, piece?}) (a room for the game; the studio's music, at most one of the three, goes with
// every start_round of that room; resolves to whether the game goes on), connect(name),
// openTool(game) (the game's roundless view, `tool` below).
//
//   lobbyCard(entry, ctx) -> Element
//       Called once, when /api/games has come (before the page connects, so before any round):
//       the game's lobby card, built from its catalog entry ({game, name, ladders: [{ladder, name,
//       levels: [{level, number, title, name, changes, ...}]}], ...}): kit.js's levelCard draws
//       the usual one. Its buttons call ctx.play(game, "solo" | "coop", {ladder, level}). The page
//       keeps what it needs of the entry here (Run: its `rules`, which configure run_physics.js).
//   beforePlay?(container, ctx) -> Promise
//       Optional: before a room is made for this game (Run: the first-play help, drawn in the
//       container, the stage, which ctx.show("stage") shows).
//   startOptions?(room, level) -> object
//       Optional: extra start_round fields for a round of `level` in `room` (Run: {lanes: "both"}).
//   mount(container, round, ctx)
//       Draw the game into the container (the stage, which the shell shows) and play `round` (the
//       round view the server sends); called again with the same round after a reconnection.
//   events: string[]
//   apply(event, payload)
//       The server events the page handles; the shell routes each of them to apply while this
//       page's round is the one on screen or just ended (Sort: board; Run: run_inputs, run_judgements).
//   result(container, result, round) -> boolean
//       The game's part of the result screen (the shell draws the score, the level, the ladder
//       and the buttons), drawn into the container; returns whether the level was cleared.
//   howToClear: string
//       What clears a level, said under a result that did not.
//   replay(round)
//       "Play it" on the result screen: the round's music.
//   boards?(entry, standard) -> [{id, label, name, level}]
//       Optional: the game's leaderboards, when they are not one per level. `standard` is one per
//       level ({id: "<ladder>-<level>", label, name: the level's name, level: the catalog level});
//       the names also name stored level ids (Run adds a two-avatar board on chord levels).
//   unmount()
//       Off the stage (the result, the lobby, another game): stop, leave the container.
//   tool?(container, ctx) -> close()
//       Optional: the game's view outside any round (Beat Hunt's Beat Blender instrument), shown
//       on the stage at the address /<game> (the server serves the page there) or by
//       ctx.openTool(game) (a lobby card's button); it may need no connection (the game's tools:
//       POST /api/games/<game>/<tool>). The returned close() stops it when the shell shows
//       another view; its "back" calls ctx.show("lobby").
import { blendPage } from "./blend.js";
import { runPage } from "./run.js";
import { sortPage } from "./sort.js";

export const PAGES = { sort: sortPage, run: runPage, blend: blendPage };
