// The editor's tools and their settings (signals the side panel edits and the canvas reads),
// and placing a grid, line or arc of seats where the seller clicked.

import { type Signal, signal } from "@preact/signals";
import { EDITOR_SEATS_MAX, PLACE_SEATS_MAX, placeSeats, shapeSeatCount, type Direction, type Shape } from "./model";
import type { Overlay } from "./render";
import type { EditorStore } from "./store";

export type Tool = "select" | "pan" | "paint" | "grid" | "line" | "arc";

export interface ToolState {
  tool: Signal<Tool>;
  /** The section new seats go into and the paint brush paints. */
  section: Signal<number>;
  firstRow: Signal<string>;
  firstNumber: Signal<number>;
  direction: Signal<Direction>;
  rows: Signal<number>;
  perRow: Signal<number>;
  /** Seat to seat in a row, and row to row, layout units. */
  pitch: Signal<number>;
  rowPitch: Signal<number>;
  radius: Signal<number>;
  sweepDeg: Signal<number>;
  /** Brush radius in seats. */
  brushSeats: Signal<number>;
  brushRadius: (spacing: number) => number;
  /** Seats the API would refuse, drawn ringed in red. */
  faulty: Signal<ReadonlySet<number>>;
  /** The last placement's refusal (too many seats), for the panel to say. */
  refusal: Signal<string | null>;
}

export function toolState(): ToolState {
  const brushSeats = signal(1);
  return {
    tool: signal<Tool>("grid"),
    section: signal(0),
    firstRow: signal("1"),
    firstNumber: signal(1),
    direction: signal<Direction>("ltr"),
    rows: signal(5),
    perRow: signal(10),
    pitch: signal(10),
    rowPitch: signal(12),
    radius: signal(60),
    sweepDeg: signal(90),
    brushSeats,
    brushRadius: (spacing: number) => Math.max(1, brushSeats.peek()) * Math.max(spacing, 1) * 0.75,
    faulty: signal<ReadonlySet<number>>(new Set()),
    refusal: signal<string | null>(null),
  };
}

const positive = (n: number, fallback: number) => (Number.isFinite(n) && n > 0 ? n : fallback);

/** The shape the current tool places with its origin at (x, y) (a line: from (x, y) to (x1, y1)). */
export function shapeAt(tools: ToolState, x: number, y: number, x1?: number, y1?: number): Shape | null {
  const pitch = positive(tools.pitch.peek(), 10);
  const rowPitch = positive(tools.rowPitch.peek(), 12);
  const rows = Math.max(1, Math.floor(positive(tools.rows.peek(), 1)));
  switch (tools.tool.peek()) {
    case "grid":
      return { kind: "grid", x, y, rows, perRow: Math.max(1, Math.floor(positive(tools.perRow.peek(), 1))), pitch, rowPitch };
    case "line": {
      // Placed from the panel (no drag): a straight row of `perRow` seats.
      const end = x1 === undefined || y1 === undefined ? { x: x + (Math.max(1, tools.perRow.peek()) - 1) * pitch, y } : { x: x1, y: y1 };
      return { kind: "line", x0: x, y0: y, x1: end.x, y1: end.y, pitch };
    }
    case "arc":
      return { kind: "arc", cx: x, cy: y, radius: positive(tools.radius.peek(), 60), rows, rowPitch, pitch, sweepDeg: positive(tools.sweepDeg.peek(), 90) };
    default:
      return null;
  }
}

/** Adds the current tool's seats at (x, y) as one undo step; refuses (and says why) past the limits. */
export function placeShapeAt(store: EditorStore, tools: ToolState, x: number, y: number, x1?: number, y1?: number): number {
  const shape = shapeAt(tools, x, y, x1, y1);
  if (!shape) return 0;
  const count = shapeSeatCount(shape);
  if (count > PLACE_SEATS_MAX) {
    tools.refusal.value = `${count}/${PLACE_SEATS_MAX}`;
    return 0;
  }
  if (store.doc.seats.length + count > EDITOR_SEATS_MAX) {
    tools.refusal.value = `${store.doc.seats.length + count}/${EDITOR_SEATS_MAX}`;
    return 0;
  }
  tools.refusal.value = null;
  const seats = placeSeats(shape, {
    section: Math.min(tools.section.peek(), Math.max(0, store.doc.sections.length - 1)),
    firstRow: tools.firstRow.peek(),
    firstNumber: Math.max(0, Math.floor(tools.firstNumber.peek())),
    direction: tools.direction.peek(),
  });
  store.addSeats(seats);
  return seats.length;
}

/** The outline of what a click would place here (the grid's box, the line being dragged, the
 * arc's rows), drawn instead of the seats themselves so a preview stays cheap at any size. */
export function ghostOf(tools: ToolState, line: { x0: number; y0: number; x1: number; y1: number } | null, at: { x: number; y: number }, spacing: number): Overlay["ghost"] {
  const shape = shapeAt(tools, at.x, at.y);
  if (!shape) return null;
  if (shape.kind === "grid") {
    const half = spacing * 0.5;
    return { kind: "rect", x: shape.x - half, y: shape.y - half, w: (shape.perRow - 1) * shape.pitch + 2 * half, h: (shape.rows - 1) * shape.rowPitch + 2 * half };
  }
  if (shape.kind === "line") return line ? { kind: "line", ...line } : { kind: "line", x0: shape.x0, y0: shape.y0, x1: shape.x1, y1: shape.y1 };
  return { kind: "arc", cx: shape.cx, cy: shape.cy, r0: shape.radius, r1: shape.radius + (shape.rows - 1) * shape.rowPitch, sweepDeg: shape.sweepDeg };
}
