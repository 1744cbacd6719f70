//! Venues and their seat maps as sellers send them: sections of rows of seats (with where to
//! draw each) and standing zones, and what makes one valid. No I/O here.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldError};
use crate::taxonomy::REGIONS;

/// A venue's name, a show's title.
pub const NAME_LEN_MAX: usize = 100;
pub const ADDRESS_LEN_MAX: usize = 200;
/// A section's, row's or zone's name.
pub const PLACE_NAME_LEN_MAX: usize = 32;
/// A stadium of 50,000 seats with room to spare (the ledger takes up to
/// `picket_ledger_core::limits::SEATS_PER_PERFORMANCE_MAX`, 150,000, per performance).
pub const SEATS_PER_VENUE_MAX: usize = 60_000;
pub const ZONES_PER_VENUE_MAX: usize = 64;
/// Largest `POST`/`PUT /api/v2/venues` body. A seat written compactly at its longest,
/// `{"number":65535,"x":-2147483648,"y":-2147483648,"blocked":true,"wheelchair":true}`, is 82
/// bytes (95 with a space after each colon and comma); `SEATS_PER_VENUE_MAX` of them are 5.7
/// MB. 8 MiB leaves over 2 MB for section and row names (a row's header is at most about 110
/// bytes: a 32-character Korean name is 96) and light formatting. The editor's own 50,000-seat
/// stadium, with small coordinates, is about 2 MB.
pub const VENUE_BODY_BYTES_MAX: usize = 8 * 1_024 * 1_024;
/// Most bytes a venue's seats may take in the ledger's performance spec as JSON (rows of seat
/// numbers, `picket_ledger_core::performance::seat_rows`): the spec travels in one NATS message
/// (the command that opens the performance, then its journal entry), 1 MiB by default. This
/// leaves a quarter of it for grades, zones, offers and the door's gates (coupons and gates are
/// at most 64 each, about 30 KB together). A 50,000-seat stadium in rows of 25 is about 330 KB;
/// only a venue of very many short rows with long names comes near it.
pub const SPEC_SEATS_JSON_BYTES_MAX: usize = 768 * 1_024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub sections: Vec<SectionLayout>,
    #[serde(default)]
    pub zones: Vec<ZoneLayout>,
}

impl Layout {
    /// Every seat with its section and row, in the order the ledger numbers them: sections as
    /// listed, each section's rows as listed, each row's seats as listed. A seat's position in
    /// this order is its ledger seat id (`spec_for` builds the performance spec's seat list from
    /// this iterator), so the ids `GET /api/v2/venues/{id}` returns are the ones a hold names.
    pub fn seats(&self) -> impl Iterator<Item = (&SectionLayout, &RowLayout, &SeatLayout)> {
        self.sections.iter().flat_map(|section| {
            section
                .rows
                .iter()
                .flat_map(move |row| row.seats.iter().map(move |seat| (section, row, seat)))
        })
    }

    /// Each seat's ledger id with where it is, for buyers to draw the map and name seats in a
    /// hold (`{"Seats": [id, …]}`).
    pub fn seat_places(&self) -> Vec<SeatPlace<'_>> {
        self.seats()
            .enumerate()
            .map(|(id, (section, row, seat))| SeatPlace {
                // Fits: a venue has at most SEATS_PER_VENUE_MAX seats.
                id: id as u32,
                section: &section.name,
                row: &row.name,
                number: seat.number,
                blocked: seat.blocked,
                wheelchair: seat.wheelchair,
            })
            .collect()
    }

    /// The bytes the seats take in the ledger's performance spec as JSON (grade ids counted as
    /// one digit; a spec has at most a few grades).
    pub fn spec_seats_json_bytes(&self) -> usize {
        #[derive(Serialize)]
        struct Rows(
            #[serde(serialize_with = "picket_ledger_core::performance::seat_rows::serialize")]
            Vec<picket_ledger_core::SeatSpec>,
        );
        let seats = self
            .seats()
            .map(|(section, row, seat)| picket_ledger_core::SeatSpec {
                section: section.name.clone(),
                row: row.name.clone(),
                number: seat.number,
                grade: picket_ledger_core::GradeId(0),
                blocked: seat.blocked,
            })
            .collect();
        serde_json::to_vec(&Rows(seats))
            .expect("seats encode")
            .len()
    }

    /// Each standing zone's ledger id (its position in `zones`), for `{"Zone": {"zone": id, …}}`.
    pub fn zone_places(&self) -> Vec<ZonePlace<'_>> {
        self.zones
            .iter()
            .enumerate()
            .map(|(id, zone)| ZonePlace {
                // Fits: a venue has at most ZONES_PER_VENUE_MAX zones.
                id: id as u16,
                name: &zone.name,
                capacity: zone.capacity,
            })
            .collect()
    }
}

