// Step 2: the venue — one of the company's, or a new one drawn in the seat-map editor — and the
// price grades over its sections and standing zones (each needs exactly one grade).
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "../../../lib/api";
import { won } from "../../../lib/format";
import { tr } from "../../../lib/i18n";
import { ErrorBox, Loading, useLoad } from "../../../buyer/shop/load";
import { regionName } from "../../../buyer/shop/taxonomy";
import type { MyVenue, Page, VenueDetail } from "../api-types";
import { Field, FieldMessage, control, fieldId } from "../fields";
import { type GradeDraft, int } from "./state";
import type { StepProps } from "./Wizard";

type VenueEditorProps = { venueId?: string; onSaved?: (venueId: string) => void };
// The seat-map editor (src/seller/editor, its own part of the console) is loaded when the seller
// opens it, and found by file name so the console builds without it.
const editorModules = import.meta.glob<{ VenueEditor: ComponentType<VenueEditorProps> }>("../../editor/VenueEditor.tsx");
const loadEditor: (() => Promise<{ VenueEditor: ComponentType<VenueEditorProps> }>) | undefined = editorModules["../../editor/VenueEditor.tsx"];

function EmbeddedEditor(props: VenueEditorProps & { onClose: () => void }) {
  const [Editor, setEditor] = useState<ComponentType<VenueEditorProps> | null>(null);
  const [failed, setFailed] = useState<unknown>(null);
  useEffect(() => {
    loadEditor?.()
      .then((module) => setEditor(() => module.VenueEditor))
      .catch(setFailed);
  }, []);
  return (
    <div class="card" data-testid="venue-editor">
      <div class="row" style="align-items: center">
        <h3 style="flex: 1 1 auto">{tr("새 공연장 그리기", "Draw a new venue")}</h3>
        <button type="button" class="secondary" style="flex: 0 0 auto" onClick={props.onClose}>
          {tr("닫기", "Close")}
        </button>
      </div>
      <ErrorBox error={failed} />
      {Editor ? <Editor onSaved={props.onSaved} /> : !failed && <Loading />}
    </div>
  );
}

/** One grade per section and zone not covered yet: what a seller edits from. */
function startingGrades(venue: VenueDetail): GradeDraft[] {
  return [{ code: "R", price: "", sections: venue.layout.sections.map((s) => s.name), zones: venue.layout.zones.map((z) => z.name) }];
}

