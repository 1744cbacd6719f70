//! The scenarios: six named presets with documented numbers (every one can be changed by a
//! flag), and a TOML scenario file that runs presets one after another with their own numbers.
//!
//! ```toml
//! name = "rehearsal"
//!
//! [[phase]]
//! preset = "stampede"
//! clients = 20000
//! admit_per_sec = 500
//!
//! [[phase]]
//! preset = "churn"
//! duration_s = 60
//! rate_per_s = 50
//! cancel_rate_per_s = 20
//! ```

use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;

/// Clients one run may start, over all its worker processes.
pub const CLIENTS_MAX: u32 = 1_000_000;
/// The longest a phase may run.
pub const DURATION_S_MAX: u64 = 3_600;
/// Phases one scenario file may have.
pub const PHASES_MAX: usize = 16;
/// The contention preset's seat map, buyers and their arrival rate (issue 18).
pub const CONTENTION_SEATS: u32 = 5_000;
pub const CONTENTION_BUYERS: u32 = 50_000;
pub const CONTENTION_RATE_PER_S: u32 = 5_000;
/// Longest leader pause of a failover phase: past a minute the pause is an outage, not a stall.
pub const PAUSE_MS_MAX: u64 = 60_000;
/// Highest arrival rate a phase may ask for (bookings or cancellations per second).
pub const RATE_PER_S_MAX: u32 = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// N clients join the queue before the open, are admitted at the sale's rate, hold seats
    /// in a preferred grade (hot grades first), retry on "seat taken", confirm or abandon;
    /// some disconnect and reconnect mid-queue.
    Stampede,
    /// An open-loop arrival rate of bookings for a fixed time: arrivals do not wait for earlier
    /// replies, so queueing delay shows in the latencies.
    Steady,
    /// Open and hold as many connections as possible, ramping at a set rate: the gateway's
    /// connection ceiling and (with `--gateway-pid`) its memory per connection.
    Idle,
    /// Bookings and cancellations at set rates on a sold-out performance.
    Churn,
    /// `steady` while the ledger leader (`kill_pid`) is killed at `kill_at_s`, or, with
    /// `pause_ms`, paused for that long at `kill_at_s` and again every `kill_at_s` seconds.
    Failover,
    /// A hot opening: `clients` buyers arrive at `rate_per_s` (each a new connection that books
    /// once, or gives up when the sale is sold out), all wanting the best grade first; then the
    /// same buyers with the same seat choices against the `pg-row-lock` baseline.
    Contention,
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Stampede => "stampede",
            Preset::Steady => "steady",
            Preset::Idle => "idle",
            Preset::Churn => "churn",
            Preset::Failover => "failover",
            Preset::Contention => "contention",
        }
    }
}

/// A phase's numbers. Defaults depend on the preset ([`Params::preset`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Clients (stampede, idle), pooled connections (steady, churn, failover) or buyers, one
    /// arrival each (contention).
    pub clients: u32,
    /// The phase stops by itself after this long (contention: a cap; it ends when the last
    /// buyer has booked or given up).
    pub duration_s: u64,
    /// New connections per second while ramping up.
    pub ramp_per_s: u32,
    /// Stampede: the sale opens this many seconds after the phase starts (0: when the ramp is
    /// done, plus 5 s).
    pub open_in_s: u64,
    /// The sale's admission rate (buyers per second let out of the queue).
    pub admit_per_sec: u32,
    /// Booking arrivals per second (steady, churn, failover, contention).
    pub rate_per_s: u32,
    /// Cancellation arrivals per second (churn).
    pub cancel_rate_per_s: u32,
    /// Places per hold.
    pub seats_per_hold: u16,
    /// Of the holds, the percentage paid; the rest are abandoned (released).
    pub confirm_percent: u8,
    /// Stampede: the percentage of clients that drop and reconnect while queued.
    pub reconnect_percent: u8,
    /// Specific-seat attempts after "seat taken" before asking for the best available.
    pub seat_taken_retries_max: u8,
    /// Time between a hold and its payment (the buyer paying).
    pub pay_ms: u64,
    /// Failover: kill `kill_pid` this many seconds into the phase.
    pub kill_at_s: Option<u64>,
    pub kill_pid: Option<u32>,
    /// Failover: pause the leader (SIGSTOP, SIGCONT this many milliseconds later) instead of
    /// killing it, at `kill_at_s` and then `kill_at_s` seconds after each resume until the
    /// phase ends: the VM stall that must not wedge a partition (issue #12 item 17).
    #[serde(default)]
    pub pause_ms: Option<u64>,
    pub inventory: Inventory,
}

