// `/seller/signup` and `/seller/signin`: a company's seller account (`POST /api/v2/companies`,
// the account and the company in one request) and its session.
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { tr } from "../../lib/i18n";
import { signIn, signUp } from "../session";
import { Field, FormError, control } from "./fields";
import { SignInForm } from "./SignInForm";

export function SignUpPage() {
  const { route } = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      await signUp({
        account: { email: text("email"), password: String(data.get("password") ?? ""), name: text("name"), phone: text("phone") || undefined },
        company: { name: text("company_name"), business_number: text("business_number"), contact_email: text("contact_email"), contact_phone: text("contact_phone") },
      });
      route("/seller/");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="narrow">
      <h1>{tr("판매자(기획사) 가입", "Sign up your company")}</h1>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>{tr("회사 정보", "Company")}</legend>
          <Field field="company.name" label={tr("회사명", "Company name")} error={error}>
            <input {...control(error, "company.name")} name="company_name" maxLength={100} required autoComplete="organization" />
          </Field>
          <Field field="company.business_number" label={tr("사업자등록번호", "Business registration number")} error={error} hint={tr("10자리, 예: 123-45-67891", "Ten digits, e.g. 123-45-67891")}>
            <input {...control(error, "company.business_number")} name="business_number" inputMode="numeric" required placeholder="123-45-67891" />
          </Field>
          <Field field="company.contact_email" label={tr("대표 이메일", "Contact email")} error={error}>
            <input {...control(error, "company.contact_email")} name="contact_email" type="email" required />
          </Field>
          <Field field="company.contact_phone" label={tr("대표 전화번호", "Contact phone")} error={error}>
            <input {...control(error, "company.contact_phone")} name="contact_phone" type="tel" required placeholder="02-123-4567" />
          </Field>
        </fieldset>
        <fieldset>
          <legend>{tr("담당자 계정", "Your account")}</legend>
          <Field field="name" label={tr("담당자 이름", "Your name")} error={error}>
            <input {...control(error, "name")} name="name" maxLength={50} required autoComplete="name" />
          </Field>
          <Field field="email" label={tr("로그인 이메일", "Sign-in email")} error={error}>
            <input {...control(error, "email")} name="email" type="email" required autoComplete="email" />
          </Field>
          <Field field="password" label={tr("비밀번호 (8자 이상)", "Password (8 characters or more)")} error={error}>
            <input {...control(error, "password")} name="password" type="password" minLength={8} maxLength={128} required autoComplete="new-password" />
          </Field>
          <Field field="phone" label={tr("담당자 휴대폰 (선택)", "Your mobile (optional)")} error={error}>
            <input {...control(error, "phone")} name="phone" type="tel" autoComplete="tel" placeholder="010-1234-5678" />
          </Field>
        </fieldset>
        <FormError error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {tr("가입하기", "Sign up")}
          </button>
          <a class="button secondary" href="/seller/signin">
            {tr("이미 계정이 있어요", "I have an account")}
          </a>
        </div>
      </form>
    </section>
  );
}

export function SignInPage() {
  return (
    <SignInForm heading={tr("판매자 로그인", "Seller sign in")} home="/seller/" signIn={signIn}>
      <a class="button secondary" href="/seller/signup">
        {tr("판매자 가입", "Sign up your company")}
      </a>
    </SignInForm>
  );
}