function GradeTable({ venue, draft, update, error, locked }: StepProps & { venue: VenueDetail }) {
  const grades = draft.grades;
  const set = (index: number, change: Partial<GradeDraft>) => update({ grades: grades.map((g, i) => (i === index ? { ...g, ...change } : g)) });
  /** Puts `name` in grade `index` only: a place has one grade. */
  const assign = (index: number, kind: "sections" | "zones", name: string, on: boolean) =>
    update({
      grades: grades.map((g, i) => ({
        ...g,
        [kind]: i === index ? (on ? [...g[kind].filter((n) => n !== name), name] : g[kind].filter((n) => n !== name)) : on ? g[kind].filter((n) => n !== name) : g[kind],
      })),
    });
  const places: { kind: "sections" | "zones"; name: string; label: string }[] = [
    ...venue.layout.sections.map((s) => ({ kind: "sections" as const, name: s.name, label: tr(`${s.name} 구역`, `Section ${s.name}`) })),
    ...venue.layout.zones.map((z) => ({ kind: "zones" as const, name: z.name, label: tr(`${z.name} (스탠딩 ${z.capacity}명)`, `${z.name} (standing, ${z.capacity})`) })),
  ];
  return (
    <div id={fieldId("grades")}>
      <table class="list grades" data-testid="grades">
        <thead>
          <tr>
            <th>{tr("등급", "Grade")}</th>
            <th>{tr("가격 (원)", "Price (won)")}</th>
            <th>{tr("구역 · 스탠딩", "Sections · standing zones")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {grades.map((grade, i) => (
            <tr key={i}>
              <td>
                <input aria-label={tr(`등급 ${i + 1} 이름`, `Grade ${i + 1} code`)} value={grade.code} maxLength={16} disabled={locked} onInput={(e) => set(i, { code: e.currentTarget.value })} data-testid={`grade-code-${i}`} />
              </td>
              <td>
                <input aria-label={tr(`등급 ${i + 1} 가격`, `Grade ${i + 1} price`)} type="number" min={1} step={1000} value={grade.price} disabled={locked} onInput={(e) => set(i, { price: e.currentTarget.value })} data-testid={`grade-price-${i}`} />
                {int(grade.price) > 0 && <span class="muted">{won(int(grade.price))}</span>}
              </td>
              <td>
                {places.map((place) => (
                  <label key={place.kind + place.name} class="inline">
                    <input type="checkbox" disabled={locked} checked={grade[place.kind].includes(place.name)} onChange={(e) => assign(i, place.kind, place.name, e.currentTarget.checked)} /> {place.label}
                  </label>
                ))}
              </td>
              <td>
                {grades.length > 1 && !locked && (
                  <button type="button" class="secondary" onClick={() => update({ grades: grades.filter((_, j) => j !== i) })}>
                    {tr("삭제", "Remove")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!locked && (
        <button type="button" class="secondary" onClick={() => update({ grades: [...grades, { code: "", price: "", sections: [], zones: [] }] })}>
          {tr("+ 등급 추가", "+ Add a grade")}
        </button>
      )}
      <FieldMessage error={error} field="grades" />
    </div>
  );
}

export function VenueStep(props: StepProps) {
  const { draft, update, error, locked } = props;
  const [round, setRound] = useState(0);
  const [drawing, setDrawing] = useState(false);
  const venues = useLoad(() => get<Page<MyVenue>>("/companies/mine/venues?limit=50"), [round]);
  const venue = useLoad(() => (draft.venueId ? get<VenueDetail>(`/venues/${draft.venueId}`) : Promise.resolve(null)), [draft.venueId]);
  useEffect(() => {
    // A newly picked venue starts with one grade covering all of it.
    if (venue.data && venue.data.id === draft.venueId && draft.grades.length === 0) update({ grades: startingGrades(venue.data) });
  }, [venue.data]);
  const pick = (id: string) => update({ venueId: id, grades: [] });
  return (
    <>
      <fieldset disabled={locked} id={fieldId("venue_id")}>
        <legend>{tr("공연장", "Venue")}</legend>
        <ErrorBox error={venues.error} />
        {venues.loading && !venues.data && <Loading />}
        {venues.data?.items.length === 0 && <p class="muted">{tr("아직 공연장이 없습니다. 새로 그려 주세요.", "No venues yet: draw one.")}</p>}
        {venues.data?.items.map((v) => (
          <label key={v.id} class="choice">
            <input type="radio" name="venue" value={v.id} checked={draft.venueId === v.id} onChange={() => pick(v.id)} data-testid="venue-choice" />
            <span>
              <strong>{v.name}</strong> <span class="muted">{regionName(v.region)} · {v.address} · {tr(`${v.seats.toLocaleString("ko-KR")}석`, `${v.seats.toLocaleString("en")} seats`)}</span>
            </span>
          </label>
        ))}
        <FieldMessage error={error} field="venue_id" />
        {loadEditor && !drawing && !locked && (
          <button type="button" class="secondary" onClick={() => setDrawing(true)} data-testid="draw-venue">
            {tr("+ 새 공연장 그리기", "+ Draw a new venue")}
          </button>
        )}
      </fieldset>
      {drawing && (
        <EmbeddedEditor
          onClose={() => setDrawing(false)}
          onSaved={(id) => {
            setDrawing(false);
            setRound((r) => r + 1);
            pick(id);
          }}
        />
      )}
      {draft.venueId && (
        <fieldset>
          <legend>{tr("좌석 등급과 가격", "Price grades")}</legend>
          <p class="muted">{tr("모든 구역과 스탠딩 구역에 등급이 하나씩 있어야 합니다.", "Every section and standing zone needs exactly one grade.")}</p>
          <ErrorBox error={venue.error} />
          {venue.data ? <GradeTable {...props} venue={venue.data} /> : <Loading />}
        </fieldset>
      )}
      <fieldset disabled={locked}>
        <legend>{tr("예매 한도 · 예매 수수료", "Limits · booking fee")}</legend>
        <div class="row">
          <Field field="per_buyer_limit" label={tr("1인 최대 매수 (회차당)", "Tickets per buyer (per performance)")} error={error}>
            <input {...control(error, "per_buyer_limit")} type="number" min={1} value={draft.perBuyerLimit} onInput={(e) => update({ perBuyerLimit: e.currentTarget.value })} />
          </Field>
          <Field field="booking_fee_won" label={tr("예매 수수료 (장당, 원)", "Booking fee (per ticket, won)")} error={error} hint={tr("예매 당일 취소나 공연 취소 때만 환불됩니다.", "Refunded only on the day of booking or when a performance is called off.")}>
            <input {...control(error, "booking_fee_won")} type="number" min={0} step={100} value={draft.bookingFeeWon} onInput={(e) => update({ bookingFeeWon: e.currentTarget.value })} />
          </Field>
        </div>
      </fieldset>
    </>
  );
}
