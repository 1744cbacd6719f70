// Draws the map on one <canvas>: seats batched into one path per section colour (not one node
// per seat), culled to the view, written as squares of pixels when smaller than a few; row names
// and seat numbers only once they are large enough to read. The stage is drawn where the
// buyer's map puts it: above the seats, centred.

import { sectionColour, type Seat } from "./model";

/** layout → screen: screen = layout × scale + offset (CSS pixels). */
export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export interface Overlay {
  /** Selection box, layout units. */
  box?: { x0: number; y0: number; x1: number; y1: number } | null;
  /** The outline of what the current tool would place, layout units. */
  ghost?: { kind: "rect"; x: number; y: number; w: number; h: number } | { kind: "line"; x0: number; y0: number; x1: number; y1: number } | { kind: "arc"; cx: number; cy: number; r0: number; r1: number; sweepDeg: number } | null;
  /** The paint brush, layout units. */
  brush?: { x: number; y: number; r: number } | null;
}

export interface Scene {
  seats: readonly Seat[];
  sectionCount: number;
  selection: ReadonlySet<number>;
  /** Seats the API would refuse (drawn with a red ring). */
  faulty: ReadonlySet<number>;
  spacing: number;
  bounds: { minX: number; minY: number; maxX: number; maxY: number } | null;
  stageLabel: string;
}

const SELECTED = "#15131a";
const FAULT = "#b3261e";
/** A blocked seat (never sold): grey with a cross. */
export const BLOCKED = "#c4c0cc";
const BLOCKED_CROSS = "#5d5868";
/** The dashed ring of a wheelchair seat. */
export const WHEELCHAIR = "#0b5cad";

/** Draws the scene; returns how many seats were inside the view and drawn. `dpr` is the
 * canvas's device pixels per CSS pixel (the context is scaled by it). */
