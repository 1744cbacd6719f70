// The editor's pages in the seller app (`src/seller/main.tsx` mounts them): a new venue, and an
// existing one opened to edit (saved as a new venue: the API keeps venues as made).

import { useLocation, useRoute } from "preact-iso";
import { loadCredential } from "../../lib/api";
import { tr } from "../../lib/i18n";
import { VenueEditor } from "./VenueEditor";

function SignInFirst() {
  return (
    <p class="notice" role="status">
      {tr("공연장을 만들려면 판매자 계정으로 로그인해 주세요. ", "Sign in with a seller account to make venues. ")}
      <a href="/seller">{tr("판매자 로그인", "Seller sign-in")}</a>
    </p>
  );
}

function NewVenuePage() {
  const { route } = useLocation();
  if (!loadCredential()) return <SignInFirst />;
  return (
    <>
      <h1>{tr("새 공연장 그리기", "Draw a new venue")}</h1>
      <VenueEditor onSaved={(id) => route(`/seller/venues/${id}`, true)} />
    </>
  );
}

function EditVenuePage() {
  const { params } = useRoute();
  const { route } = useLocation();
  if (!loadCredential()) return <SignInFirst />;
  return (
    <>
      <h1>{tr(`공연장 ${params.id}`, `Venue ${params.id}`)}</h1>
      {/* A fresh editor per venue: saving navigates to the new venue's page. */}
      <VenueEditor key={params.id} venueId={params.id} onSaved={(id) => route(`/seller/venues/${id}`)} />
    </>
  );
}

export const editorRoutes: { path: string; component: () => preact.JSX.Element }[] = [
  { path: "/seller/venues/new", component: NewVenuePage },
  { path: "/seller/venues/:id", component: EditVenuePage },
];
