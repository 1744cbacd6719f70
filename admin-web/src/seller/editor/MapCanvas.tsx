// The editing surface: one <canvas>, redrawn in a requestAnimationFrame only when something
// changed (the document, the selection, the view or a gesture's outline). Mouse, pen and touch
// arrive as pointer events: one pointer draws or selects, two pinch-zoom; the wheel zooms at the
// cursor; the keyboard pans, zooms, moves and deletes (see `KEYS_HELP`).
//
// Each frame's drawing time is written to the canvas as `data-frame-ms` and the seats it drew as
// `data-seats-drawn` (cheap attributes, read by the e2e spec's 50,000-seat measurement), and the
// view as `data-scale`, `data-tx`, `data-ty` (layout → screen), so a spec can say where a click lands.

import { useEffect, useRef } from "preact/hooks";
import { useSignalEffect } from "@preact/signals";
import { tr } from "../../lib/i18n";
import { bounds, clampCoord, type Seat } from "./model";
import { draw, type Overlay, type View } from "./render";
import type { EditorStore, SeatFields } from "./store";
import { type ToolState, ghostOf, placeShapeAt } from "./tools";

const ZOOM_MIN = 0.005;
const ZOOM_MAX = 40;
/** Screen pixels a key press pans. */
const PAN_STEP_PX = 60;
/** Pixels a pointer may travel and still count as a click. */
const CLICK_SLOP_PX = 4;

export function keysHelp(): string {
  return tr(
    "방향키: 이동(선택한 좌석이 있으면 좌석 이동, Shift는 10배) · +/−: 확대/축소 · 0: 전체 보기 · Ctrl+A: 모두 선택 · Esc: 선택 해제 · Delete: 삭제 · Ctrl+Z / Ctrl+Shift+Z: 실행 취소/다시 실행 · 휠·두 손가락: 확대/축소 · 스페이스+드래그 또는 가운데 버튼: 화면 이동",
    "Arrows: pan (move the selected seats when there are any; Shift ×10) · +/−: zoom · 0: fit · Ctrl+A: select all · Esc: clear selection · Delete: delete · Ctrl+Z / Ctrl+Shift+Z: undo/redo · wheel or pinch: zoom · Space+drag or middle button: pan",
  );
}

type Gesture =
  | { kind: "none" }
  | { kind: "pan"; lastX: number; lastY: number }
  | { kind: "box"; x0: number; y0: number; x1: number; y1: number; mode: "replace" | "add"; startX: number; startY: number }
  | { kind: "move"; fromX: number; fromY: number; before: Map<number, SeatFields>; seats: Seat[]; startX: number; startY: number; moved: boolean }
  | { kind: "paint"; before: Map<number, SeatFields> }
  | { kind: "line"; x0: number; y0: number; x1: number; y1: number }
  | { kind: "pinch" };