export function draw(ctx: CanvasRenderingContext2D, width: number, height: number, dpr: number, view: View, scene: Scene, overlay: Overlay): number {
  const { scale, tx, ty } = view;
  const radius = Math.max(0.6, scene.spacing * 0.42 * scale);
  // Seats a few pixels wide are written straight into the pixels: a path of 50,000 tiny
  // squares costs the rasteriser far more than setting the pixels does.
  if (radius < 2.5) {
    const drawn = drawPixels(ctx, width, height, dpr, view, scene, radius);
    drawStage(ctx, view, scene);
    drawOverlay(ctx, view, overlay);
    return drawn;
  }
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);
  drawStage(ctx, view, scene);

  // Which seats are in view, grouped by section, in one pass.
  const margin = radius + 2;
  const groups: Seat[][] = Array.from({ length: Math.max(1, scene.sectionCount) }, () => []);
  let drawn = 0;
  // Blocked seats are drawn grey and crossed, whatever their section; wheelchair seats get a ring.
  const blocked: Seat[] = [];
  const wheelchair: Seat[] = [];
  for (const seat of scene.seats) {
    const sx = seat.x * scale + tx, sy = seat.y * scale + ty;
    if (sx < -margin || sy < -margin || sx > width + margin || sy > height + margin) continue;
    if (seat.blocked) blocked.push(seat);
    else (groups[seat.section] ?? groups[0]).push(seat);
    if (seat.wheelchair) wheelchair.push(seat);
    drawn++;
  }
  groups.forEach((group, section) => {
    if (group.length === 0) return;
    ctx.fillStyle = sectionColour(section);
    ctx.beginPath();
    for (const seat of group) {
      const sx = seat.x * scale + tx, sy = seat.y * scale + ty;
      ctx.moveTo(sx + radius, sy);
      ctx.arc(sx, sy, radius, 0, Math.PI * 2);
    }
    ctx.fill();
  });
  if (blocked.length) {
    ctx.fillStyle = BLOCKED;
    ctx.beginPath();
    for (const seat of blocked) {
      const sx = seat.x * scale + tx, sy = seat.y * scale + ty;
      ctx.moveTo(sx + radius, sy);
      ctx.arc(sx, sy, radius, 0, Math.PI * 2);
    }
    ctx.fill();
    ctx.strokeStyle = BLOCKED_CROSS;
    ctx.lineWidth = Math.max(1, radius * 0.25);
    ctx.beginPath();
    const d = radius * 0.55;
    for (const seat of blocked) {
      const sx = seat.x * scale + tx, sy = seat.y * scale + ty;
      ctx.moveTo(sx - d, sy - d);
      ctx.lineTo(sx + d, sy + d);
      ctx.moveTo(sx + d, sy - d);
      ctx.lineTo(sx - d, sy + d);
    }
    ctx.stroke();
  }
  if (wheelchair.length) {
    ctx.strokeStyle = WHEELCHAIR;
    ctx.lineWidth = Math.max(1, Math.min(3, radius * 0.35));
    ctx.setLineDash([Math.max(1, radius * 0.5), Math.max(1, radius * 0.3)]);
    ctx.beginPath();
    const r = radius + ctx.lineWidth;
    for (const seat of wheelchair) {
      const sx = seat.x * scale + tx, sy = seat.y * scale + ty;
      ctx.moveTo(sx + r, sy);
      ctx.arc(sx, sy, r, 0, Math.PI * 2);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  outline(ctx, scene, view, scene.selection, SELECTED, radius, width, height);
  outline(ctx, scene, view, scene.faulty, FAULT, radius, width, height);
  if (radius >= 6) labels(ctx, groups, view, radius);
  drawOverlay(ctx, view, overlay);
  return drawn;
}

const BACKGROUND = "#fbfafd";

/** `#rrggbb` as one canvas pixel (RGBA bytes in memory, read as a little-endian u32). */
function pixel(hex: string): number {
  const v = parseInt(hex.slice(1), 16);
  return ((0xff << 24) | ((v & 0xff) << 16) | (v & 0xff00) | ((v >> 16) & 0xff)) >>> 0;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const pixelCache = new Map<string, number>();
function pixelOf(hex: string): number {
  let p = pixelCache.get(hex);
  if (p === undefined) {
    p = pixel(hex);
    if (!LITTLE_ENDIAN) p = (((p & 0xff) << 24) | ((p & 0xff00) << 8) | ((p >>> 8) & 0xff00) | (p >>> 24)) >>> 0;
    pixelCache.set(hex, p);
  }
  return p;
}

let frameImage: ImageData | null = null;

/** Every seat in view as a square of pixels in its section's colour (selected ones dark, ones
 * the API would refuse red, blocked ones grey, wheelchair seats the ring's blue), written into
 * one image and put on the canvas. */
function drawPixels(ctx: CanvasRenderingContext2D, width: number, height: number, dpr: number, view: View, scene: Scene, radius: number): number {
  const w = Math.max(1, Math.round(width * dpr)), h = Math.max(1, Math.round(height * dpr));
  if (!frameImage || frameImage.width !== w || frameImage.height !== h) frameImage = ctx.createImageData(w, h);
  const buf = new Uint32Array(frameImage.data.buffer);
  buf.fill(pixelOf(BACKGROUND));
  const colours = Array.from({ length: Math.max(1, scene.sectionCount) }, (_, i) => pixelOf(sectionColour(i)));
  const selected = pixelOf(SELECTED), fault = pixelOf(FAULT), grey = pixelOf(BLOCKED), ring = pixelOf(WHEELCHAIR);
  const size = Math.max(1, Math.round(radius * 2 * dpr));
  const half = size / 2;
  const scale = view.scale * dpr, tx = view.tx * dpr, ty = view.ty * dpr;
  const hasSelection = scene.selection.size > 0, hasFaults = scene.faulty.size > 0;
  let drawn = 0;
  for (const seat of scene.seats) {
    const x0 = Math.round(seat.x * scale + tx - half), y0 = Math.round(seat.y * scale + ty - half);
    if (x0 + size <= 0 || y0 + size <= 0 || x0 >= w || y0 >= h) continue;
    drawn++;
    const colour = hasFaults && scene.faulty.has(seat.key) ? fault : hasSelection && scene.selection.has(seat.key) ? selected : seat.blocked ? grey : seat.wheelchair ? ring : (colours[seat.section] ?? colours[0]);
    const xa = Math.max(0, x0), xb = Math.min(w, x0 + size), yb = Math.min(h, y0 + size);
    for (let y = Math.max(0, y0); y < yb; y++) buf.fill(colour, y * w + xa, y * w + xb);
  }
  ctx.putImageData(frameImage, 0, 0);
  return drawn;
}

function drawStage(ctx: CanvasRenderingContext2D, view: View, scene: Scene): void {
  const b = scene.bounds;
  if (!b) return;
  const pad = scene.spacing * 1.2;
  const width = (b.maxX - b.minX + 2 * pad) * 0.6;
  const midX = (b.minX + b.maxX) / 2;
  const radius = scene.spacing * 0.42;
  const top = b.minY - pad - scene.spacing * 2 + scene.spacing * 0.3;
  const x = (midX - width / 2) * view.scale + view.tx;
  const y = top * view.scale + view.ty;
  const h = radius * 2.4 * view.scale;
  ctx.fillStyle = "#ece9f1";
  ctx.fillRect(x, y, width * view.scale, h);
  if (h >= 8) {
    ctx.fillStyle = "#5d5868";
    ctx.font = `${Math.min(28, h * 0.55)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(scene.stageLabel, midX * view.scale + view.tx, y + h / 2);
  }
}

function outline(ctx: CanvasRenderingContext2D, scene: Scene, view: View, keys: ReadonlySet<number>, colour: string, radius: number, width: number, height: number): void {
  if (keys.size === 0) return;
  ctx.strokeStyle = colour;
  ctx.lineWidth = Math.max(1, Math.min(3, radius * 0.45));
  ctx.beginPath();
  const r = radius + ctx.lineWidth / 2;
  for (const seat of scene.seats) {
    if (!keys.has(seat.key)) continue;
    const sx = seat.x * view.scale + view.tx, sy = seat.y * view.scale + view.ty;
    if (sx < -r || sy < -r || sx > width + r || sy > height + r) continue;
    ctx.moveTo(sx + r, sy);
    ctx.arc(sx, sy, r, 0, Math.PI * 2);
  }
  ctx.stroke();
}

/** Seat numbers inside the seats, each row's name left of its leftmost seat. */
function labels(ctx: CanvasRenderingContext2D, groups: Seat[][], view: View, radius: number): void {
  const heads = new Map<string, Seat>();
  ctx.textBaseline = "middle";
  if (radius >= 9) {
    ctx.fillStyle = "#ffffff";
    ctx.textAlign = "center";
    ctx.font = `${Math.min(14, radius * 0.9)}px system-ui, sans-serif`;
  }
  groups.forEach((group, section) => {
    for (const seat of group) {
      const id = `${section}\u0000${seat.row}`;
      const head = heads.get(id);
      if (!head || seat.x < head.x) heads.set(id, seat);
      if (radius >= 9) ctx.fillText(seat.wheelchair ? "♿" : String(seat.number), seat.x * view.scale + view.tx, seat.y * view.scale + view.ty);
    }
  });
  ctx.fillStyle = "#5d5868";
  ctx.textAlign = "right";
  ctx.font = `600 ${Math.min(14, radius * 1.1)}px system-ui, sans-serif`;
  for (const seat of heads.values()) ctx.fillText(seat.row, seat.x * view.scale + view.tx - radius * 1.8, seat.y * view.scale + view.ty);
}

function drawOverlay(ctx: CanvasRenderingContext2D, view: View, overlay: Overlay): void {
  const sx = (x: number) => x * view.scale + view.tx;
  const sy = (y: number) => y * view.scale + view.ty;
  ctx.lineWidth = 1.5;
  if (overlay.box) {
    const { x0, y0, x1, y1 } = overlay.box;
    ctx.fillStyle = "rgba(91, 43, 214, 0.08)";
    ctx.strokeStyle = "#5b2bd6";
    ctx.setLineDash([5, 4]);
    ctx.fillRect(sx(Math.min(x0, x1)), sy(Math.min(y0, y1)), Math.abs(x1 - x0) * view.scale, Math.abs(y1 - y0) * view.scale);
    ctx.strokeRect(sx(Math.min(x0, x1)), sy(Math.min(y0, y1)), Math.abs(x1 - x0) * view.scale, Math.abs(y1 - y0) * view.scale);
    ctx.setLineDash([]);
  }
  const ghost = overlay.ghost;
  if (ghost) {
    ctx.strokeStyle = "#e67700";
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    if (ghost.kind === "rect") ctx.rect(sx(ghost.x), sy(ghost.y), ghost.w * view.scale, ghost.h * view.scale);
    else if (ghost.kind === "line") {
      ctx.moveTo(sx(ghost.x0), sy(ghost.y0));
      ctx.lineTo(sx(ghost.x1), sy(ghost.y1));
    } else {
      const sweep = (ghost.sweepDeg * Math.PI) / 180;
      for (const r of [ghost.r0, ghost.r1]) {
        ctx.moveTo(sx(ghost.cx + r * Math.cos(Math.PI / 2 + sweep / 2)), sy(ghost.cy + r * Math.sin(Math.PI / 2 + sweep / 2)));
        ctx.arc(sx(ghost.cx), sy(ghost.cy), r * view.scale, Math.PI / 2 + sweep / 2, Math.PI / 2 - sweep / 2, true);
      }
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (overlay.brush) {
    ctx.strokeStyle = "#15131a";
    ctx.beginPath();
    ctx.arc(sx(overlay.brush.x), sy(overlay.brush.y), overlay.brush.r * view.scale, 0, Math.PI * 2);
    ctx.stroke();
  }
}
