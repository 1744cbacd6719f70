// `/seller/shows/new`: registering a show step by step — basics, venue and price grades,
// performances and the sale (queue, waitlist), discounts and coupons, the cancellation fees
// (the Korean standard pre-filled), door and transfer settings — then saving the draft. The API
// takes a show in one request and keeps it fixed, so nothing is sent before the last step; its
// 422 `errors[]` bring the seller back to the first step with a named field, shown at that field.
// The banner and publishing follow on the saved show's page (`/seller/shows/:id`).
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { post } from "../../../lib/api";
import { tr } from "../../../lib/i18n";
import { FormError, otherMessages } from "../fields";
import { type ShowDraft, type Step, STEPS, forPerformance, newDraft, performanceForm, showForm, stepOfError } from "./state";
import { BasicsStep } from "./BasicsStep";
import { VenueStep } from "./VenueStep";
import { ScheduleStep } from "./ScheduleStep";
import { OffersStep } from "./OffersStep";
import { FeesStep } from "./FeesStep";
import { DoorStep } from "./DoorStep";
import { ReviewStep } from "./ReviewStep";

export interface StepProps {
  draft: ShowDraft;
  update: (change: Partial<ShowDraft>) => void;
  error: unknown;
  /** Once the draft is saved, only performances may still be added. */
  locked: boolean;
}

export function stepTitle(step: Step): string {
  switch (step) {
    case "basics":
      return tr("기본 정보", "Basics");
    case "venue":
      return tr("공연장 · 좌석 등급", "Venue · price grades");
    case "schedule":
      return tr("회차 · 판매", "Performances · sale");
    case "offers":
      return tr("할인 · 쿠폰", "Discounts · coupons");
    case "fees":
      return tr("취소 수수료", "Cancellation fees");
    case "door":
      return tr("입장 · 양도", "Door · transfers");
    case "review":
      return tr("확인 · 저장", "Review · save");
  }
}

const STEP_BODIES: Record<Step, (props: StepProps) => preact.JSX.Element> = {
  basics: BasicsStep,
  venue: VenueStep,
  schedule: ScheduleStep,
  offers: OffersStep,
  fees: FeesStep,
  door: DoorStep,
  review: ReviewStep,
};

/** Fields a step has no control for are listed above its buttons, so no message is lost. */
const SHOWN_ELSEWHERE = (field: string) => stepOfError({ errors: [{ field }] } as never) !== null;

export function NewShowPage() {
  const { route } = useLocation();
  const [draft, setDraft] = useState<ShowDraft>(newDraft);
  const [step, setStep] = useState<Step>("basics");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [showId, setShowId] = useState<string | null>(null);
  const update = (change: Partial<ShowDraft>) => setDraft((current) => ({ ...current, ...change }));
  const index = STEPS.indexOf(step);
  const Body = STEP_BODIES[step];

  async function save() {
    setBusy(true);
    setError(null);
    let id = showId;
    try {
      if (!id) {
        // Times first: a performance without a date stops here, before the show exists.
        draft.performances.forEach((p, i) => performanceForm(p, i));
        const created = await post<{ id: string }>("/shows", showForm(draft));
        id = created.id;
        setShowId(id);
      }
      const performances = [...draft.performances];
      for (const [i, performance] of performances.entries()) {
        if (performance.id) continue;
        try {
          const added = await post<{ id: string }>(`/shows/${id}/performances`, performanceForm(performance, i));
          performances[i] = { ...performance, id: added.id };
        } catch (e) {
          update({ performances });
          throw forPerformance(e, i);
        }
      }
      update({ performances });
      route(`/seller/shows/${id}?saved=1`);
    } catch (e) {
      setError(e);
      const at = stepOfError(e);
      if (at) setStep(at);
    } finally {
      setBusy(false);
    }
  }

  const others = otherMessages(error, SHOWN_ELSEWHERE);
  return (
    <section>
      <h1>{tr("공연 등록", "Register a show")}</h1>
      <ol class="steps" aria-label={tr("등록 단계", "Steps")}>
        {STEPS.map((s, i) => (
          <li key={s} aria-current={s === step ? "step" : undefined} class={i < index ? "done" : undefined}>
            <button type="button" class="step-link" onClick={() => setStep(s)} data-step={s}>
              {i + 1}. {stepTitle(s)}
            </button>
          </li>
        ))}
      </ol>
      {showId && (
        <p class="notice" role="status">
          {tr("공연 초안은 저장되었습니다. 회차만 더 고칠 수 있습니다.", "The draft is saved. Only its performances can still change.")}
        </p>
      )}
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (step === "review") void save();
          else setStep(STEPS[index + 1]);
        }}
      >
        <h2>{stepTitle(step)}</h2>
        <Body draft={draft} update={update} error={error} locked={showId !== null} />
        <FormError error={error} />
        {others.length > 0 && (
          <ul class="error" data-testid="other-errors">
            {others.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        )}
        <div class="actions">
          {index > 0 && (
            <button type="button" class="secondary" onClick={() => setStep(STEPS[index - 1])}>
              {tr("이전", "Back")}
            </button>
          )}
          <button type="submit" disabled={busy} data-testid={step === "review" ? "save-show" : "next-step"}>
            {step === "review" ? (showId ? tr("회차 저장", "Save performances") : tr("초안 저장", "Save the draft")) : tr("다음", "Next")}
          </button>
        </div>
      </form>
    </section>
  );
}
