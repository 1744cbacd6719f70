// A form field with its label and the API's 422 message for it (`errors[]`, matched by the
// field's API name, e.g. `company.business_number` or `performances[0].starts_at_ms`), shown at
// the field, not in a list at the top.
import type { ComponentChildren } from "preact";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { lang, tr } from "../../lib/i18n";

/** The server's message for `field`, if the error names it. */
export function fieldMessage(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.errors.find((f) => f.field === field)?.message;
}

/** The server's messages for fields no form field shows (said once, above the buttons). */
export function otherMessages(error: unknown, shown: (field: string) => boolean): string[] {
  if (!(error instanceof ApiError)) return [];
  return error.errors.filter((f) => !shown(f.field)).map((f) => `${f.field}: ${f.message}`);
}

/** A DOM id for a field's API name (`performances[0].starts_at_ms` → `f-performances-0-starts_at_ms`). */
export function fieldId(field: string): string {
  return `f-${field.replace(/[^A-Za-z0-9_]+/g, "-").replace(/-+$/, "")}`;
}

/** The message under a field: the server's words, led in Korean by what to fix. */
export function FieldMessage(props: { error: unknown; field: string }) {
  const message = fieldMessage(props.error, props.field);
  if (!message) return null;
  return (
    <p class="field-error" id={`${fieldId(props.field)}-error`} data-field-error={props.field} role="alert">
      {lang.value === "ko" ? `입력값을 확인해 주세요: ${message}` : message}
    </p>
  );
}

/** Label, control and message. The control gets `id={fieldId(field)}` from the caller. */
export function Field(props: { field: string; label: string; error: unknown; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={fieldId(props.field)}>{props.label}</label>
      {props.children}
      {props.hint && <p class="muted hint">{props.hint}</p>}
      <FieldMessage error={props.error} field={props.field} />
    </div>
  );
}

/** Attributes for a control named by its API field: id, `aria-invalid`, `aria-describedby`. */
export function control(error: unknown, field: string) {
  const id = fieldId(field);
  return { id, "aria-invalid": fieldMessage(error, field) ? true : undefined, "aria-describedby": `${id}-error` };
}

/** The error as one line for the page (a 422 says which fields; others say what happened). */
export function FormError(props: { error: unknown }) {
  if (!props.error) return null;
  const invalid = props.error instanceof ApiError && props.error.code === "invalid_request";
  return (
    <p class="error" role="alert" data-testid="form-error">
      {invalid ? tr("표시된 항목을 확인해 주세요.", "Please check the fields marked below.") : errorMessage(props.error)}
    </p>
  );
}
