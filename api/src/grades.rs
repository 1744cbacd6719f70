//! Price grades: which sections and zones each covers, and every place's grade from them.

use serde::{Deserialize, Serialize};

use crate::venues::Layout;

/// A price grade and the sections and zones it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    pub code: String,
    pub price_won: u64,
    #[serde(default)]
    pub sections: Vec<String>,
    #[serde(default)]
    pub zones: Vec<String>,
}

/// Every seat's and zone's grade, or what is wrong with the grade rules.
pub fn assign_grades(
    layout: &Layout,
    grades: &[GradeRule],
) -> Result<(Vec<u16>, Vec<u16>), String> {
    let grade_of = |name: &str, zone: bool| -> Result<u16, String> {
        let covering: Vec<usize> = grades
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                if zone {
                    g.zones.iter().any(|z| z == name)
                } else {
                    g.sections.iter().any(|s| s == name)
                }
            })
            .map(|(i, _)| i)
            .collect();
        match covering.as_slice() {
            [one] => Ok(*one as u16),
            [] => Err(format!("{name:?} has no grade")),
            _ => Err(format!("{name:?} is in more than one grade")),
        }
    };
    let mut seats = Vec::new();
    for section in &layout.sections {
        let grade = grade_of(&section.name, false)?;
        seats.extend(section.rows.iter().flat_map(|r| &r.seats).map(|_| grade));
    }
    let zones = layout
        .zones
        .iter()
        .map(|z| grade_of(&z.name, true))
        .collect::<Result<_, _>>()?;
    Ok((seats, zones))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venues::{RowLayout, SeatLayout, SectionLayout, ZoneLayout};

    fn layout() -> Layout {
        let seat = |number| SeatLayout {
            number,
            x: 0,
            y: 0,
            blocked: false,
            wheelchair: false,
        };
        Layout {
            sections: vec![
                SectionLayout {
                    name: "A".into(),
                    rows: vec![RowLayout {
                        name: "1".into(),
                        seats: vec![seat(1), seat(2)],
                    }],
                },
                SectionLayout {
                    name: "B".into(),
                    rows: vec![RowLayout {
                        name: "1".into(),
                        seats: vec![seat(1)],
                    }],
                },
            ],
            zones: vec![ZoneLayout {
                name: "floor".into(),
                capacity: 100,
            }],
        }
    }

    fn grade(code: &str, sections: &[&str], zones: &[&str]) -> GradeRule {
        GradeRule {
            code: code.into(),
            price_won: 10_000,
            sections: sections.iter().map(|s| s.to_string()).collect(),
            zones: zones.iter().map(|z| z.to_string()).collect(),
        }
    }

    #[test]
    fn every_place_gets_the_one_grade_that_covers_it() {
        let grades = [grade("R", &["A"], &[]), grade("S", &["B"], &["floor"])];
        assert_eq!(
            assign_grades(&layout(), &grades),
            Ok((vec![0, 0, 1], vec![1]))
        );
        let twice = [grade("R", &["A", "B"], &[]), grade("S", &["B"], &["floor"])];
        assert_eq!(
            assign_grades(&layout(), &twice),
            Err("\"B\" is in more than one grade".into())
        );
        let missing = [grade("R", &["A", "B"], &[])];
        assert_eq!(
            assign_grades(&layout(), &missing),
            Err("\"floor\" has no grade".into())
        );
    }
}
