// Step 4: discounts a buyer may choose one of (early-bird windows, eligibility such as
// disability or youth, checked at the door) and coupon codes (one per order, not with a
// discount). The API names a wrong one by its place in the list ("discount 0: …").
import { tr } from "../../../lib/i18n";
import { FieldMessage, fieldId } from "../fields";
import { type AmountKind, type CouponDraft, type DiscountDraft, newCoupon, newDiscount } from "./state";
import type { StepProps } from "./Wizard";

function AmountInputs(props: { kind: AmountKind; amount: string; disabled: boolean; onKind: (kind: AmountKind) => void; onAmount: (amount: string) => void; label: string; percentOf: string }) {
  return (
    <div class="row">
      <label>
        {tr("할인 방식", "Kind")}
        <select value={props.kind} disabled={props.disabled} onChange={(e) => props.onKind(e.currentTarget.value as AmountKind)}>
          <option value="percent">{tr(`${props.percentOf} %`, `% of the ${props.percentOf}`)}</option>
          <option value="won">{tr("금액 (원)", "Amount (won)")}</option>
        </select>
      </label>
      <label>
        {props.label}
        <input type="number" min={1} value={props.amount} disabled={props.disabled} onInput={(e) => props.onAmount(e.currentTarget.value)} />
      </label>
    </div>
  );
}

function DiscountCard({ discount, index, set, remove, locked, grades }: { discount: DiscountDraft; index: number; set: (change: Partial<DiscountDraft>) => void; remove: () => void; locked: boolean; grades: string[] }) {
  return (
    <div class="card" data-testid={`discount-${index}`}>
      <div class="row">
        <label>
          {tr("할인 이름", "Name")}
          <input value={discount.label} maxLength={64} disabled={locked} placeholder={tr("조기예매", "Early bird")} onInput={(e) => set({ label: e.currentTarget.value })} />
        </label>
        <label>
          {tr("종류", "Rule")}
          <select value={discount.kind} disabled={locked} onChange={(e) => set({ kind: e.currentTarget.value as DiscountDraft["kind"] })}>
            <option value="early_bird">{tr("조기예매 (기간 한정)", "Early bird (a window)")}</option>
            <option value="eligibility">{tr("자격 할인 (장애인, 청소년 등 — 입장 시 확인)", "Eligibility (disability, youth, … — checked at the door)")}</option>
          </select>
        </label>
      </div>
      <AmountInputs kind={discount.amountKind} amount={discount.amount} disabled={locked} onKind={(amountKind) => set({ amountKind })} onAmount={(amount) => set({ amount })} label={tr("할인 값", "Amount off")} percentOf={tr("티켓 가격의", "ticket price")} />
      {discount.kind === "early_bird" ? (
        <div class="row">
          <label>
            {tr("시작 (한국 시간)", "From (Korea time)")}
            <input type="datetime-local" value={discount.from} disabled={locked} onInput={(e) => set({ from: e.currentTarget.value })} />
          </label>
          <label>
            {tr("끝", "Until")}
            <input type="datetime-local" value={discount.until} disabled={locked} onInput={(e) => set({ until: e.currentTarget.value })} />
          </label>
        </div>
      ) : (
        <label>
          {tr("주문당 적용 매수 (동반 1인 포함이면 2)", "Tickets per order it covers (2 with one companion)")}
          <input type="number" min={1} value={discount.placesMax} disabled={locked} onInput={(e) => set({ placesMax: e.currentTarget.value })} />
        </label>
      )}
      {grades.length > 0 && (
        <fieldset class="checks">
          <legend>{tr("적용 등급 (선택 안 하면 전체)", "Grades (none: every grade)")}</legend>
          {grades.map((g) => (
            <label key={g} class="inline">
              <input type="checkbox" disabled={locked} checked={discount.grades.includes(g)} onChange={(e) => set({ grades: e.currentTarget.checked ? [...discount.grades, g] : discount.grades.filter((x) => x !== g) })} /> {g}
            </label>
          ))}
        </fieldset>
      )}
      {!locked && (
        <button type="button" class="secondary" onClick={remove}>
          {tr("삭제", "Remove")}
        </button>
      )}
    </div>
  );
}

