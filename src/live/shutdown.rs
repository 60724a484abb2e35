//! Graceful shutdown of what axum does not track: upgraded WebSocket connections. The serve
//! loop calls [`Shutdown::begin`] on SIGTERM or Ctrl-C; every connection then completes its
//! subscriptions and closes, and [`Shutdown::drained`] resolves when the last one is gone.

use tokio::sync::watch;

#[derive(Clone)]
pub struct Shutdown {
    stop: watch::Sender<bool>,
    open: watch::Sender<usize>,
}

/// Held by an open connection; dropping it counts the connection closed.
pub struct Tracked(watch::Sender<usize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            stop: watch::channel(false).0,
            open: watch::channel(0).0,
        }
    }
}

impl Shutdown {
    /// Tells every connection to finish.
    pub fn begin(&self) {
        self.stop.send_replace(true);
    }

    /// Resolves once [`Shutdown::begin`] has been called (at once if it already was).
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// Counts a connection open until the returned guard is dropped.
    pub fn track(&self) -> Tracked {
        self.open.send_modify(|n| *n += 1);
        Tracked(self.open.clone())
    }

    /// Resolves when no tracked connection is open.
    pub async fn drained(&self) {
        let _ = self.open.subscribe().wait_for(|n| *n == 0).await;
    }
}
