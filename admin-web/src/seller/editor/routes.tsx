// The editor's pages in the seller console (`src/seller/main.tsx` mounts them; the console's
// frame signs the seller in first): a new venue, and an existing one opened to edit (saved in
// place while no performance at it is published, else as a new venue).

import { useLocation, useRoute } from "preact-iso";
import { tr } from "../../lib/i18n";
import type { SellerRoute } from "../route";
import { VenueEditor } from "./VenueEditor";

function NewVenuePage() {
  const { route } = useLocation();
  return (
    <>
      <h1>{tr("새 공연장 그리기", "Draw a new venue")}</h1>
      <VenueEditor onSaved={(id) => route(`/seller/venues/${id}?saved=1`)} />
    </>
  );
}

function EditVenuePage() {
  const { params, query } = useRoute();
  const { route } = useLocation();
  return (
    <>
      <h1>{tr(`공연장 ${params.id}`, `Venue ${params.id}`)}</h1>
      {query.saved === "1" && (
        <p class="notice" role="status" data-testid="venue-saved">
          {tr(`저장했습니다. 공연 등록에서 이 공연장(번호 ${params.id})을 고르고 구역마다 등급과 가격을 정하세요.`, `Saved. Pick this venue (${params.id}) when registering a show and give each section its grade and price.`)}
        </p>
      )}
      {/* A fresh editor per venue: saving as a new venue goes to its page. */}
      <VenueEditor key={params.id} venueId={params.id} onSaved={(id) => route(`/seller/venues/${id}?saved=1`)} />
    </>
  );
}

export const editorRoutes: SellerRoute[] = [
  { path: "/seller/venues/new", component: NewVenuePage },
  { path: "/seller/venues/:id", component: EditVenuePage },
];
