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
pub const SEATS_PER_VENUE_MAX: usize = 5_000;
pub const ZONES_PER_VENUE_MAX: usize = 64;
/// Largest `POST /api/v2/venues` body: a venue of `SEATS_PER_VENUE_MAX` seats, each seat about 55
/// bytes at its longest (`{"number": 65535, "x": -2147483648, "y": -2147483648}`) and each row
/// and section named, is about 300 KB; 1 MiB leaves room for formatting.
pub const VENUE_BODY_BYTES_MAX: usize = 1_024 * 1_024;

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
            })
            .collect()
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
