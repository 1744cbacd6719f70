//! Server CPU per booking, per component. Each named component (gateways, ledger nodes,
//! PostgreSQL, NATS, Redis, …) is a set of processes: the pids it was given and all their
//! descendants, so PostgreSQL's postmaster brings its backends. Their CPU time (`utime + stime +
//! cutime + cstime` from `/proc/<pid>/stat`, in clock ticks) is read before and after the
//! measured window of each phase; the difference over the bookings made in the window is the
//! cost of a booking in µs, with the total and each component's share. A process that exits
//! during the window and is reaped by its parent in the tree (a PostgreSQL backend) is still
//! counted, through its parent's `cutime`/`cstime`. Also the loopback's bytes
//! (`/proc/net/dev`, `lo`, received) per booking: the whole machine's loopback traffic.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// `--server-pid` entries one run may be given.
pub const SERVER_PIDS_MAX: usize = 64;
/// `/proc` entries one sample reads (the machine's processes).
pub const PROCESSES_MAX: usize = 65_536;
/// The component of `--gateway-pid`'s processes.
pub const GATEWAY: &str = "gateway";
/// The component of the ledger nodes `--spawn-ledgers` starts.
pub const SPAWNED_LEDGER: &str = "ledger";

/// The fields of one `/proc/<pid>/stat` line this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub ppid: u32,
    /// `utime + stime + cutime + cstime`: the process's CPU and that of its reaped children.
    pub ticks: u64,
}

/// Parses a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may itself
/// hold spaces and parentheses (`postgres: user db 127.0.0.1(5432) idle`), so the fields after
/// it are read after the line's last `)`.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let (head, rest) = line.trim_end().rsplit_once(')')?;
    let pid = head.split_once('(')?.0.trim().parse().ok()?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): ppid is field 4, utime..cstime are fields 14..=17.
    let ppid = fields.get(1)?.parse().ok()?;
    let mut ticks = 0u64;
    for field in fields.get(11..15)? {
        // cutime and cstime are signed (`%ld`); they are never negative in practice.
        ticks += field.parse::<i64>().ok()?.max(0) as u64;
    }
    Some(Stat { pid, ppid, ticks })
}

/// `roots` and all their descendants among `stats` (roots that are gone are left out).
pub fn tree(roots: &BTreeSet<u32>, stats: &[Stat]) -> BTreeSet<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for stat in stats {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let alive: BTreeSet<u32> = stats.iter().map(|s| s.pid).collect();
    let mut found = BTreeSet::new();
    let mut todo: Vec<u32> = roots
        .iter()
        .copied()
        .filter(|p| alive.contains(p))
        .collect();
    while let Some(pid) = todo.pop() {
        if found.insert(pid) {
            todo.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    found
}

/// Received bytes of the `lo` interface in a `/proc/net/dev` text.
pub fn loopback_rx_bytes(net_dev: &str) -> Option<u64> {
    let line = net_dev
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("lo:"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Every process of the machine (its `/proc`), at most [`PROCESSES_MAX`].
fn all_stats() -> Vec<Stat> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .take(PROCESSES_MAX)
        .filter_map(|pid| parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?))
        .collect()
}

/// Parses `--server-pid NAME=PID`.
pub fn parse_server_pid(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=PID"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{text:?} has no name"));
    }
    let pid = pid
        .trim()
        .parse()
        .map_err(|_| format!("{text:?}: {pid:?} is not a pid"))?;
    Ok((name.to_owned(), pid))
}

/// The named components and the pids each was given (a name given several times sums them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Components(BTreeMap<String, BTreeSet<u32>>);

impl Components {
    pub fn add(&mut self, name: &str, pid: u32) {
        self.0.entry(name.to_owned()).or_default().insert(pid);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pids given that are not running now.
    pub fn missing(&self) -> Vec<(String, u32)> {
        let stats = all_stats();
        let alive: BTreeSet<u32> = stats.iter().map(|s| s.pid).collect();
        self.0
            .iter()
            .flat_map(|(name, pids)| pids.iter().map(move |pid| (name.clone(), *pid)))
            .filter(|(_, pid)| !alive.contains(pid))
            .collect()
    }

    /// Reads every component's processes now, the load generator's CPU and the loopback's bytes.
    pub fn sample(&self) -> Sample {
        let stats = all_stats();
        let by_pid: BTreeMap<u32, Stat> = stats.iter().map(|s| (s.pid, *s)).collect();
        let components = self
            .0
            .iter()
            .map(|(name, roots)| {
                let processes = tree(roots, &stats)
                    .into_iter()
                    .filter_map(|pid| Some((pid, *by_pid.get(&pid)?)))
                    .collect();
                (name.clone(), processes)
            })
            .collect();
        let load_generator = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|line| parse_stat(&line))
            .map_or(0, |s| s.ticks);
        let loopback_rx = std::fs::read_to_string("/proc/net/dev")
            .ok()
            .and_then(|text| loopback_rx_bytes(&text));
        Sample {
            components,
            load_generator,
            loopback_rx,
            at: std::time::Instant::now(),
        }
    }
}

