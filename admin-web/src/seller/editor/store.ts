// The editor's document, its selection and its undo history. Every change is a command that
// knows how to undo itself from what it recorded (the seats it touched, not a copy of the whole
// map), so a 50,000-seat stadium keeps `UNDO_MAX` steps without keeping 50,000 seats per step.

import { signal } from "@preact/signals";
import type { Doc, Section, Seat, Zone } from "./model";
import { SpatialIndex } from "./spatial";

/** Undo steps kept; the oldest goes first. */
export const UNDO_MAX = 200;

/** What an update may change on a seat. */
export type SeatFields = Pick<Seat, "section" | "row" | "number" | "x" | "y" | "blocked" | "wheelchair">;

type Command =
  | { kind: "add"; seats: Seat[] }
  | { kind: "remove"; removed: { index: number; seat: Seat }[] }
  | { kind: "update"; keys: number[]; before: SeatFields[]; after: SeatFields[]; moved: boolean }
  | { kind: "sections"; before: Section[]; after: Section[]; removedIndex: number | null }
  | { kind: "zones"; before: Zone[]; after: Zone[] };

const fieldsOf = (s: Seat): SeatFields => ({ section: s.section, row: s.row, number: s.number, x: s.x, y: s.y, blocked: !!s.blocked, wheelchair: !!s.wheelchair });

export class EditorStore {
  doc: Doc;
  readonly selection = new Set<number>();
  readonly byKey = new Map<number, Seat>();
  readonly index = new SpatialIndex();
  /** Bumped on every change of the document (seats, sections, zones). */
  readonly version = signal(0);
  /** Bumped when the selection changes. */
  readonly selectionVersion = signal(0);
  /** Bumped while a gesture changes seats in place (a paint stroke, a drag): only the canvas
   * redraws; the panels' counts follow `version` when the gesture ends. */
  readonly liveVersion = signal(0);
  /** Bumped when the undo or redo stack changes (for the buttons' state). */
  readonly historyVersion = signal(0);
  private undoStack: Command[] = [];
  private redoStack: Command[] = [];

  constructor(doc: Doc) {
    this.doc = doc;
    this.reindex(true);
  }

  /** Replaces the document (after loading a venue): no history. */
  reset(doc: Doc): void {
    this.doc = doc;
    this.selection.clear();
    this.undoStack = [];
    this.redoStack = [];
    this.reindex(true);
    this.selectionVersion.value++;
    this.historyVersion.value++;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }
  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  // ---- Commands ----------------------------------------------------------------------------

  addSeats(seats: Seat[]): void {
    if (seats.length === 0) return;
    this.run({ kind: "add", seats });
  }

  removeSeats(keys: Iterable<number>): void {
    const gone = new Set(keys);
    if (gone.size === 0) return;
    const removed: { index: number; seat: Seat }[] = [];
    this.doc.seats.forEach((seat, index) => gone.has(seat.key) && removed.push({ index, seat }));
    if (removed.length) this.run({ kind: "remove", removed });
  }

  /** Changes the given seats (one undo step). Seats whose fields do not change are left out. */
  updateSeats(changes: Map<number, Partial<SeatFields>>): void {
    const keys: number[] = [], before: SeatFields[] = [], after: SeatFields[] = [];
    let moved = false;
    for (const [key, change] of changes) {
      const seat = this.byKey.get(key);
      if (!seat) continue;
      const next = { ...fieldsOf(seat), ...change };
      const was = fieldsOf(seat);
      const same = next.section === was.section && next.row === was.row && next.number === was.number && next.x === was.x && next.y === was.y;
      if (same && !!next.blocked === was.blocked && !!next.wheelchair === was.wheelchair) continue;
      moved ||= next.x !== was.x || next.y !== was.y;
      keys.push(key);
      before.push(was);
      after.push(next);
    }
    if (keys.length) this.run({ kind: "update", keys, before, after, moved });
  }

  /**
   * Records seat changes already applied while a gesture was in progress (a paint stroke
   * repaints seats as the pointer passes): one undo step for the whole stroke.
   */
  commitApplied(before: Map<number, SeatFields>): void {
    const keys: number[] = [], was: SeatFields[] = [], now: SeatFields[] = [];
    let moved = false;
    for (const [key, fields] of before) {
      const seat = this.byKey.get(key);
      if (!seat) continue;
      keys.push(key);
      was.push(fields);
      now.push(fieldsOf(seat));
      moved ||= fields.x !== seat.x || fields.y !== seat.y;
    }
    if (keys.length === 0) return;
    this.push({ kind: "update", keys, before: was, after: now, moved });
    this.version.value++;
  }

