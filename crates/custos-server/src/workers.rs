//! The job workers that run beside the HTTP server.

use std::sync::Arc;
use std::time::Duration;

use custos_engine::jobs::JobRunner;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Starts `count` workers that share `runner`'s handlers, each polling every `poll` when
/// idle, until `shutdown` is cancelled. Wait on the returned set to let them finish their
/// current job.
pub fn spawn(
    runner: impl Fn(usize) -> JobRunner,
    count: usize,
    poll: Duration,
    shutdown: &CancellationToken,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for n in 0..count {
        let runner = Arc::new(runner(n));
        let shutdown = shutdown.clone();
        set.spawn(async move { runner.run_until(shutdown, poll).await });
    }
    set
}