function CouponCard({ coupon, index, set, remove, locked }: { coupon: CouponDraft; index: number; set: (change: Partial<CouponDraft>) => void; remove: () => void; locked: boolean }) {
  return (
    <div class="card" data-testid={`coupon-${index}`}>
      <label>
        {tr("쿠폰 코드 (영문, 숫자, -)", "Code (letters, digits, -)")}
        <input value={coupon.code} maxLength={64} disabled={locked} placeholder="WELCOME-5000" onInput={(e) => set({ code: e.currentTarget.value.toUpperCase() })} />
      </label>
      <AmountInputs kind={coupon.amountKind} amount={coupon.amount} disabled={locked} onKind={(amountKind) => set({ amountKind })} onAmount={(amount) => set({ amount })} label={tr("할인 값", "Amount off")} percentOf={tr("주문 금액의", "order")} />
      <div class="row">
        <label>
          {tr("최소 주문 금액 (원)", "Minimum order (won)")}
          <input type="number" min={0} value={coupon.minOrderWon} disabled={locked} onInput={(e) => set({ minOrderWon: e.currentTarget.value })} />
        </label>
        <label>
          {tr("사용 가능 횟수 (회차당)", "Uses (per performance)")}
          <input type="number" min={1} value={coupon.usesMax} disabled={locked} onInput={(e) => set({ usesMax: e.currentTarget.value })} />
        </label>
        <label>
          {tr("1인 사용 횟수", "Uses per buyer")}
          <input type="number" min={1} value={coupon.usesPerBuyerMax} disabled={locked} onInput={(e) => set({ usesPerBuyerMax: e.currentTarget.value })} />
        </label>
      </div>
      <div class="row">
        <label>
          {tr("사용 시작 (한국 시간)", "Valid from (Korea time)")}
          <input type="datetime-local" value={coupon.from} disabled={locked} onInput={(e) => set({ from: e.currentTarget.value })} />
        </label>
        <label>
          {tr("사용 끝", "Valid until")}
          <input type="datetime-local" value={coupon.until} disabled={locked} onInput={(e) => set({ until: e.currentTarget.value })} />
        </label>
      </div>
      {!locked && (
        <button type="button" class="secondary" onClick={remove}>
          {tr("삭제", "Remove")}
        </button>
      )}
    </div>
  );
}

export function OffersStep({ draft, update, error, locked }: StepProps) {
  const grades = draft.grades.map((g) => g.code.trim()).filter((c) => c.length > 0);
  return (
    <>
      <fieldset id={fieldId("discounts")}>
        <legend>{tr("할인", "Discounts")}</legend>
        {draft.discounts.length === 0 && <p class="muted">{tr("할인이 없습니다.", "No discounts.")}</p>}
        {draft.discounts.map((d, i) => (
          <DiscountCard
            key={i}
            index={i}
            discount={d}
            grades={grades}
            locked={locked}
            set={(change) => update({ discounts: draft.discounts.map((x, j) => (j === i ? { ...x, ...change } : x)) })}
            remove={() => update({ discounts: draft.discounts.filter((_, j) => j !== i) })}
          />
        ))}
        <FieldMessage error={error} field="discounts" />
        {!locked && (
          <button type="button" class="secondary" onClick={() => update({ discounts: [...draft.discounts, newDiscount()] })} data-testid="add-discount">
            {tr("+ 할인 추가", "+ Add a discount")}
          </button>
        )}
      </fieldset>
      <fieldset id={fieldId("coupons")}>
        <legend>{tr("쿠폰", "Coupons")}</legend>
        {draft.coupons.length === 0 && <p class="muted">{tr("쿠폰이 없습니다.", "No coupons.")}</p>}
        {draft.coupons.map((c, i) => (
          <CouponCard
            key={i}
            index={i}
            coupon={c}
            locked={locked}
            set={(change) => update({ coupons: draft.coupons.map((x, j) => (j === i ? { ...x, ...change } : x)) })}
            remove={() => update({ coupons: draft.coupons.filter((_, j) => j !== i) })}
          />
        ))}
        <FieldMessage error={error} field="coupons" />
        {!locked && (
          <button type="button" class="secondary" onClick={() => update({ coupons: [...draft.coupons, newCoupon()] })} data-testid="add-coupon">
            {tr("+ 쿠폰 추가", "+ Add a coupon")}
          </button>
        )}
      </fieldset>
    </>
  );
}
