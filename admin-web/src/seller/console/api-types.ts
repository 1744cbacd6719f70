// What the console reads from the API (docs/protocol.md and /api/openapi.json say the same).

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `GET /api/v2/companies/mine/shows` item. */
export interface MyShow {
  id: string;
  title: string;
  category: string;
  region: string;
  status: "draft" | "published" | string;
  venue_id: string;
  performances: number;
  first_starts_at_ms: number | null;
}

/** `GET /api/v2/companies/mine/venues` item. */
export interface MyVenue {
  id: string;
  name: string;
  region: string;
  address: string;
  seats: number;
}