impl Params {
    /// The preset's documented numbers (docs/loadtest.md).
    pub fn preset(preset: Preset) -> Params {
        let base = Params {
            clients: 500,
            duration_s: 120,
            ramp_per_s: 500,
            open_in_s: 0,
            admit_per_sec: 200,
            rate_per_s: 200,
            cancel_rate_per_s: 0,
            seats_per_hold: 2,
            confirm_percent: 80,
            reconnect_percent: 5,
            seat_taken_retries_max: 3,
            pay_ms: 200,
            kill_at_s: None,
            kill_pid: None,
            pause_ms: None,
            inventory: Inventory::default(),
        };
        // Steady runs sell standing places: their capacity outlasts long runs, which a seat map
        // small enough for one NATS message (about 5,000 seats) would not.
        let standing = Inventory {
            seats: 0,
            grades: vec![("GA".into(), 99_000, 100)],
            zones: 16,
            zone_capacity: 200_000,
            per_buyer_limit: 16,
            ..Inventory::default()
        };
        match preset {
            Preset::Stampede => base,
            Preset::Steady | Preset::Failover => Params {
                clients: 1_000,
                duration_s: 30,
                ramp_per_s: 1_000,
                admit_per_sec: 20_000,
                seats_per_hold: 1,
                confirm_percent: 100,
                reconnect_percent: 0,
                pay_ms: 0,
                kill_at_s: (preset == Preset::Failover).then_some(10),
                inventory: standing,
                ..base
            },
            Preset::Idle => Params {
                clients: 10_000,
                duration_s: 60,
                ramp_per_s: 1_000,
                reconnect_percent: 0,
                ..base
            },
            Preset::Churn => Params {
                clients: 200,
                duration_s: 60,
                ramp_per_s: 500,
                admit_per_sec: 20_000,
                rate_per_s: 50,
                cancel_rate_per_s: 20,
                seats_per_hold: 1,
                confirm_percent: 100,
                reconnect_percent: 0,
                pay_ms: 0,
                inventory: Inventory {
                    seats: 400,
                    ..Inventory::default()
                },
                ..base
            },
            // Issue 18's comparison: 5,000 seats, 50,000 buyers arriving at 5,000/s. Every
            // holder pays (no abandoned holds to wait for: the sell-out is every seat sold), at
            // once (`pay_ms` 0: the time to sell out is the systems', not the buyers'). The queue
            // admits faster than buyers arrive, so it holds nobody back that the baseline (which
            // has no queue) would let through.
            Preset::Contention => Params {
                clients: CONTENTION_BUYERS,
                duration_s: 120,
                ramp_per_s: CONTENTION_RATE_PER_S,
                admit_per_sec: 20_000,
                rate_per_s: CONTENTION_RATE_PER_S,
                seats_per_hold: 2,
                confirm_percent: 100,
                reconnect_percent: 0,
                pay_ms: 0,
                inventory: Inventory {
                    seats: CONTENTION_SEATS,
                    ..Inventory::default()
                },
                ..base
            },
        }
    }