export function MapCanvas(props: { store: EditorStore; tools: ToolState; fitSignal: { value: number } }) {
  const { store, tools } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const view = useRef<View>({ scale: 2, tx: 40, ty: 60 });
  const size = useRef({ width: 0, height: 0 });
  const overlay = useRef<Overlay>({});
  const gesture = useRef<Gesture>({ kind: "none" });
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const pinch = useRef<{ dist: number; midX: number; midY: number } | null>(null);
  const hover = useRef<{ x: number; y: number } | null>(null);
  const spaceDown = useRef(false);
  const pending = useRef(0);
  const wantFit = useRef(false);
  const cached = useRef<{ version: number; bounds: ReturnType<typeof bounds> }>({ version: -1, bounds: null });

  const schedule = () => {
    if (pending.current) return;
    pending.current = requestAnimationFrame(frame);
  };

  function frame() {
    pending.current = 0;
    const el = canvas.current;
    const ctx = el?.getContext("2d");
    if (!el || !ctx) return;
    const started = performance.now();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const version = store.version.peek() * 1_000_003 + store.liveVersion.peek();
    if (cached.current.version !== version) cached.current = { version, bounds: bounds(store.doc.seats) };
    const drawn = draw(ctx, size.current.width, size.current.height, dpr, view.current, {
      seats: store.doc.seats,
      sectionCount: store.doc.sections.length,
      selection: store.selection,
      faulty: tools.faulty.peek(),
      spacing: store.index.spacing,
      bounds: cached.current.bounds,
      stageLabel: tr("무대", "STAGE"),
    }, overlay.current);
    el.dataset.frameMs = (performance.now() - started).toFixed(2);
    el.dataset.seatsDrawn = String(drawn);
    el.dataset.seats = String(store.doc.seats.length);
    el.dataset.scale = String(view.current.scale);
    el.dataset.tx = String(view.current.tx);
    el.dataset.ty = String(view.current.ty);
  }

  function fit() {
    const b = cached.current.bounds ?? bounds(store.doc.seats);
    const { width, height } = size.current;
    // Not laid out yet: the first resize fits.
    wantFit.current = width === 0;
    if (!b || width === 0) return;
    // The seats with a margin, and the stage drawn above them (render.ts: 3.2 seat spacings up).
    const spacing = store.index.spacing;
    const top = b.minY - spacing * 4, bottom = b.maxY + spacing * 1.5;
    const left = b.minX - spacing * 1.5, right = b.maxX + spacing * 1.5;
    const scale = clampZoom(Math.min(width / (right - left), height / (bottom - top)));
    view.current = {
      scale,
      tx: width / 2 - ((left + right) / 2) * scale,
      ty: height / 2 - ((top + bottom) / 2) * scale,
    };
    schedule();
  }

  const clampZoom = (s: number) => Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, s));

  function zoomAt(factor: number, sx: number, sy: number) {
    const v = view.current;
    const scale = clampZoom(v.scale * factor);
    const k = scale / v.scale;
    view.current = { scale, tx: sx - (sx - v.tx) * k, ty: sy - (sy - v.ty) * k };
    schedule();
  }

  function panBy(dx: number, dy: number) {
    const v = view.current;
    view.current = { scale: v.scale, tx: v.tx + dx, ty: v.ty + dy };
    schedule();
  }

  const toLayout = (sx: number, sy: number) => ({ x: (sx - view.current.tx) / view.current.scale, y: (sy - view.current.ty) / view.current.scale });
  const local = (e: { clientX: number; clientY: number }) => {
    const r = canvas.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  /** Hit radius: a seat, or a few pixels when seats are tiny on screen. */
  const hitRadius = () => Math.max(store.index.spacing * 0.5, 6 / view.current.scale);

  // Redraw on any change of the document, the selection or the faults.
  useSignalEffect(() => {
    void store.version.value;
    void store.liveVersion.value;
    void store.selectionVersion.value;
    void tools.faulty.value;
    void tools.tool.value;
    schedule();
  });
  useSignalEffect(() => {
    if (props.fitSignal.value > 0) fit();
  });

  useEffect(() => {
    const el = wrap.current!;
    const observer = new ResizeObserver(() => {
      const c = canvas.current!;
      const width = el.clientWidth, height = el.clientHeight;
      const dpr = window.devicePixelRatio || 1;
      size.current = { width, height };
      c.width = Math.round(width * dpr);
      c.height = Math.round(height * dpr);
      if (wantFit.current) fit();
      schedule();
    });
    observer.observe(el);
    // The wheel zooms the map, not the page: a passive listener could not prevent the scroll.
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = local(e);
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomAt(Math.exp(-delta * 0.0015), p.x, p.y);
    };
    canvas.current!.addEventListener("wheel", onWheel, { passive: false });
    const onKeyUp = (e: KeyboardEvent) => {
      if (e.key === " ") spaceDown.current = false;
    };
    window.addEventListener("keyup", onKeyUp);
    return () => {
      observer.disconnect();
      canvas.current?.removeEventListener("wheel", onWheel);
      window.removeEventListener("keyup", onKeyUp);
      if (pending.current) cancelAnimationFrame(pending.current);
    };
  }, []);

  function paintAt(p: { x: number; y: number }, before: Map<number, SeatFields>) {
    const section = tools.section.peek();
    let changed = false;
    store.index.within(p.x, p.y, tools.brushRadius(store.index.spacing), (seat) => {
      if (seat.section === section) return;
      if (!before.has(seat.key)) before.set(seat.key, { section: seat.section, row: seat.row, number: seat.number, x: seat.x, y: seat.y });
      seat.section = section;
      changed = true;
    });
    if (changed) store.touched(false);
  }

  function onPointerDown(e: PointerEvent) {
    const el = canvas.current!;
    el.focus();
    try {
      el.setPointerCapture(e.pointerId);
    } catch {
      // A synthetic or already-released pointer: the gesture still works while over the canvas.
    }
    const p = local(e);
    pointers.current.set(e.pointerId, p);
    if (pointers.current.size === 2) {
      // A second finger: the first one's gesture becomes a pinch. A box or a line it began is
      // dropped; seats it already painted or moved stay, as one undo step.
      const g = gesture.current;
      if (g.kind === "box" || g.kind === "line") gesture.current = { kind: "none" };
      overlay.current.box = null;
      finishGesture();
      const [a, b] = [...pointers.current.values()];
      pinch.current = { dist: Math.hypot(a.x - b.x, a.y - b.y), midX: (a.x + b.x) / 2, midY: (a.y + b.y) / 2 };
      gesture.current = { kind: "pinch" };
      return;
    }
    if (pointers.current.size > 2) return;
    const tool = tools.tool.peek();
    if (e.button === 1 || e.button === 2 || tool === "pan" || spaceDown.current) {
      gesture.current = { kind: "pan", lastX: p.x, lastY: p.y };
      return;
    }
    if (e.button !== 0) return;
    const at = toLayout(p.x, p.y);
    if (tool === "select") {
      const seat = store.index.nearest(at.x, at.y, hitRadius());
      if (seat) {
        if (e.shiftKey || e.ctrlKey || e.metaKey) {
          store.select([seat.key], "toggle");
          gesture.current = { kind: "none" };
          return;
        }
        if (!store.selection.has(seat.key)) store.select([seat.key]);
        const seats = store.selectedSeats();
        gesture.current = { kind: "move", fromX: at.x, fromY: at.y, before: new Map(seats.map((s) => [s.key, { section: s.section, row: s.row, number: s.number, x: s.x, y: s.y }])), seats, startX: p.x, startY: p.y, moved: false };
      } else {
        gesture.current = { kind: "box", x0: at.x, y0: at.y, x1: at.x, y1: at.y, mode: e.shiftKey ? "add" : "replace", startX: p.x, startY: p.y };
      }
    } else if (tool === "paint") {
      const before = new Map<number, SeatFields>();
      gesture.current = { kind: "paint", before };
      paintAt(at, before);
    } else if (tool === "line") {
      gesture.current = { kind: "line", x0: at.x, y0: at.y, x1: at.x, y1: at.y };
    } else {
      placeShapeAt(store, tools, Math.round(at.x), Math.round(at.y));
    }
    schedule();
  }

  function onPointerMove(e: PointerEvent) {
    const p = local(e);
    if (pointers.current.has(e.pointerId)) pointers.current.set(e.pointerId, p);
    const at = toLayout(p.x, p.y);
    hover.current = at;
    const g = gesture.current;
    switch (g.kind) {
      case "pinch": {
        const pts = [...pointers.current.values()];
        if (pts.length < 2 || !pinch.current) break;
        const [a, b] = pts;
        const dist = Math.hypot(a.x - b.x, a.y - b.y);
        const midX = (a.x + b.x) / 2, midY = (a.y + b.y) / 2;
        panBy(midX - pinch.current.midX, midY - pinch.current.midY);
        if (pinch.current.dist > 0) zoomAt(dist / pinch.current.dist, midX, midY);
        pinch.current = { dist, midX, midY };
        break;
      }
      case "pan":
        panBy(p.x - g.lastX, p.y - g.lastY);
        g.lastX = p.x;
        g.lastY = p.y;
        break;
      case "box":
        g.x1 = at.x;
        g.y1 = at.y;
        overlay.current.box = { x0: g.x0, y0: g.y0, x1: g.x1, y1: g.y1 };
        break;
      case "move": {
        if (!g.moved && Math.hypot(p.x - g.startX, p.y - g.startY) < CLICK_SLOP_PX) break;
        g.moved = true;
        const dx = Math.round(at.x - g.fromX), dy = Math.round(at.y - g.fromY);
        for (const seat of g.seats) {
          const was = g.before.get(seat.key)!;
          seat.x = clampCoord(was.x + dx);
          seat.y = clampCoord(was.y + dy);
        }
        store.touched(false);
        break;
      }
      case "paint":
        paintAt(at, g.before);
        break;
      case "line":
        g.x1 = at.x;
        g.y1 = at.y;
        break;
    }
    overlay.current.ghost = ghostOf(tools, g.kind === "line" ? g : null, at, store.index.spacing);
    overlay.current.brush = tools.tool.peek() === "paint" ? { ...at, r: tools.brushRadius(store.index.spacing) } : null;
    schedule();
  }

  function finishGesture() {
    const g = gesture.current;
    gesture.current = { kind: "none" };
    if (g.kind === "box") {
      overlay.current.box = null;
      const keys: number[] = [];
      store.index.inBox(g.x0, g.y0, g.x1, g.y1, (seat) => keys.push(seat.key));
      store.select(keys, g.mode);
    } else if (g.kind === "move") {
      if (g.moved) {
        store.touched(true);
        store.commitApplied(g.before);
      }
    } else if (g.kind === "paint") {
      store.commitApplied(g.before);
    } else if (g.kind === "line") {
      placeShapeAt(store, tools, Math.round(g.x0), Math.round(g.y0), Math.round(g.x1), Math.round(g.y1));
    }
    schedule();
  }

  function onPointerUp(e: PointerEvent) {
    pointers.current.delete(e.pointerId);
    if (gesture.current.kind === "pinch") {
      if (pointers.current.size === 0) gesture.current = { kind: "none" };
      pinch.current = null;
      return;
    }
    finishGesture();
  }

  function onKeyDown(e: KeyboardEvent) {
    const mod = e.ctrlKey || e.metaKey;
    const { width, height } = size.current;
    if (mod && e.key.toLowerCase() === "z") {
      e.preventDefault();
      if (e.shiftKey) store.redo();
      else store.undo();
      return;
    }
    if (mod && e.key.toLowerCase() === "y") {
      e.preventDefault();
      store.redo();
      return;
    }
    if (mod && e.key.toLowerCase() === "a") {
      e.preventDefault();
      store.select(store.doc.seats.map((s) => s.key));
      return;
    }
    if (e.key.startsWith("Arrow")) {
      e.preventDefault();
      const sign = e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 1;
      const horizontal = e.key === "ArrowLeft" || e.key === "ArrowRight";
      if (store.selection.size > 0) {
        const step = (e.shiftKey ? 10 : 1) * Math.max(1, Math.round(store.index.spacing / 2));
        const changes = new Map<number, Partial<SeatFields>>();
        for (const seat of store.selectedSeats()) {
          changes.set(seat.key, horizontal ? { x: clampCoord(seat.x + sign * step) } : { y: clampCoord(seat.y + sign * step) });
        }
        store.updateSeats(changes);
      } else {
        const step = PAN_STEP_PX * (e.shiftKey ? 4 : 1);
        // The arrow moves the view towards that side: the drawing moves the other way.
        panBy(horizontal ? -sign * step : 0, horizontal ? 0 : -sign * step);
      }
      return;
    }
    switch (e.key) {
      case "+":
      case "=":
        e.preventDefault();
        zoomAt(1.25, width / 2, height / 2);
        break;
      case "-":
      case "_":
        e.preventDefault();
        zoomAt(0.8, width / 2, height / 2);
        break;
      case "0":
        e.preventDefault();
        fit();
        break;
      case "Escape":
        store.clearSelection();
        break;
      case "Delete":
      case "Backspace":
        e.preventDefault();
        store.removeSeats([...store.selection]);
        break;
      case " ":
        e.preventDefault();
        spaceDown.current = true;
        break;
    }
  }

  return (
    <div class="editor-canvas-wrap" ref={wrap}>
      <canvas
        ref={canvas}
        class={`editor-canvas tool-${tools.tool.value}`}
        tabIndex={0}
        role="application"
        aria-roledescription={tr("좌석 배치 편집기", "seat map editor")}
        aria-label={tr("좌석 배치도 편집 영역", "Seat map editing area")}
        aria-describedby="editor-keys-help"
        data-testid="editor-canvas"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => {
          hover.current = null;
          overlay.current.ghost = null;
          overlay.current.brush = null;
          schedule();
        }}
        onContextMenu={(e) => e.preventDefault()}
        onKeyDown={onKeyDown}
      />
    </div>
  );
}