  setSections(after: Section[], removedIndex: number | null = null): void {
    this.run({ kind: "sections", before: this.doc.sections, after, removedIndex });
  }

  setZones(after: Zone[]): void {
    this.run({ kind: "zones", before: this.doc.zones, after });
  }

  undo(): void {
    const command = this.undoStack.pop();
    if (!command) return;
    this.apply(command, true);
    this.redoStack.push(command);
    this.historyVersion.value++;
  }

  redo(): void {
    const command = this.redoStack.pop();
    if (!command) return;
    this.apply(command, false);
    this.undoStack.push(command);
    this.historyVersion.value++;
  }

  // ---- Selection ---------------------------------------------------------------------------

  select(keys: Iterable<number>, mode: "replace" | "add" | "toggle" = "replace"): void {
    if (mode === "replace") this.selection.clear();
    for (const key of keys) {
      if (mode === "toggle" && this.selection.has(key)) this.selection.delete(key);
      else this.selection.add(key);
    }
    this.selectionVersion.value++;
  }

  clearSelection(): void {
    if (this.selection.size === 0) return;
    this.selection.clear();
    this.selectionVersion.value++;
  }

  selectedSeats(): Seat[] {
    const out: Seat[] = [];
    for (const key of this.selection) {
      const seat = this.byKey.get(key);
      if (seat) out.push(seat);
    }
    return out;
  }

  /** Marks the document changed after a gesture mutated seats in place (a paint stroke). */
  touched(moved: boolean): void {
    if (moved) this.index.build(this.doc.seats);
    this.liveVersion.value++;
  }

  // ---- Internals ---------------------------------------------------------------------------

  private run(command: Command): void {
    this.apply(command, false);
    this.push(command);
  }

  private push(command: Command): void {
    this.undoStack.push(command);
    if (this.undoStack.length > UNDO_MAX) this.undoStack.shift();
    this.redoStack = [];
    this.historyVersion.value++;
  }

  private apply(command: Command, undo: boolean): void {
    switch (command.kind) {
      case "add":
        if (undo) this.dropSeats(new Set(command.seats.map((s) => s.key)));
        else this.doc.seats.push(...command.seats);
        this.reindex(true);
        break;
      case "remove":
        if (undo) {
          // Back where they were: ascending indices, each insert shifting the ones after it.
          const seats = this.doc.seats;
          const merged: Seat[] = [];
          let from = 0;
          for (const { index, seat } of command.removed) {
            while (merged.length < index && from < seats.length) merged.push(seats[from++]);
            merged.push(seat);
          }
          while (from < seats.length) merged.push(seats[from++]);
          this.doc.seats = merged;
        } else {
          this.dropSeats(new Set(command.removed.map((r) => r.seat.key)));
        }
        this.reindex(true);
        break;
      case "update": {
        const values = undo ? command.before : command.after;
        command.keys.forEach((key, i) => {
          const seat = this.byKey.get(key);
          if (seat) Object.assign(seat, values[i]);
        });
        this.reindex(command.moved);
        break;
      }
      case "sections": {
        const removed = command.removedIndex;
        if (removed !== null) {
          // Deleting an empty section shifts the later sections' indices down; undoing shifts them back.
          for (const seat of this.doc.seats) {
            if (undo && seat.section >= removed) seat.section += 1;
            else if (!undo && seat.section > removed) seat.section -= 1;
          }
        }
        this.doc.sections = undo ? command.before : command.after;
        this.version.value++;
        break;
      }
      case "zones":
        this.doc.zones = undo ? command.before : command.after;
        this.version.value++;
        break;
    }
  }

  private dropSeats(gone: Set<number>): void {
    this.doc.seats = this.doc.seats.filter((s) => !gone.has(s.key));
    let changed = false;
    for (const key of gone) changed = this.selection.delete(key) || changed;
    if (changed) this.selectionVersion.value++;
  }

  private reindex(positions: boolean): void {
    if (positions) {
      this.byKey.clear();
      for (const seat of this.doc.seats) this.byKey.set(seat.key, seat);
      this.index.build(this.doc.seats);
    }
    this.version.value++;
  }
}