/// One reading: each component's processes, the load generator's ticks, the loopback's
/// received bytes.
#[derive(Clone, Debug)]
pub struct Sample {
    components: BTreeMap<String, BTreeMap<u32, Stat>>,
    load_generator: u64,
    loopback_rx: Option<u64>,
    at: std::time::Instant,
}

/// The ticks a component's processes used between `before` and `after`: each process's growth
/// (all of it for one that started in between). A process gone by `after` whose parent is still
/// in the component was reaped by it: its whole CPU is now in the parent's `cutime`/`cstime`, so
/// what it had used before the window is taken off again. A process gone without such a parent
/// (a killed node) loses what it used in the window.
pub fn window_ticks(before: &BTreeMap<u32, Stat>, after: &BTreeMap<u32, Stat>) -> u64 {
    let grown: u64 = after
        .values()
        .map(|s| {
            s.ticks
                .saturating_sub(before.get(&s.pid).map_or(0, |b| b.ticks))
        })
        .sum();
    let reaped: u64 = before
        .values()
        .filter(|s| !after.contains_key(&s.pid) && after.contains_key(&s.ppid))
        .map(|s| s.ticks)
        .sum();
    grown.saturating_sub(reaped)
}

/// What the measured windows used, summed over the phases.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// Each component's ticks and the most processes it had at a window's end.
    pub components: BTreeMap<String, (u64, usize)>,
    pub load_generator: u64,
    pub loopback_bytes: Option<u64>,
    pub window_s: f64,
    pub bookings: u64,
}

impl Usage {
    /// Adds one window, from `before` to `after`, in which `bookings` were made.
    pub fn add(&mut self, before: &Sample, after: &Sample, bookings: u64) {
        let none = BTreeMap::new();
        for (name, processes) in &after.components {
            let start = before.components.get(name).unwrap_or(&none);
            let entry = self.components.entry(name.clone()).or_default();
            entry.0 += window_ticks(start, processes);
            entry.1 = entry.1.max(processes.len());
        }
        self.load_generator += after.load_generator.saturating_sub(before.load_generator);
        if let (Some(start), Some(end)) = (before.loopback_rx, after.loopback_rx) {
            *self.loopback_bytes.get_or_insert(0) += end.saturating_sub(start);
        }
        self.window_s += after.at.duration_since(before.at).as_secs_f64();
        self.bookings += bookings;
    }

    /// The report's `cpu` section, with `ticks_per_s` clock ticks a second.
    pub fn report(&self, ticks_per_s: u64) -> CpuReport {
        let seconds = |ticks: u64| ticks as f64 / ticks_per_s.max(1) as f64;
        let per_booking = |value: f64| (self.bookings > 0).then(|| value / self.bookings as f64);
        let total_ticks: u64 = self.components.values().map(|(t, _)| t).sum();
        let mut components: Vec<ComponentCpu> = self
            .components
            .iter()
            .map(|(name, (ticks, processes))| ComponentCpu {
                name: name.clone(),
                processes: *processes,
                cpu_s: seconds(*ticks),
                us_per_booking: per_booking(seconds(*ticks) * 1e6),
                share: match total_ticks {
                    0 => 0.0,
                    total => *ticks as f64 / total as f64,
                },
            })
            .collect();
        components.sort_by(|a, b| b.cpu_s.total_cmp(&a.cpu_s).then(a.name.cmp(&b.name)));
        let total_cpu_s = seconds(total_ticks);
        CpuReport {
            window_s: self.window_s,
            bookings: self.bookings,
            ticks_per_s,
            components,
            total_cpu_s,
            total_us_per_booking: per_booking(total_cpu_s * 1e6),
            load_generator_cpu_s: seconds(self.load_generator),
            load_generator_us_per_booking: per_booking(seconds(self.load_generator) * 1e6),
            loopback_bytes: self.loopback_bytes,
            loopback_bytes_per_booking: self.loopback_bytes.and_then(|b| per_booking(b as f64)),
        }
    }
}

/// Clock ticks a second (`sysconf(_SC_CLK_TCK)`), the unit of `/proc/<pid>/stat`'s times.
pub fn ticks_per_s() -> u64 {
    rustix::param::clock_ticks_per_second()
}