    /// [`Params::validate`], and what `preset` needs besides.
    pub fn validate_as(&self, preset: Preset) -> Result<(), String> {
        self.validate()?;
        if preset == Preset::Contention {
            if self.rate_per_s == 0 {
                return Err("contention: rate_per_s at least 1 (buyers arrive at it)".into());
            }
            if self.inventory.seats == 0 {
                return Err("contention: reserved seats (the rows the baseline locks)".into());
            }
        }
        Ok(())
    }

    /// Checks the numbers against the named limits.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            (
                self.clients >= 1 && self.clients <= CLIENTS_MAX,
                "clients 1 to 1,000,000",
            ),
            (
                self.duration_s >= 1 && self.duration_s <= DURATION_S_MAX,
                "duration_s 1 to 3,600",
            ),
            (self.ramp_per_s >= 1, "ramp_per_s at least 1"),
            (
                self.rate_per_s <= RATE_PER_S_MAX && self.cancel_rate_per_s <= RATE_PER_S_MAX,
                "rates at most 100,000 per second",
            ),
            (
                self.admit_per_sec >= 1 && self.admit_per_sec <= 100_000,
                "admit_per_sec 1 to 100,000",
            ),
            (
                self.seats_per_hold >= 1 && self.seats_per_hold <= self.inventory.per_buyer_limit,
                "seats_per_hold 1 to the inventory's per_buyer_limit",
            ),
            (
                self.confirm_percent <= 100 && self.reconnect_percent <= 100,
                "percentages at most 100",
            ),
            (
                self.inventory.seats > 0 || self.inventory.zones > 0,
                "the inventory needs seats or standing zones",
            ),
            (
                self.pause_ms
                    .is_none_or(|ms| (1..=PAUSE_MS_MAX).contains(&ms)),
                "pause_ms 1 to 60,000",
            ),
            (
                self.pause_ms.is_none() || self.kill_at_s.is_some_and(|s| s >= 1),
                "pause_ms needs kill_at_s of at least 1 (the moment and the spacing of pauses)",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, why)) => Err((*why).into()),
            None => Ok(()),
        }
    }
}

/// One phase of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub preset: Preset,
    pub params: Params,
}

/// A run: one phase from the command line, or a scenario file's phases in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    pub phases: Vec<Phase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(rename = "phase")]
    phases: Vec<toml::Table>,
}

/// Parses a scenario file: each `[[phase]]` names a `preset` and changes any of its numbers
/// (`inventory` as a table changes the inventory's fields).
pub fn parse(text: &str) -> Result<Scenario, String> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| e.to_string())?;
    if file.phases.is_empty() || file.phases.len() > PHASES_MAX {
        return Err(format!("1 to {PHASES_MAX} [[phase]] tables"));
    }
    let phases = file
        .phases
        .into_iter()
        .enumerate()
        .map(|(index, table)| phase(table).map_err(|e| format!("phase {}: {e}", index + 1)))
        .collect::<Result<_, _>>()?;
    Ok(Scenario {
        name: file.name,
        phases,
    })
}

fn phase(mut table: toml::Table) -> Result<Phase, String> {
    let preset: Preset = table
        .remove("preset")
        .ok_or("no preset")?
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())?;
    let mut params = serde_json::to_value(Params::preset(preset)).expect("params encode");
    let overrides = serde_json::to_value(&table).map_err(|e| e.to_string())?;
    merge(&mut params, overrides)?;
    let params: Params = serde_json::from_value(params).map_err(|e| e.to_string())?;
    params.validate_as(preset)?;
    Ok(Phase { preset, params })
}

