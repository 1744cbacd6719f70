//! The tokio runtime every role runs on, built in `main` from `--worker-threads`
//! (`PICKET_WORKER_THREADS`): where several Picket processes share a few cores, one worker
//! thread each spends less on wake-ups and context switches (docs/operations.md, "Threads per
//! process on a small machine").

use std::num::NonZeroUsize;

use clap::Args;

use crate::check::Problems;

/// Most worker threads a process may be given: far above the cores of any machine it runs on,
/// so a larger number is a typo.
pub const WORKER_THREADS_MAX: usize = 1_024;

#[derive(Args)]
pub struct ThreadArgs {
    /// Tokio worker threads of this process, 1 to 1,024 (default: tokio's, one per core, or
    /// TOKIO_WORKER_THREADS). Where Picket's processes outnumber the cores, 1.
    #[arg(long, env = "PICKET_WORKER_THREADS")]
    worker_threads: Option<usize>,
}

impl ThreadArgs {
    /// The worker threads asked for (`None`: tokio's default), or a problem.
    pub fn check(&self, problems: &mut Problems) -> Option<NonZeroUsize> {
        let threads = self.worker_threads?;
        if !(1..=WORKER_THREADS_MAX).contains(&threads) {
            problems.setting(
                "worker_threads",
                format!("must be 1 to {WORKER_THREADS_MAX}, got {threads}"),
            );
            return None;
        }
        NonZeroUsize::new(threads)
    }
}

/// A multi-threaded runtime with `worker_threads` workers (`None`: tokio's default), I/O and
/// timers enabled.
pub fn runtime(worker_threads: Option<NonZeroUsize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = worker_threads {
        builder.worker_threads(threads.get());
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        threads: ThreadArgs,
    }

    fn checked(args: &[&str]) -> (Option<NonZeroUsize>, Vec<String>) {
        let cli = Cli::parse_from(std::iter::once("picket").chain(args.iter().copied()));
        let mut problems = Problems::of::<ThreadArgs>();
        let threads = cli.threads.check(&mut problems);
        let found = match problems.finish() {
            Ok(()) => Vec::new(),
            Err(refused) => refused.0.iter().map(ToString::to_string).collect(),
        };
        (threads, found)
    }

    #[test]
    fn the_runtime_has_the_worker_threads_asked_for() {
        let (threads, problems) = checked(&["--worker-threads", "3"]);
        assert!(problems.is_empty(), "{problems:?}");
        let runtime = runtime(threads).expect("runtime");
        assert_eq!(runtime.metrics().num_workers(), 3);
        assert_eq!(runtime.block_on(async { 2 + 2 }), 4);
    }

    #[test]
    fn zero_or_too_many_worker_threads_are_refused() {
        for bad in ["0", "1025"] {
            let (threads, problems) = checked(&["--worker-threads", bad]);
            assert_eq!(threads, None);
            assert_eq!(
                problems,
                vec![format!(
                    "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got {bad}"
                )]
            );
        }
        let (threads, problems) = checked(&[]);
        assert_eq!((threads, problems.len()), (None, 0), "default: tokio's");
    }
}