/// `report.json`'s `cpu`: server CPU over the measured windows of the run's phases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuReport {
    /// The measured windows' wall time, summed (pooled phases: from the first arrival).
    pub window_s: f64,
    /// Bookings made in the windows.
    pub bookings: u64,
    /// The unit of `/proc/<pid>/stat`'s times.
    pub ticks_per_s: u64,
    /// Most CPU first.
    pub components: Vec<ComponentCpu>,
    /// The components' CPU seconds, summed.
    pub total_cpu_s: f64,
    /// `None` without bookings.
    pub total_us_per_booking: Option<f64>,
    /// The load tester's own process and its (reaped) worker processes: not a server, not in
    /// the total.
    pub load_generator_cpu_s: f64,
    pub load_generator_us_per_booking: Option<f64>,
    /// Bytes received on the machine's loopback interface (all its traffic, not only Picket's).
    pub loopback_bytes: Option<u64>,
    pub loopback_bytes_per_booking: Option<f64>,
}

/// One component's CPU in the measured windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentCpu {
    pub name: String,
    /// The most processes (given pids and their descendants) it had at a window's end.
    pub processes: usize,
    pub cpu_s: f64,
    pub us_per_booking: Option<f64>,
    /// Of the total, 0 to 1.
    pub share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PostgreSQL backend: its name holds spaces and parentheses.
    const BACKEND: &str = "4242 (postgres: picket picket 127.0.0.1(51234) idle) S 4200 4200 4200 0 -1 \
        4194560 1520 0 0 0 731 269 7 3 20 0 1 0 123456 228954112 4112 18446744073709551615 1 1 0 \
        0 0 0 0 4096 16384 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn a_stat_line_is_read_after_the_last_parenthesis() {
        assert_eq!(
            parse_stat(BACKEND),
            Some(Stat {
                pid: 4242,
                ppid: 4200,
                ticks: 731 + 269 + 7 + 3
            })
        );
        let odd = "7 (a) b) (c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 9 0 0";
        assert_eq!(
            parse_stat(odd),
            Some(Stat {
                pid: 7,
                ppid: 1,
                ticks: 11
            })
        );
        assert_eq!(parse_stat("7 (short) R 1 7"), None);
        assert_eq!(parse_stat("no parentheses at all"), None);
    }

    #[test]
    fn a_tree_is_the_roots_and_all_their_descendants() {
        // A postmaster (100) with backends (101, 102), one with a child of its own (103); an
        // unrelated process (200) and its child (201).
        let fixture = "\
100 (postgres) S 1 100 100 0 -1 0 0 0 0 0 50 10 0 0 20 0 1 0 1 0 0
101 (postgres: checkpointer ) S 100 100 100 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 0 0
102 (postgres: u db 127.0.0.1(5) idle) S 100 100 100 0 -1 0 0 0 0 0 20 5 0 0 20 0 1 0 1 0 0
103 (sh) S 102 100 100 0 -1 0 0 0 0 0 2 0 0 0 20 0 1 0 1 0 0
200 (nats-server) S 1 200 200 0 -1 0 0 0 0 0 30 3 0 0 20 0 1 0 1 0 0
201 (helper) S 200 200 200 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 1 0 0";
        let stats: Vec<Stat> = fixture.lines().filter_map(parse_stat).collect();
        assert_eq!(stats.len(), 6);
        let postgres = tree(&BTreeSet::from([100]), &stats);
        assert_eq!(postgres, BTreeSet::from([100, 101, 102, 103]));
        let both = tree(&BTreeSet::from([102, 200, 999]), &stats);
        assert_eq!(both, BTreeSet::from([102, 103, 200, 201]), "999 is gone");
    }

    #[test]
    fn the_loopback_line_of_proc_net_dev_gives_its_received_bytes() {
        let net_dev = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 123456789  4321    0    0    0     0          0         0 123456789  4321    0    0    0     0       0          0
  eth0:  999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0";
        assert_eq!(loopback_rx_bytes(net_dev), Some(123_456_789));
        assert_eq!(loopback_rx_bytes("  eth0: 1 2 3"), None);
    }

    #[test]
    fn server_pids_are_name_equals_pid() {
        assert_eq!(
            parse_server_pid("postgres=4200"),
            Ok(("postgres".to_owned(), 4200))
        );
        assert!(parse_server_pid("postgres").is_err());
        assert!(parse_server_pid("=4200").is_err());
        assert!(parse_server_pid("nats=x").is_err());
    }

    /// A sample of components, each a process 1 with `ticks` and idle children 2..=n.
    fn sample(components: &[(&str, u64, usize)], load_generator: u64, lo: u64) -> Sample {
        let processes = |ticks: u64, n: usize| {
            (1..=n as u32)
                .map(|pid| {
                    let (ppid, ticks) = if pid == 1 { (0, ticks) } else { (1, 0) };
                    (pid, Stat { pid, ppid, ticks })
                })
                .collect()
        };
        Sample {
            components: components
                .iter()
                .map(|(name, ticks, n)| ((*name).to_owned(), processes(*ticks, *n)))
                .collect(),
            load_generator,
            loopback_rx: Some(lo),
            at: std::time::Instant::now(),
        }
    }

    #[test]
    fn cpu_per_booking_is_the_windows_ticks_over_their_bookings() {
        let mut usage = Usage::default();
        // Two phases: 100 ticks/s, 500 then 300 bookings.
        usage.add(
            &sample(&[("gateway", 1_000, 2), ("postgres", 500, 9)], 40, 1_000),
            &sample(&[("gateway", 1_060, 2), ("postgres", 520, 12)], 70, 51_000),
            500,
        );
        usage.add(
            &sample(&[("gateway", 2_000, 2), ("postgres", 600, 12)], 90, 60_000),
            &sample(
                &[("gateway", 2_040, 2), ("postgres", 620, 10)],
                100,
                100_000,
            ),
            300,
        );
        let report = usage.report(100);
        assert_eq!(report.bookings, 800);
        let names: Vec<&str> = report.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["gateway", "postgres"], "most CPU first");
        let gateway = &report.components[0];
        // 100 ticks = 1 s over 800 bookings = 1,250 µs.
        assert!((gateway.cpu_s - 1.0).abs() < 1e-12);
        assert!((gateway.us_per_booking.unwrap() - 1_250.0).abs() < 1e-9);
        assert!((gateway.share - 100.0 / 140.0).abs() < 1e-12);
        assert_eq!(report.components[1].processes, 12);
        assert!((report.total_cpu_s - 1.4).abs() < 1e-12);
        assert!((report.total_us_per_booking.unwrap() - 1_750.0).abs() < 1e-9);
        let sum: f64 = report.components.iter().map(|c| c.cpu_s).sum();
        assert!((report.total_cpu_s - sum).abs() < 1e-12);
        assert!((report.load_generator_cpu_s - 0.4).abs() < 1e-12);
        assert_eq!(report.loopback_bytes, Some(90_000));
        assert_eq!(report.loopback_bytes_per_booking, Some(112.5));
    }

    fn stats(list: &[(u32, u32, u64)]) -> BTreeMap<u32, Stat> {
        list.iter()
            .map(|&(pid, ppid, ticks)| (pid, Stat { pid, ppid, ticks }))
            .collect()
    }

    #[test]
    fn a_reaped_backend_counts_once_and_a_killed_node_loses_only_its_window() {
        // Postmaster 100 and backends 101 (exits, reaped: its 30 ticks land in 100's cutime)
        // and 102 (grows 5); 103 starts in the window and uses 4.
        let before = stats(&[(100, 1, 50), (101, 100, 20), (102, 100, 7)]);
        let after = stats(&[(100, 1, 50 + 30), (102, 100, 12), (103, 100, 4)]);
        // 101 used 10 in the window, 102 used 5, 103 used 4.
        assert_eq!(window_ticks(&before, &after), 10 + 5 + 4);
        // A killed ledger node (no parent in the component) and the one taking over.
        let before = stats(&[(300, 1, 500), (301, 1, 40)]);
        let after = stats(&[(301, 1, 90)]);
        assert_eq!(window_ticks(&before, &after), 50);
    }

    #[test]
    fn without_bookings_there_is_no_cost_per_booking() {
        let mut usage = Usage::default();
        usage.add(
            &sample(&[("redis", 10, 1)], 0, 0),
            &sample(&[("redis", 10, 1)], 0, 0),
            0,
        );
        let report = usage.report(100);
        assert_eq!(report.total_us_per_booking, None);
        assert_eq!(report.components[0].us_per_booking, None);
        assert_eq!(report.components[0].share, 0.0);
    }

    #[test]
    fn this_process_is_sampled_from_proc() {
        let mut components = Components::default();
        components.add("me", std::process::id());
        assert!(components.missing().is_empty());
        let before = components.sample();
        // Spin until this process has used CPU, as /proc counts it (bounded: a tick is 10 ms).
        let mut x = 0u64;
        let mut after = components.sample();
        for _ in 0..100_000 {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            after = components.sample();
            if window_ticks(&before.components["me"], &after.components["me"]) > 0 {
                break;
            }
        }
        let mut usage = Usage::default();
        usage.add(&before, &after, 1);
        let report = usage.report(ticks_per_s());
        assert!(report.components[0].processes >= 1, "{report:?}");
        assert!(report.total_cpu_s > 0.0, "{report:?}");
        let mut gone = Components::default();
        gone.add("gone", u32::MAX);
        assert_eq!(gone.missing(), [("gone".to_owned(), u32::MAX)]);
    }
}