/// Overlays `overrides` on `base`, refusing keys `base` does not have (typos must not pass).
fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) -> Result<(), String> {
    let serde_json::Value::Object(overrides) = overrides else {
        *base = overrides;
        return Ok(());
    };
    let Some(fields) = base.as_object_mut() else {
        return Err("a table where a number was expected".into());
    };
    for (key, value) in overrides {
        match fields.get_mut(&key) {
            Some(field) if field.is_object() => merge(field, value)?,
            Some(field) => *field = value,
            None => return Err(format!("unknown field {key:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_runs_presets_with_their_own_numbers() {
        let scenario = parse(
            r#"
            name = "rehearsal"
            [[phase]]
            preset = "stampede"
            clients = 20000
            [[phase]]
            preset = "failover"
            kill_pid = 4242
            inventory = { zones = 4 }
            "#,
        )
        .expect("valid");
        assert_eq!(scenario.phases.len(), 2);
        let stampede = &scenario.phases[0].params;
        assert_eq!(stampede.clients, 20_000);
        assert_eq!(
            stampede.admit_per_sec,
            Params::preset(Preset::Stampede).admit_per_sec
        );
        let failover = &scenario.phases[1].params;
        assert_eq!(
            (failover.kill_pid, failover.kill_at_s),
            (Some(4242), Some(10))
        );
        assert_eq!(failover.inventory.zones, 4);
        assert_eq!(failover.inventory.zone_capacity, 200_000);
    }

    #[test]
    fn typos_and_limits_are_refused() {
        let typo = parse("name = \"x\"\n[[phase]]\npreset = \"steady\"\nclinets = 5\n");
        assert!(typo.unwrap_err().contains("clinets"));
        let huge = parse("name = \"x\"\n[[phase]]\npreset = \"idle\"\nclients = 2000000\n");
        assert!(huge.unwrap_err().contains("clients"));
        assert!(parse("name = \"x\"\n").is_err());
        let long_pause =
            parse("name = \"x\"\n[[phase]]\npreset = \"failover\"\npause_ms = 600000\n");
        assert!(long_pause.unwrap_err().contains("pause_ms"));
        let paused = parse("name = \"x\"\n[[phase]]\npreset = \"failover\"\npause_ms = 3000\n")
            .expect("a pause within the limit");
        assert_eq!(paused.phases[0].params.pause_ms, Some(3_000));
    }

    #[test]
    fn every_preset_is_valid() {
        for preset in [
            Preset::Stampede,
            Preset::Steady,
            Preset::Idle,
            Preset::Churn,
            Preset::Failover,
            Preset::Contention,
        ] {
            assert_eq!(
                Params::preset(preset).validate_as(preset),
                Ok(()),
                "{preset:?}"
            );
        }
    }

    #[test]
    fn contention_has_issue_18s_numbers_and_parses_from_a_file() {
        let params = Params::preset(Preset::Contention);
        assert_eq!(params.inventory.seats, 5_000);
        assert_eq!(params.clients, 50_000);
        assert_eq!(params.rate_per_s, 5_000);
        // Hot grades first: the inventory's first grade is the best one.
        assert_eq!(params.inventory.grades[0].0, "VIP");
        assert_eq!(params.confirm_percent, 100);
        // Buyers are not held back by the queue: it admits faster than they arrive.
        assert!(params.admit_per_sec >= params.rate_per_s);
        let scenario = parse(
            "name = \"small\"\n[[phase]]\npreset = \"contention\"\nclients = 2000\ninventory = { seats = 200 }\n",
        )
        .expect("valid");
        let small = &scenario.phases[0];
        assert_eq!(small.preset, Preset::Contention);
        assert_eq!(
            (small.params.clients, small.params.inventory.seats),
            (2_000, 200)
        );
        assert_eq!(small.params.rate_per_s, 5_000);
        let standing = parse(
            "name = \"x\"\n[[phase]]\npreset = \"contention\"\ninventory = { seats = 0, zones = 2, zone_capacity = 10 }\n",
        );
        assert!(standing.unwrap_err().contains("reserved seats"));
        let still = parse("name = \"x\"\n[[phase]]\npreset = \"contention\"\nrate_per_s = 0\n");
        assert!(still.unwrap_err().contains("rate_per_s"));
    }
}