/// A seat as the ledger and the WebSocket `hold` name it.
#[derive(Debug, Serialize)]
pub struct SeatPlace<'a> {
    pub id: u32,
    pub section: &'a str,
    pub row: &'a str,
    pub number: u16,
    #[serde(skip_serializing_if = "is_false")]
    pub blocked: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub wheelchair: bool,
}

/// A standing zone as the ledger and the WebSocket `hold` name it.
#[derive(Debug, Serialize)]
pub struct ZonePlace<'a> {
    pub id: u16,
    pub name: &'a str,
    pub capacity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionLayout {
    pub name: String,
    pub rows: Vec<RowLayout>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowLayout {
    pub name: String,
    pub seats: Vec<SeatLayout>,
}

/// A seat and where to draw it (layout units, origin top left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatLayout {
    pub number: u16,
    pub x: i32,
    pub y: i32,
    /// Never sold (a camera position, an obstructed view, held back by the seller): the seat
    /// keeps its id, and the ledger refuses every hold on it. Left out when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub blocked: bool,
    /// An accessible (wheelchair) seat, sold like any other; buyers' seat maps mark it. Left out
    /// when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wheelchair: bool,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneLayout {
    pub name: String,
    pub capacity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueForm {
    pub name: String,
    pub region: String,
    pub address: String,
    pub layout: Layout,
}

/// The API's one rule for a required text field, the one the OpenAPI document states (`maxLength`
/// and the `NOT_BLANK` pattern): at most `max` characters as sent, not only whitespace. The text
/// is stored trimmed.
pub fn text_ok(text: &str, max: usize) -> bool {
    text.chars().count() <= max && !text.trim().is_empty()
}

/// The venue's seat count, or every field that is wrong.
pub fn validate_venue(form: &VenueForm) -> Result<usize, ApiError> {
    let mut errors = Vec::new();
    if !text_ok(&form.name, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "name",
            message: format!("1 to {NAME_LEN_MAX} characters"),
        });
    }
    if !REGIONS.contains(&form.region.as_str()) {
        errors.push(FieldError {
            field: "region",
            message: format!("one of {}", REGIONS.join(", ")),
        });
    }
    if !text_ok(&form.address, ADDRESS_LEN_MAX) {
        errors.push(FieldError {
            field: "address",
            message: format!("1 to {ADDRESS_LEN_MAX} characters"),
        });
    }
    let layout = &form.layout;
    let seats: usize = layout
        .sections
        .iter()
        .flat_map(|s| &s.rows)
        .map(|r| r.seats.len())
        .sum();
    if seats + layout.zones.len() == 0 || seats > SEATS_PER_VENUE_MAX {
        errors.push(FieldError {
            field: "layout",
            message: format!("1 to {SEATS_PER_VENUE_MAX} seats, or standing zones"),
        });
    }
    if seats <= SEATS_PER_VENUE_MAX && layout.spec_seats_json_bytes() > SPEC_SEATS_JSON_BYTES_MAX {
        errors.push(FieldError {
            field: "layout",
            message: format!(
                "the seats take more than {SPEC_SEATS_JSON_BYTES_MAX} bytes as the ledger lists \
                 them: fewer rows, or shorter section and row names"
            ),
        });
    }
    let mut names: Vec<&str> = layout.sections.iter().map(|s| s.name.as_str()).collect();
    names.extend(layout.zones.iter().map(|z| z.name.as_str()));
    let all_named = names.iter().all(|n| text_ok(n, PLACE_NAME_LEN_MAX));
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    if !all_named || names.len() != before {
        errors.push(FieldError {
            field: "layout",
            message: format!(
                "sections and zones need distinct names of 1 to {PLACE_NAME_LEN_MAX} characters"
            ),
        });
    }
    let rows_ok = layout.sections.iter().all(|section| {
        let mut rows: Vec<&str> = section.rows.iter().map(|r| r.name.as_str()).collect();
        rows.sort_unstable();
        let count = rows.len();
        rows.dedup();
        let seats_unique = section.rows.iter().all(|row| {
            let mut numbers: Vec<u16> = row.seats.iter().map(|s| s.number).collect();
            numbers.sort_unstable();
            numbers.windows(2).all(|w| w[0] != w[1])
        });
        rows.len() == count
            && seats_unique
            && section
                .rows
                .iter()
                .all(|r| text_ok(&r.name, PLACE_NAME_LEN_MAX))
    });
    if !rows_ok {
        errors.push(FieldError {
            field: "layout.sections",
            message: "row names distinct within a section, seat numbers distinct within a row"
                .into(),
        });
    }
    let zones_ok = layout.zones.len() <= ZONES_PER_VENUE_MAX
        && layout
            .zones
            .iter()
            .all(|z| (1..=picket_ledger_core::limits::ZONE_CAPACITY_MAX).contains(&z.capacity));
    if !zones_ok {
        errors.push(FieldError {
            field: "layout.zones",
            message: format!("at most {ZONES_PER_VENUE_MAX} zones, each for 1 or more people"),
        });
    }
    if errors.is_empty() {
        Ok(seats)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(layout: serde_json::Value) -> VenueForm {
        serde_json::from_value(serde_json::json!({
            "name": "잠실종합운동장", "region": "seoul", "address": "서울 송파구", "layout": layout
        }))
        .expect("a venue form")
    }

    /// `sections` sections of `rows` rows of `per_row` seats; every seventh blocked, every
    /// eleventh a wheelchair seat.
    fn stadium(sections: usize, rows: usize, per_row: usize) -> serde_json::Value {
        let sections: Vec<_> = (0..sections)
            .map(|s| {
                let rows: Vec<_> = (0..rows)
                    .map(|r| {
                        let seats: Vec<_> = (0..per_row)
                            .map(|n| {
                                let i = (s * rows + r) * per_row + n;
                                let mut seat =
                                    serde_json::json!({"number": n + 1, "x": n * 10, "y": r * 10});
                                if i.is_multiple_of(7) {
                                    seat["blocked"] = true.into();
                                }
                                if i.is_multiple_of(11) {
                                    seat["wheelchair"] = true.into();
                                }
                                seat
                            })
                            .collect();
                        serde_json::json!({"name": format!("{}열", r + 1), "seats": seats})
                    })
                    .collect();
                serde_json::json!({"name": format!("{}구역", s + 101), "rows": rows})
            })
            .collect();
        serde_json::json!({"sections": sections})
    }

    #[test]
    fn blocked_and_wheelchair_seats_round_trip_and_are_left_out_when_false() {
        let layout = serde_json::json!({"sections": [{"name": "A", "rows": [{"name": "1", "seats": [
            {"number": 1, "x": 0, "y": 0},
            {"number": 2, "x": 10, "y": 0, "blocked": true},
            {"number": 3, "x": 20, "y": 0, "wheelchair": true},
            {"number": 4, "x": 30, "y": 0, "blocked": false, "wheelchair": false}]}]}]});
        let venue = form(layout);
        assert_eq!(validate_venue(&venue).expect("valid"), 4);
        let seats = &venue.layout.sections[0].rows[0].seats;
        assert!(seats[1].blocked && !seats[1].wheelchair);
        assert!(seats[2].wheelchair && !seats[2].blocked);
        let written = serde_json::to_value(&venue.layout).expect("encodes");
        assert_eq!(
            written["sections"][0]["rows"][0]["seats"],
            serde_json::json!([
                {"number": 1, "x": 0, "y": 0},
                {"number": 2, "x": 10, "y": 0, "blocked": true},
                {"number": 3, "x": 20, "y": 0, "wheelchair": true},
                {"number": 4, "x": 30, "y": 0}])
        );
        let back: Layout = serde_json::from_value(written).expect("decodes");
        assert_eq!(back, venue.layout);
        let places = serde_json::to_value(venue.layout.seat_places()).expect("encodes");
        assert_eq!(places[1]["blocked"], true);
        assert_eq!(places[2]["wheelchair"], true);
        assert!(places[0].get("blocked").is_none() && places[0].get("wheelchair").is_none());
        // Unknown seat fields are still refused.
        let typo = serde_json::json!({"name": "V", "region": "seoul", "address": "A", "layout": {"sections": [
            {"name": "A", "rows": [{"name": "1", "seats": [{"number": 1, "x": 0, "y": 0, "block": true}]}]}]}});
        assert!(serde_json::from_value::<VenueForm>(typo).is_err());
    }

    #[test]
    fn a_50000_seat_stadium_is_valid_and_its_body_and_spec_fit_their_limits() {
        // 100 sections of 20 rows of 25.
        let layout = stadium(100, 20, 25);
        let body = serde_json::json!({"name": "잠실종합운동장", "region": "seoul", "address": "서울 송파구", "layout": layout.clone()});
        let bytes = serde_json::to_vec(&body).expect("encodes").len();
        assert!(bytes < VENUE_BODY_BYTES_MAX / 2, "{bytes} bytes");
        let venue = form(layout);
        assert_eq!(validate_venue(&venue).expect("valid"), 50_000);
        let spec_bytes = venue.layout.spec_seats_json_bytes();
        assert!(
            spec_bytes < SPEC_SEATS_JSON_BYTES_MAX / 2,
            "{spec_bytes} bytes"
        );
    }

    #[test]
    fn more_seats_than_the_limit_or_a_spec_too_long_for_a_nats_message_is_refused() {
        let over = form(stadium(1, SEATS_PER_VENUE_MAX / 100 + 1, 100));
        let Err(ApiError::Invalid(errors)) = validate_venue(&over) else {
            panic!("{} seats accepted", SEATS_PER_VENUE_MAX + 100);
        };
        assert!(errors.iter().any(|e| e.field == "layout"), "{errors:?}");
        let at = form(stadium(1, SEATS_PER_VENUE_MAX / 100, 100));
        assert_eq!(validate_venue(&at).expect("valid"), SEATS_PER_VENUE_MAX);
        // 20,000 rows of two seats, every row and section name 32 Korean characters: few
        // seats, but each row's header is long.
        let long = "가".repeat(PLACE_NAME_LEN_MAX);
        let rows: Vec<_> = (0..20_000)
            .map(|r| {
                let name: String = format!("{r}{long}").chars().take(PLACE_NAME_LEN_MAX).collect();
                serde_json::json!({"name": name, "seats": [{"number": 1, "x": 0, "y": r}, {"number": 2, "x": 1, "y": r}]})
            })
            .collect();
        let wordy = form(serde_json::json!({"sections": [{"name": long, "rows": rows}]}));
        assert!(wordy.layout.spec_seats_json_bytes() > SPEC_SEATS_JSON_BYTES_MAX);
        let Err(ApiError::Invalid(errors)) = validate_venue(&wordy) else {
            panic!("a spec over one NATS message accepted");
        };
        assert!(
            errors.iter().any(|e| e.message.contains("bytes")),
            "{errors:?}"
        );
    }
}
