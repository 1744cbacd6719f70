// Step 1: what the show is. Its region is its venue's (the API takes it from there).
import { tr } from "../../../lib/i18n";
import { CATEGORIES, categoryName } from "../../../buyer/shop/taxonomy";
import { Field, control } from "../fields";
import type { StepProps } from "./Wizard";

/** The API's age ratings (`shows::AGE_RATINGS`). */
export const AGE_RATINGS: Record<string, readonly [string, string]> = {
  all: ["전체 관람가", "All ages"],
  "7+": ["7세 이상", "7 and over"],
  "12+": ["12세 이상", "12 and over"],
  "15+": ["15세 이상", "15 and over"],
  "19+": ["19세 이상 (청소년 관람불가)", "19 and over"],
};

export function BasicsStep({ draft, update, error, locked }: StepProps) {
  return (
    <fieldset disabled={locked}>
      <Field field="title" label={tr("공연명", "Title")} error={error}>
        <input {...control(error, "title")} value={draft.title} maxLength={100} required onInput={(e) => update({ title: e.currentTarget.value })} />
      </Field>
      <div class="row">
        <Field field="category" label={tr("장르", "Category")} error={error}>
          <select {...control(error, "category")} value={draft.category} onChange={(e) => update({ category: e.currentTarget.value })}>
            {Object.keys(CATEGORIES).map((c) => (
              <option key={c} value={c}>
                {categoryName(c)}
              </option>
            ))}
          </select>
        </Field>
        <Field field="age_rating" label={tr("관람 등급", "Age rating")} error={error}>
          <select {...control(error, "age_rating")} value={draft.ageRating} onChange={(e) => update({ ageRating: e.currentTarget.value })}>
            {Object.entries(AGE_RATINGS).map(([code, [ko, en]]) => (
              <option key={code} value={code}>
                {tr(ko, en)}
              </option>
            ))}
          </select>
        </Field>
        <Field field="running_minutes" label={tr("공연 시간 (분)", "Running time (minutes)")} error={error}>
          <input {...control(error, "running_minutes")} type="number" min={1} max={600} value={draft.runningMinutes} onInput={(e) => update({ runningMinutes: e.currentTarget.value })} />
        </Field>
      </div>
      <Field field="description" label={tr("공연 소개", "Description")} error={error} hint={tr("5,000자까지", "Up to 5,000 characters")}>
        <textarea {...control(error, "description")} rows={8} value={draft.description} onInput={(e) => update({ description: e.currentTarget.value })} />
      </Field>
      <p class="muted">{tr("지역은 다음 단계에서 고르는 공연장의 지역으로 정해집니다.", "The region is the venue's, chosen in the next step.")}</p>
    </fieldset>
  );
}
