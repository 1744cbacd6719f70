//! Every setting is checked before anything is bound or started, and every problem is reported
//! at once: an operator fixes a configuration in one round, not one error per restart.

/// The problems found so far.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    /// Adds `problems` found by a component's own checks, each prefixed with `what`.
    pub fn extend(&mut self, what: &str, problems: Vec<String>) {
        self.0.extend(
            problems
                .into_iter()
                .map(|problem| format!("{what}: {problem}")),
        );
    }

    /// The value of a check that may fail: `Some` when it passed, else the problem is recorded.
    pub fn take<T, E: std::fmt::Display>(&mut self, what: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(format!("{what}: {error}"));
                None
            }
        }
    }

    /// `Ok` when nothing was found; otherwise one error listing every problem.
    pub fn finish(self) -> anyhow::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let count = self.0.len();
        let list: Vec<String> = self.0.iter().map(|p| format!("  - {p}")).collect();
        anyhow::bail!(
            "{count} setting problem{} (nothing was started):\n{}",
            if count == 1 { "" } else { "s" },
            list.join("\n")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut problems = Problems::default();
        problems.push("DATABASE_URL must be postgres://… or sqlite://PATH");
        problems.extend(
            "gateway",
            vec!["connections_max must be 1 to 19900, got 0".into()],
        );
        let parsed: Option<u16> = problems.take("PICKET_PARTITIONS", "x".parse::<u16>());
        assert_eq!(parsed, None);
        let message = problems.finish().expect_err("three problems").to_string();
        assert!(message.starts_with("3 setting problems"), "{message}");
        assert!(message.contains("gateway: connections_max"), "{message}");
        assert!(
            message.contains("PICKET_PARTITIONS: invalid digit"),
            "{message}"
        );
        assert!(Problems::default().finish().is_ok());
    }
}
