//! The seats-left read model: places on sale per grade of each published performance, fed by
//! the ledger's committed events (through `follow.rs`), never by asking the writer.

use std::collections::HashMap;
use std::sync::Mutex;

use picket_ledger_client::seats::SeatMaps;
use picket_ledger_core::{Event, PerformanceSpec};

/// Places left per grade of each published performance: the gateway's seat-map read model
/// ([`SeatMaps`], fed by the ledger's committed events, never by asking the writer) and each
/// performance's seat → grade map from its spec.
#[derive(Default)]
pub struct SeatsLeft {
    maps: Mutex<SeatMaps>,
    grades: Mutex<HashMap<u64, PlaceGrades>>,
}

/// One performance's grade of each seat and of each zone, in spec order.
struct PlaceGrades {
    seats: Vec<u16>,
    zones: Vec<u16>,
}

impl SeatsLeft {
    /// Knows a performance's seat → grade map (from its spec).
    pub fn register(&self, spec: &PerformanceSpec) {
        let grades = PlaceGrades {
            seats: spec.seats.iter().map(|s| s.grade.0).collect(),
            zones: spec.zones.iter().map(|z| z.grade.0).collect(),
        };
        lock(&self.grades).insert(spec.performance.0, grades);
    }

    /// Places on sale per grade, once the ledger's state of the performance is known.
    pub fn left(&self, performance: u64, grades: usize) -> Option<Vec<u64>> {
        let maps = lock(&self.maps);
        let map = maps.maps.get(&performance)?;
        let grade_maps = lock(&self.grades);
        let place_grades = grade_maps.get(&performance)?;
        let mut left = vec![0u64; grades];
        for (free, grade) in map.seat_free.iter().zip(&place_grades.seats) {
            if let Some(count) = left.get_mut(usize::from(*grade)).filter(|_| *free) {
                *count += 1;
            }
        }
        for (free, grade) in map.zone_free.iter().zip(&place_grades.zones) {
            if let Some(count) = left.get_mut(usize::from(*grade)) {
                *count += u64::from(*free);
            }
        }
        Some(left)
    }

    /// Whether nothing of the performance is on sale, once the ledger's state of it is known.
    pub fn sold_out(&self, performance: u64) -> Option<bool> {
        lock(&self.maps)
            .maps
            .get(&performance)
            .map(|map| map.free == 0)
    }

    /// Whether the seller called the performance off (nothing of it is on sale then, for
    /// good), once the ledger's state of it is known.
    pub fn cancelled(&self, performance: u64) -> Option<bool> {
        lock(&self.maps)
            .maps
            .get(&performance)
            .map(|map| map.cancelled)
    }

    pub(crate) fn reset(&self, seq: u64, availability: Vec<picket_ledger_core::Availability>) {
        lock(&self.maps).reset(seq, availability);
    }

    pub(crate) fn apply(&self, seq: u64, events: &[Event]) {
        let mut maps = lock(&self.maps);
        // Nobody here watches changes: drop them so they do not pile up.
        for performance in maps.apply(seq, events) {
            if let Some(map) = maps.maps.get_mut(&performance) {
                map.take_changes();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
