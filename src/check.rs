//! Every setting is checked before anything is bound or started, and every problem is reported
//! at once: an operator fixes a configuration in one round, not one error per restart. Each
//! problem names the setting's flag and environment variable, read from the role's own clap
//! definition (so a renamed flag cannot leave a stale name here), and a refused configuration
//! ends the process with exit code 2, as clap's usage errors do ([`SETTINGS_EXIT_CODE`]).

use std::fmt;
use std::num::NonZeroUsize;

/// The exit code of a process whose settings were refused: clap's, for usage errors.
pub const SETTINGS_EXIT_CODE: u8 = 2;

/// One problem with one setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The flag that sets it (`--database-url`), when the problem is with one flag.
    pub flag: Option<String>,
    /// The environment variable that sets it too (`DATABASE_URL`).
    pub env: Option<String>,
    /// What is wrong; never the value of a secret.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.flag, &self.env) {
            (Some(flag), Some(env)) => write!(f, "{flag} ({env}): {}", self.message),
            (Some(name), None) | (None, Some(name)) => write!(f, "{name}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// Every problem found with a role's settings: nothing was bound, opened or written.
#[derive(Debug, thiserror::Error)]
pub struct SettingProblems(pub Vec<Problem>);

impl fmt::Display for SettingProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "{count} setting problem{} (nothing was started):",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// A role's checked settings: what it runs with, and the tokio worker threads to run it on
/// (`None`: tokio's default).
pub struct Planned<P> {
    pub worker_threads: Option<NonZeroUsize>,
    pub plan: P,
}

/// The problems found so far with the settings of one role, whose flags are `settings`.
pub struct Problems {
    settings: clap::Command,
    found: Vec<Problem>,
}

impl Problems {
    /// Problems with the settings of the role whose arguments are `A`.
    pub fn of<A: clap::Args>() -> Problems {
        Problems {
            settings: A::augment_args(clap::Command::new("picket")),
            found: Vec::new(),
        }
    }

    fn arg(&self, id: &str) -> Option<&clap::Arg> {
        self.settings
            .get_arguments()
            .find(|arg| arg.get_id().as_str() == id)
    }

    /// A problem with the setting held in the field `id` of the role's arguments.
    pub fn setting(&mut self, id: &str, message: impl Into<String>) {
        let message = message.into();
        let problem = match self.arg(id) {
            Some(arg) => Problem {
                flag: arg.get_long().map(|long| format!("--{long}")),
                env: arg.get_env().map(|env| env.to_string_lossy().into_owned()),
                message,
            },
            // Not one of the role's flags (a bug of the role's check): named all the same.
            None => Problem {
                flag: None,
                env: None,
                message: format!("{id}: {message}"),
            },
        };
        self.found.push(problem);
    }

    /// The value of a check of setting `id` that may fail: `Some` when it passed, else the
    /// problem is recorded.
    pub fn take<T, E: fmt::Display>(&mut self, id: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.setting(id, error.to_string());
                None
            }
        }
    }

    /// Adds `problems` found by component `what`'s own checks. Each goes to the setting its
    /// text begins with: a phrase of `aliases` (`("the secret key", "secret_key")`), else its
    /// first word as a field of the role's arguments, bare or with its unit (`push_interval`
    /// is `push_interval_ms`). A problem with no flag of its own (two settings that do not fit
    /// together, one of them fixed) is named by the component.
    pub fn extend(&mut self, what: &str, problems: Vec<String>, aliases: &[(&str, &str)]) {
        for problem in problems {
            let alias = aliases
                .iter()
                .find(|(phrase, _)| problem.starts_with(phrase))
                .map(|(_, id)| (*id).to_owned());
            let field = problem.split(' ').next().unwrap_or_default();
            let named = alias.or_else(|| {
                ["", "_ms", "_us", "_s"]
                    .iter()
                    .map(|unit| format!("{field}{unit}"))
                    .find(|id| self.arg(id).is_some())
            });
            match named {
                Some(id) => self.setting(&id, problem),
                None => self.found.push(Problem {
                    flag: None,
                    env: None,
                    message: format!("{what}: {problem}"),
                }),
            }
        }
    }

    /// `Ok` when nothing was found; otherwise every problem.
    pub fn finish(self) -> Result<(), SettingProblems> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(SettingProblems(self.found))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Args;

    #[derive(Args)]
    struct Settings {
        /// Journal database.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        #[arg(long, env = "PICKET_PUSH_INTERVAL_MS", default_value_t = 1_000)]
        push_interval_ms: u64,
        #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
        partition_count: u16,
        #[arg(long)]
        secret_key: Option<String>,
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_flag_and_variable() {
        let mut problems = Problems::of::<Settings>();
        problems.setting("database_url", "must be postgres://…");
        problems.extend(
            "gateway",
            vec![
                "push_interval must be 100 to 2000 ms, got 5000 ms".into(),
                "connections_max must be at most files_max - files_reserved (1), got 2".into(),
                "the secret key is empty".into(),
            ],
            &[("the secret key", "secret_key")],
        );
        let parsed: Option<u16> = problems.take("partition_count", "x".parse::<u16>());
        assert_eq!(parsed, None);
        let refused = problems.finish().expect_err("five problems");
        assert_eq!(refused.0.len(), 5);
        assert_eq!(
            refused.0[0].to_string(),
            "--database-url (DATABASE_URL): must be postgres://…"
        );
        assert_eq!(
            refused.0[1].to_string(),
            "--push-interval-ms (PICKET_PUSH_INTERVAL_MS): push_interval must be 100 to 2000 ms, \
             got 5000 ms"
        );
        assert_eq!(
            refused.0[2].to_string(),
            "gateway: connections_max must be at most files_max - files_reserved (1), got 2"
        );
        assert_eq!(
            refused.0[3].to_string(),
            "--secret-key: the secret key is empty"
        );
        assert_eq!(refused.0[4].env.as_deref(), Some("PICKET_PARTITIONS"));
        let message = refused.to_string();
        assert!(message.starts_with("5 setting problems"), "{message}");
        assert_eq!(message.lines().count(), 6, "{message}");
        assert!(Problems::of::<Settings>().finish().is_ok());
    }
}
