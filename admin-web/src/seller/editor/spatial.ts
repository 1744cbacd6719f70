// A uniform grid over the seats for hit testing: a click, a brush stroke or a selection box
// looks only at the cells it covers, not at every seat of a 50,000-seat stadium.

import { seatSpacing, type Seat } from "./model";

/** Cells per side at most, so a map of scattered seats cannot make the grid huge: the cell grows
 * instead. */
const CELLS_PER_SIDE_MAX = 2_048;

export class SpatialIndex {
  private cells = new Map<number, Seat[]>();
  private cell = 40;
  private originX = 0;
  private originY = 0;
  /** Distance between neighbouring seats in a row (smallest), layout units. */
  spacing = 10;

  build(seats: readonly Seat[]): void {
    this.cells = new Map();
    this.spacing = seatSpacing(seats);
    if (seats.length === 0) return;
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const s of seats) {
      if (s.x < minX) minX = s.x;
      if (s.x > maxX) maxX = s.x;
      if (s.y < minY) minY = s.y;
      if (s.y > maxY) maxY = s.y;
    }
    this.originX = minX;
    this.originY = minY;
    // About 4×4 seats a cell, unless the map is so spread out that this would be too many cells.
    const extent = Math.max(maxX - minX, maxY - minY, 1);
    this.cell = Math.max(this.spacing * 4, extent / CELLS_PER_SIDE_MAX, 1);
    for (const seat of seats) {
      const id = this.id(this.cx(seat.x), this.cy(seat.y));
      const bucket = this.cells.get(id);
      if (bucket) bucket.push(seat);
      else this.cells.set(id, [seat]);
    }
  }

  /** The seat whose centre is nearest (x, y) within `radius`, or null. */
  nearest(x: number, y: number, radius: number): Seat | null {
    let best: Seat | null = null;
    let bestD = radius * radius;
    this.forEachIn(x - radius, y - radius, x + radius, y + radius, (seat) => {
      const d = (seat.x - x) ** 2 + (seat.y - y) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = seat;
      }
    });
    return best;
  }

  /** Every seat whose centre is within `radius` of (x, y). */
  within(x: number, y: number, radius: number, visit: (seat: Seat) => void): void {
    const r2 = radius * radius;
    this.forEachIn(x - radius, y - radius, x + radius, y + radius, (seat) => {
      if ((seat.x - x) ** 2 + (seat.y - y) ** 2 <= r2) visit(seat);
    });
  }

  /** Every seat whose centre is inside the box (any corner order). */
  inBox(x0: number, y0: number, x1: number, y1: number, visit: (seat: Seat) => void): void {
    const minX = Math.min(x0, x1), maxX = Math.max(x0, x1), minY = Math.min(y0, y1), maxY = Math.max(y0, y1);
    this.forEachIn(minX, minY, maxX, maxY, (seat) => {
      if (seat.x >= minX && seat.x <= maxX && seat.y >= minY && seat.y <= maxY) visit(seat);
    });
  }

  private forEachIn(minX: number, minY: number, maxX: number, maxY: number, visit: (seat: Seat) => void): void {
    if (this.cells.size === 0) return;
    const cx0 = this.cx(minX), cx1 = this.cx(maxX), cy0 = this.cy(minY), cy1 = this.cy(maxY);
    // A box wider than the map walks only the cells that exist.
    if ((cx1 - cx0 + 1) * (cy1 - cy0 + 1) > this.cells.size) {
      for (const bucket of this.cells.values()) for (const seat of bucket) visit(seat);
      return;
    }
    for (let cx = cx0; cx <= cx1; cx++) {
      for (let cy = cy0; cy <= cy1; cy++) {
        const bucket = this.cells.get(this.id(cx, cy));
        if (bucket) for (const seat of bucket) visit(seat);
      }
    }
  }

  private cx(x: number): number {
    return Math.floor((x - this.originX) / this.cell);
  }
  private cy(y: number): number {
    return Math.floor((y - this.originY) / this.cell);
  }
  /** One number per cell; cells outside the built extent (queries past the edge) may share a
   * number with others, which only adds seats the callers' exact checks then drop. */
  private id(cx: number, cy: number): number {
    return (cx + 4_096) * 16_384 + (cy + 4_096);
  }
}
