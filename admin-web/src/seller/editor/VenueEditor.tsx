// The venue editor: the canvas, a toolbar of tools, and a side panel with the tool's settings,
// the selection's commands (sections, numbers, rows, blocked and wheelchair seats), the sections
// (the seat groups a show prices as grades), standing zones and the venue's name and address. It
// loads a venue with `GET /api/v2/venues/{id}` and saves it in place with `PUT` while no
// performance at it is published; once one is (409 `venue_in_use`: its seat ids are on sale),
// or for a new map, it saves with `POST /api/v2/venues`, and `onSaved` names the venue.

import { useComputed, useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import { ApiError, get, post, put } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { lang, tr } from "../../lib/i18n";
import { REGIONS, regionName } from "../../buyer/shop/taxonomy";
import { MapCanvas, keysHelp } from "./MapCanvas";
import {
  ADDRESS_LEN_MAX, NAME_LEN_MAX, PLACE_NAME_LEN_MAX, SECTIONS_MAX, SEATS_PER_VENUE_MAX, ZONE_CAPACITY_MAX, ZONES_PER_VENUE_MAX,
  docFromLayout, layoutFromDoc, nextLabel, problems, renumber, sectionColour, type ApiLayout, type Direction, type Problem,
} from "./model";
import { EditorStore, type SeatFields } from "./store";
import { placeShapeAt, toolState, type Tool, type ToolState } from "./tools";
import "./editor.css";

interface VenueView {
  id: string;
  name: string;
  region: string;
  address: string;
  layout: ApiLayout;
}

const TOOLS: { id: Tool; ko: string; en: string; key: string }[] = [
  { id: "select", ko: "선택", en: "Select", key: "V" },
  { id: "pan", ko: "화면 이동", en: "Pan", key: "H" },
  { id: "paint", ko: "구역 칠하기", en: "Paint sections", key: "B" },
  { id: "grid", ko: "격자", en: "Grid", key: "G" },
  { id: "line", ko: "직선 열", en: "Line", key: "L" },
  { id: "arc", ko: "곡선 열", en: "Arc", key: "C" },
];

const fmt = (n: number) => n.toLocaleString(lang.value === "ko" ? "ko-KR" : "en-US");

export function VenueEditor(props: { venueId?: string; onSaved?: (venueId: string) => void }) {
  const store = useMemo(() => new EditorStore({ sections: [{ name: "A" }], seats: [], zones: [] }), []);
  const tools = useMemo(() => toolState(), []);
  const fitSignal = useSignal(0);
  const name = useSignal("");
  const region = useSignal("seoul");
  const address = useSignal("");
  const loading = useSignal(!!props.venueId);
  const loadError = useSignal<string | null>(null);
  const saving = useSignal(false);
  const saveError = useSignal<string | null>(null);
  const fieldErrors = useSignal<Record<string, string>>({});
  const found = useSignal<Problem[]>([]);
  const savedId = useSignal<string | null>(null);
  const savedVersion = useSignal(-1);
  /** The opened venue is staged for sale (`venue_in_use`): saving makes a new venue. */
  const inUse = useSignal(false);

  useEffect(() => {
    if (!props.venueId) return;
    const abort = new AbortController();
    loading.value = true;
    get<VenueView>(`/venues/${encodeURIComponent(props.venueId)}`, { signal: abort.signal })
      .then((venue) => {
        const doc = docFromLayout(venue.layout);
        if (doc.sections.length === 0) doc.sections.push({ name: "A" });
        store.reset(doc);
        name.value = venue.name;
        region.value = venue.region;
        address.value = venue.address ?? "";
        loading.value = false;
        loadError.value = null;
        savedVersion.value = store.version.peek();
        tools.tool.value = "select";
        fitSignal.value++;
      })
      .catch((error) => {
        if (abort.signal.aborted) return;
        loading.value = false;
        loadError.value = errorMessage(error);
      });
    return () => abort.abort();
  }, [props.venueId]);

  const counts = useComputed(() => {
    void store.version.value;
    const perSection = store.doc.sections.map(() => 0);
    for (const seat of store.doc.seats) perSection[seat.section] = (perSection[seat.section] ?? 0) + 1;
    return { seats: store.doc.seats.length, perSection };
  });
  const selected = useComputed(() => {
    void store.selectionVersion.value;
    void store.version.value;
    return store.selection.size;
  });
  const dirty = useComputed(() => store.version.value !== savedVersion.value);

  async function save(event: Event, asNew = false) {
    event.preventDefault();
    saveError.value = null;
    fieldErrors.value = {};
    const local = problems(store.doc);
    const fields: Record<string, string> = {};
    if (!name.value.trim() || name.value.length > NAME_LEN_MAX) fields.name = tr(`1~${NAME_LEN_MAX}자로 입력해 주세요.`, `Enter 1 to ${NAME_LEN_MAX} characters.`);
    if (!address.value.trim() || address.value.length > ADDRESS_LEN_MAX) fields.address = tr(`1~${ADDRESS_LEN_MAX}자로 입력해 주세요.`, `Enter 1 to ${ADDRESS_LEN_MAX} characters.`);
    found.value = local;
    tools.faulty.value = new Set(local.flatMap((p) => p.seats ?? []));
    fieldErrors.value = fields;
    if (local.length || Object.keys(fields).length) {
      saveError.value = tr("저장하기 전에 아래 내용을 고쳐 주세요.", "Fix what is listed below before saving.");
      return;
    }
    saving.value = true;
    const version = store.version.peek();
    const form = { name: name.value.trim(), region: region.value, address: address.value.trim(), layout: layoutFromDoc(store.doc) };
    try {
      if (props.venueId && !inUse.value && !asNew) {
        await put<{ id: string }>(`/venues/${encodeURIComponent(props.venueId)}`, form);
        savedId.value = props.venueId;
        savedVersion.value = version;
        return;
      }
      const created = await post<{ id: string }>("/venues", form);
      savedId.value = String(created.id);
      savedVersion.value = version;
      props.onSaved?.(String(created.id));
    } catch (error) {
      if (error instanceof ApiError && error.code === "venue_in_use") inUse.value = true;
      saveError.value = errorMessage(error);
      if (error instanceof ApiError) {
        const byField: Record<string, string> = {};
        for (const e of error.errors) byField[e.field.split(".")[0]] = e.message;
        fieldErrors.value = byField;
      }
    } finally {
      saving.value = false;
    }
  }

  if (loading.value) return <p class="notice" role="status">{tr("공연장을 불러오는 중…", "Loading the venue…")}</p>;
  if (loadError.value) return <p class="error" role="alert">{loadError.value}</p>;

  return (
    <section class="venue-editor" aria-label={tr("좌석 배치도 편집기", "Seat map editor")}>
      <Toolbar store={store} tools={tools} onFit={() => fitSignal.value++} />
      <div class="editor-body">
        <div class="editor-stage">
          <MapCanvas store={store} tools={tools} fitSignal={fitSignal} />
          <p id="editor-keys-help" class="muted editor-help">{keysHelp()}</p>
        </div>
        <aside class="editor-panel" aria-label={tr("편집 설정", "Editor settings")}>
          <p class="editor-status" role="status" aria-live="polite" data-testid="editor-status">
            {tr(`좌석 ${fmt(counts.value.seats)}석 · 구역 ${store.doc.sections.length}개 · 선택 ${fmt(selected.value)}석`, `${fmt(counts.value.seats)} seats · ${store.doc.sections.length} sections · ${fmt(selected.value)} selected`)}
            {counts.value.seats > SEATS_PER_VENUE_MAX && (
              <span class="warn-text"> {tr(`(저장은 ${fmt(SEATS_PER_VENUE_MAX)}석까지)`, `(saves up to ${fmt(SEATS_PER_VENUE_MAX)})`)}</span>
            )}
          </p>
          <ToolPanel store={store} tools={tools} />
          <SelectionPanel store={store} tools={tools} count={selected.value} />
          <SectionsPanel store={store} tools={tools} perSection={counts.value.perSection} />
          <ZonesPanel store={store} />
          <form class="editor-box" onSubmit={save} noValidate aria-labelledby="venue-save-title">
            <h2 id="venue-save-title">{tr("공연장 정보와 저장", "Venue and save")}</h2>
            <label for="venue-name">{tr("공연장 이름", "Venue name")}</label>
            <input id="venue-name" value={name.value} maxLength={NAME_LEN_MAX} onInput={(e) => (name.value = e.currentTarget.value)} aria-invalid={!!fieldErrors.value.name} aria-describedby={fieldErrors.value.name ? "venue-name-error" : undefined} required />
            {fieldErrors.value.name && <p id="venue-name-error" class="field-error">{fieldErrors.value.name}</p>}
            <label for="venue-region">{tr("지역", "Region")}</label>
            <select id="venue-region" value={region.value} onChange={(e) => (region.value = e.currentTarget.value)}>
              {Object.keys(REGIONS).map((r) => (
                <option key={r} value={r}>{regionName(r)}</option>
              ))}
            </select>
            {fieldErrors.value.region && <p class="field-error">{fieldErrors.value.region}</p>}
            <label for="venue-address">{tr("주소", "Address")}</label>
            <input id="venue-address" value={address.value} maxLength={ADDRESS_LEN_MAX} onInput={(e) => (address.value = e.currentTarget.value)} aria-invalid={!!fieldErrors.value.address} aria-describedby={fieldErrors.value.address ? "venue-address-error" : undefined} required />
            {fieldErrors.value.address && <p id="venue-address-error" class="field-error">{fieldErrors.value.address}</p>}
            {props.venueId && !inUse.value && (
              <p class="muted small">
                {tr("공개한 공연이 없는 동안에는 이 공연장을 고쳐 저장합니다. 좌석을 바꾸면 등록 중인 공연의 등급도 다시 확인하세요.", "While no performance here is published, saving updates this venue. After changing seats, check the grades of shows being registered here.")}
              </p>
            )}
            {props.venueId && inUse.value && (
              <p class="notice small" data-testid="venue-in-use">
                {tr("공개된 공연이 이 공연장의 좌석을 팔고 있어 고칠 수 없습니다. 새 공연장으로 저장하세요.", "A published performance sells this venue's seats, so it cannot change. Save it as a new venue.")}
              </p>
            )}
            {fieldErrors.value.layout && <p class="field-error">{fieldErrors.value.layout}</p>}
            {found.value.length > 0 && (
              <ul class="problems" data-testid="editor-problems">
                {found.value.map((p, i) => (
                  <li key={i}>
                    {tr(p.ko, p.en)}
                    {p.seats && p.seats.length > 0 && (
                      <button type="button" class="link-button" onClick={() => store.select(p.seats!)}>
                        {tr("좌석 선택", "Select them")}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {saveError.value && <p class="error" role="alert">{saveError.value}</p>}
            {savedId.value && !dirty.value && (
              <p class="ok-text" role="status" data-testid="editor-saved" data-venue-id={savedId.value}>
                {tr(`저장했습니다 (공연장 번호 ${savedId.value}).`, `Saved (venue ${savedId.value}).`)}
              </p>
            )}
            <button type="submit" disabled={saving.value} data-testid="editor-save">
              {saving.value ? tr("저장 중…", "Saving…") : props.venueId && inUse.value ? tr("새 공연장으로 저장", "Save as a new venue") : tr("공연장 저장", "Save venue")}
            </button>
            {props.venueId && !inUse.value && (
              <button type="button" class="secondary" disabled={saving.value} onClick={(e) => save(e, true)} data-testid="editor-save-as-new">
                {tr("새 공연장으로 저장", "Save as a new venue")}
              </button>
            )}
          </form>
        </aside>
      </div>
    </section>
  );
}

function Toolbar(props: { store: EditorStore; tools: ToolState; onFit: () => void }) {
  const { store, tools } = props;
  void store.historyVersion.value;
  void store.selectionVersion.value;
  useEffect(() => {
    // Tool shortcuts (single letters) when focus is not in a text field.
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey || (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))) return;
      const tool = TOOLS.find((t) => t.key.toLowerCase() === e.key.toLowerCase());
      if (tool) tools.tool.value = tool.id;
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="editor-toolbar" role="toolbar" aria-label={tr("도구", "Tools")}>
      {TOOLS.map((t) => (
        <button
          key={t.id}
          type="button"
          class={tools.tool.value === t.id ? "" : "secondary"}
          aria-pressed={tools.tool.value === t.id}
          aria-keyshortcuts={t.key}
          title={`${tr(t.ko, t.en)} (${t.key})`}
          data-tool={t.id}
          onClick={() => (tools.tool.value = t.id)}
        >
          {tr(t.ko, t.en)}
        </button>
      ))}
      <span class="toolbar-gap" />
      <button type="button" class="secondary" disabled={!store.canUndo} onClick={() => store.undo()} aria-keyshortcuts="Control+Z" data-testid="editor-undo">
        {tr("실행 취소", "Undo")}
      </button>
      <button type="button" class="secondary" disabled={!store.canRedo} onClick={() => store.redo()} aria-keyshortcuts="Control+Shift+Z" data-testid="editor-redo">
        {tr("다시 실행", "Redo")}
      </button>
      <button type="button" class="secondary" onClick={props.onFit} aria-keyshortcuts="0">
        {tr("전체 보기", "Fit")}
      </button>
    </div>
  );
}

function NumberField(props: { id: string; label: string; value: number; min?: number; max?: number; step?: number; onChange: (n: number) => void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        inputMode="numeric"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        onInput={(e) => {
          const n = Number(e.currentTarget.value);
          if (Number.isFinite(n)) props.onChange(n);
        }}
      />
    </div>
  );
}

function SectionSelect(props: { id: string; label: string; store: EditorStore; value: number; onChange: (n: number) => void }) {
  void props.store.version.value;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={String(props.value)} onChange={(e) => props.onChange(Number(e.currentTarget.value))}>
        {props.store.doc.sections.map((s, i) => (
          <option key={i} value={String(i)}>{s.name || tr(`(이름 없음 ${i + 1})`, `(unnamed ${i + 1})`)}</option>
        ))}
      </select>
    </div>
  );
}

function ToolPanel(props: { store: EditorStore; tools: ToolState }) {
  const { store, tools } = props;
  const tool = tools.tool.value;
  const placing = tool === "grid" || tool === "line" || tool === "arc";
  const placeAtCentre = () => {
    const b = store.doc.seats.length ? store.doc.seats[store.doc.seats.length - 1] : null;
    // Below the last seat placed, so repeated placements stack instead of overlapping.
    const y = b ? b.y + tools.rowPitch.peek() * 3 : 0;
    placeShapeAt(store, tools, 0, Math.round(y));
  };
  return (
    <div class="editor-box" data-testid="tool-panel">
      <h2>{tr("도구 설정", "Tool settings")}</h2>
      {tool === "select" && <p class="muted small">{tr("좌석을 누르면 선택, Shift로 추가, 빈 곳을 끌면 상자 선택, 선택한 좌석을 끌면 이동합니다.", "Click a seat to select it, Shift adds, drag on empty space to box-select, drag selected seats to move them.")}</p>}
      {tool === "pan" && <p class="muted small">{tr("끌어서 화면을 옮깁니다. 휠이나 두 손가락으로 확대합니다.", "Drag to pan. Wheel or pinch to zoom.")}</p>}
      {(placing || tool === "paint") && (
        <SectionSelect id="tool-section" label={placing ? tr("넣을 구역", "Into section") : tr("칠할 구역", "Paint into section")} store={store} value={tools.section.value} onChange={(n) => (tools.section.value = n)} />
      )}
      {tool === "paint" && (
        <>
          <NumberField id="tool-brush" label={tr("붓 크기 (좌석)", "Brush size (seats)")} value={tools.brushSeats.value} min={1} max={50} onChange={(n) => (tools.brushSeats.value = Math.max(1, Math.min(50, n)))} />
          <p class="muted small">{tr("좌석 위를 칠하면 그 구역으로 옮겨집니다. 가격 등급(VIP/R/S/A)은 공연 등록에서 구역마다 정합니다.", "Painting moves seats into that section. Price grades (VIP/R/S/A) are set per section when registering a show.")}</p>
        </>
      )}
      {placing && (
        <>
          <div class="field-row">
            <div class="field">
              <label for="tool-first-row">{tr("첫 열 이름", "First row")}</label>
              <input id="tool-first-row" value={tools.firstRow.value} maxLength={PLACE_NAME_LEN_MAX} onInput={(e) => (tools.firstRow.value = e.currentTarget.value)} />
            </div>
            <NumberField id="tool-first-number" label={tr("첫 좌석 번호", "First seat number")} value={tools.firstNumber.value} min={0} max={65535} onChange={(n) => (tools.firstNumber.value = n)} />
          </div>
          <div class="field">
            <label for="tool-direction">{tr("번호 방향", "Numbering direction")}</label>
            <select id="tool-direction" value={tools.direction.value} onChange={(e) => (tools.direction.value = e.currentTarget.value as Direction)}>
              <option value="ltr">{tr("왼쪽 → 오른쪽", "Left to right")}</option>
              <option value="rtl">{tr("오른쪽 → 왼쪽", "Right to left")}</option>
            </select>
          </div>
          <div class="field-row">
            {tool !== "line" && <NumberField id="tool-rows" label={tr("열 수", "Rows")} value={tools.rows.value} min={1} max={1000} onChange={(n) => (tools.rows.value = n)} />}
            {tool !== "arc" && <NumberField id="tool-per-row" label={tr("열당 좌석", "Seats per row")} value={tools.perRow.value} min={1} max={1000} onChange={(n) => (tools.perRow.value = n)} />}
          </div>
          <div class="field-row">
            <NumberField id="tool-pitch" label={tr("좌석 간격", "Seat spacing")} value={tools.pitch.value} min={1} onChange={(n) => (tools.pitch.value = n)} />
            {tool !== "line" && <NumberField id="tool-row-pitch" label={tr("열 간격", "Row spacing")} value={tools.rowPitch.value} min={1} onChange={(n) => (tools.rowPitch.value = n)} />}
          </div>
          {tool === "arc" && (
            <div class="field-row">
              <NumberField id="tool-radius" label={tr("첫 열 반지름", "First row radius")} value={tools.radius.value} min={1} onChange={(n) => (tools.radius.value = n)} />
              <NumberField id="tool-sweep" label={tr("펼친 각도(°)", "Sweep (°)")} value={tools.sweepDeg.value} min={1} max={359} onChange={(n) => (tools.sweepDeg.value = n)} />
            </div>
          )}
          <p class="muted small">
            {tool === "grid" && tr("지도를 누른 곳이 첫 열 첫 좌석입니다.", "Click the map where the first row's first seat goes.")}
            {tool === "line" && tr("지도에서 끌어 한 열을 긋습니다.", "Drag on the map to draw a row.")}
            {tool === "arc" && tr("지도를 누른 곳(무대 쪽 중심)을 둘러 열이 휘어집니다.", "Click the focus (towards the stage); rows curve around it.")}
          </p>
          <button type="button" class="secondary" onClick={placeAtCentre} data-testid="place-button">
            {tr("지도에 추가", "Add to the map")}
          </button>
          {tools.refusal.value && (
            <p class="error" role="alert">
              {tr(`한 번에 넣을 수 있는 좌석 수를 넘었습니다 (${tools.refusal.value}).`, `Too many seats at once (${tools.refusal.value}).`)}
            </p>
          )}
        </>
      )}
    </div>
  );
}

function SelectionPanel(props: { store: EditorStore; tools: ToolState; count: number }) {
  const { store } = props;
  const target = useSignal(0);
  const start = useSignal(1);
  const direction = useSignal<Direction>("ltr");
  const firstRow = useSignal("1");
  // Subscribes: marking seats changes no count, and the buttons' labels follow the seats.
  void store.version.value;
  if (props.count === 0) return null;

  // Marks the selection blocked (or wheelchair); when every selected seat already is, unmarks it.
  // One undo step either way.
  const selection = store.selectedSeats();
  const allBlocked = selection.every((seat) => seat.blocked);
  const allWheelchair = selection.every((seat) => seat.wheelchair);
  const flag = (which: "blocked" | "wheelchair") => {
    const value = !(which === "blocked" ? allBlocked : allWheelchair);
    const changes = new Map<number, Partial<SeatFields>>();
    for (const seat of selection) changes.set(seat.key, { [which]: value });
    store.updateSeats(changes);
  };
  const moveToSection = () => {
    const changes = new Map<number, Partial<SeatFields>>();
    for (const seat of store.selectedSeats()) changes.set(seat.key, { section: target.value });
    store.updateSeats(changes);
  };
  const number = () => {
    const numbers = renumber(store.selectedSeats(), Math.max(0, Math.floor(start.value)), 1, direction.value);
    store.updateSeats(new Map([...numbers].map(([key, n]) => [key, { number: n }])));
  };
  const nameRows = () => {
    // Rows of the selection front to back (by their mean y), named from the first label on.
    const rows = new Map<string, { y: number; n: number; keys: number[] }>();
    for (const seat of store.selectedSeats()) {
      const id = `${seat.section}\u0000${seat.row}`;
      const row = rows.get(id) ?? { y: 0, n: 0, keys: [] };
      row.y += seat.y;
      row.n += 1;
      row.keys.push(seat.key);
      rows.set(id, row);
    }
    let label = firstRow.value.trim() || "1";
    const changes = new Map<number, Partial<SeatFields>>();
    for (const row of [...rows.values()].sort((a, b) => a.y / a.n - b.y / b.n)) {
      for (const key of row.keys) changes.set(key, { row: label });
      label = nextLabel(label);
    }
    store.updateSeats(changes);
  };

  return (
    <div class="editor-box" data-testid="selection-panel">
      <h2>{tr(`선택한 좌석 ${fmt(props.count)}석`, `${fmt(props.count)} seats selected`)}</h2>
      <div class="field-row align-end">
        <SectionSelect id="sel-section" label={tr("구역으로 옮기기", "Move to section")} store={store} value={target.value} onChange={(n) => (target.value = n)} />
        <button type="button" class="secondary" onClick={moveToSection} data-testid="sel-move-section">{tr("옮기기", "Move")}</button>
      </div>
      <div class="field-row align-end">
        <NumberField id="sel-start" label={tr("번호 다시 매기기: 시작", "Renumber from")} value={start.value} min={0} max={65535} onChange={(n) => (start.value = n)} />
        <div class="field">
          <label for="sel-direction">{tr("방향", "Direction")}</label>
          <select id="sel-direction" value={direction.value} onChange={(e) => (direction.value = e.currentTarget.value as Direction)}>
            <option value="ltr">{tr("왼쪽 → 오른쪽", "Left to right")}</option>
            <option value="rtl">{tr("오른쪽 → 왼쪽", "Right to left")}</option>
          </select>
        </div>
        <button type="button" class="secondary" onClick={number}>{tr("번호 매기기", "Number")}</button>
      </div>
      <div class="field-row align-end">
        <div class="field">
          <label for="sel-first-row">{tr("열 이름 다시 짓기: 첫 열", "Rename rows from")}</label>
          <input id="sel-first-row" value={firstRow.value} maxLength={PLACE_NAME_LEN_MAX} onInput={(e) => (firstRow.value = e.currentTarget.value)} />
        </div>
        <button type="button" class="secondary" onClick={nameRows}>{tr("열 이름 짓기", "Name rows")}</button>
      </div>
      <div class="field-row" role="group" aria-label={tr("판매하지 않는 좌석과 휠체어석", "Seats never sold, wheelchair seats")}>
        <button type="button" class="secondary" onClick={() => flag("blocked")} aria-pressed={allBlocked} data-testid="sel-blocked">
          {allBlocked ? tr("판매 제외 해제", "Unblock") : tr("판매 제외 (차단석)", "Block (never sold)")}
        </button>
        <button type="button" class="secondary" onClick={() => flag("wheelchair")} aria-pressed={allWheelchair} data-testid="sel-wheelchair">
          {allWheelchair ? tr("휠체어석 해제", "Not a wheelchair seat") : tr("♿ 휠체어석으로", "♿ Wheelchair seat")}
        </button>
      </div>
      <button type="button" class="secondary danger" onClick={() => store.removeSeats([...store.selection])} aria-keyshortcuts="Delete" data-testid="sel-delete">
        {tr("선택한 좌석 삭제", "Delete selected seats")}
      </button>
    </div>
  );
}

function SectionsPanel(props: { store: EditorStore; tools: ToolState; perSection: number[] }) {
  const { store, tools } = props;
  void store.version.value;
  const sections = store.doc.sections;
  const rename = (index: number, value: string) => {
    if (sections[index].name === value) return;
    store.setSections(sections.map((s, i) => (i === index ? { name: value } : s)));
  };
  const add = () => {
    if (sections.length >= SECTIONS_MAX) return;
    const taken = new Set(sections.map((s) => s.name));
    let label = sections.length ? nextLabel(sections[sections.length - 1].name || "A") : "A";
    while (taken.has(label)) label = nextLabel(label);
    store.setSections([...sections, { name: label }]);
    tools.section.value = sections.length;
  };
  const remove = (index: number) => {
    store.setSections(sections.filter((_, i) => i !== index), index);
    if (tools.section.peek() >= store.doc.sections.length) tools.section.value = Math.max(0, store.doc.sections.length - 1);
  };
  const selectSection = (index: number) => store.select(store.doc.seats.filter((s) => s.section === index).map((s) => s.key));
  return (
    <div class="editor-box" data-testid="sections-panel">
      <h2>{tr("구역 (등급을 매길 좌석 묶음)", "Sections (the seat groups grades price)")}</h2>
      <ul class="section-list">
        {sections.map((section, i) => (
          <li key={i} data-section={section.name}>
            <span class="swatch" style={{ background: sectionColour(i) }} aria-hidden="true" />
            <label class="visually-hidden" for={`section-name-${i}`}>{tr(`구역 ${i + 1} 이름`, `Section ${i + 1} name`)}</label>
            <input id={`section-name-${i}`} class="section-name" value={section.name} maxLength={PLACE_NAME_LEN_MAX} onChange={(e) => rename(i, e.currentTarget.value)} />
            <span class="muted small count">{tr(`${fmt(props.perSection[i] ?? 0)}석`, `${fmt(props.perSection[i] ?? 0)}`)}</span>
            <button type="button" class="secondary small-button" onClick={() => selectSection(i)} aria-label={tr(`${section.name} 구역 좌석 모두 선택`, `Select every seat of ${section.name}`)}>
              {tr("선택", "Select")}
            </button>
            <button type="button" class="secondary small-button" disabled={(props.perSection[i] ?? 0) > 0 || sections.length === 1} onClick={() => remove(i)} aria-label={tr(`${section.name} 구역 삭제 (좌석이 없을 때)`, `Delete section ${section.name} (when empty)`)}>
              {tr("삭제", "Delete")}
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="secondary" onClick={add} disabled={sections.length >= SECTIONS_MAX} data-testid="add-section">
        {tr("구역 추가", "Add section")}
      </button>
    </div>
  );
}

function ZonesPanel(props: { store: EditorStore }) {
  const { store } = props;
  // Subscribes: @preact/signals skips re-rendering a component whose props did not change.
  void store.version.value;
  const zones = store.doc.zones;
  const update = (index: number, change: Partial<{ name: string; capacity: number }>) =>
    store.setZones(zones.map((z, i) => (i === index ? { ...z, ...change } : z)));
  return (
    <div class="editor-box" data-testid="zones-panel">
      <h2>{tr("스탠딩 구역", "Standing zones")}</h2>
      {zones.length === 0 && <p class="muted small">{tr("좌석 없이 정원만 파는 구역입니다.", "Zones sold by capacity, without seats.")}</p>}
      <ul class="zone-list">
        {zones.map((zone, i) => (
          <li key={i}>
            <div class="field">
              <label for={`zone-name-${i}`}>{tr("이름", "Name")}</label>
              <input id={`zone-name-${i}`} value={zone.name} maxLength={PLACE_NAME_LEN_MAX} onChange={(e) => update(i, { name: e.currentTarget.value })} />
            </div>
            <div class="field">
              <label for={`zone-capacity-${i}`}>{tr("정원", "Capacity")}</label>
              <input id={`zone-capacity-${i}`} type="number" min={1} max={ZONE_CAPACITY_MAX} value={zone.capacity} onChange={(e) => update(i, { capacity: Math.floor(Number(e.currentTarget.value)) })} />
            </div>
            <button type="button" class="secondary small-button" onClick={() => store.setZones(zones.filter((_, j) => j !== i))} aria-label={tr(`${zone.name} 스탠딩 구역 삭제`, `Delete standing zone ${zone.name}`)}>
              {tr("삭제", "Delete")}
            </button>
          </li>
        ))}
      </ul>
      <button
        type="button"
        class="secondary"
        disabled={zones.length >= ZONES_PER_VENUE_MAX}
        onClick={() => store.setZones([...zones, { name: tr(`스탠딩 ${zones.length + 1}`, `Standing ${zones.length + 1}`), capacity: 100 }])}
        data-testid="add-zone"
      >
        {tr("스탠딩 구역 추가", "Add standing zone")}
      </button>
    </div>
  );
}
