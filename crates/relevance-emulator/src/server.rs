//! Accepting and serving connections, with limits (see [`ConnectionLimits`]).
//!
//! `axum::serve` has no header-read timeout (hyper's needs a timer it does not set), no
//! idle timeout, no cap on connections and a graceful shutdown without a deadline, so a
//! few hundred slow clients could hold the server and a half-sent request could stop it
//! from ever shutting down. This is the same hyper HTTP/1 server with those pieces: a
//! semaphore around accept, hyper's `header_read_timeout`, an inactivity watchdog on each
//! connection's socket, and a drain deadline.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::ConnectionLimits;

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// for at most `limits.shutdown_grace_ms` and closes whatever is left.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let max_connections = limits
        .max_connections
        .unwrap_or_else(machine_max_connections);
    tracing::info!(max_connections, "accepting connections");
    let permits = Arc::new(Semaphore::new(max_connections));
    // `true` once shutdown begins: each connection then finishes its request and closes.
    let (draining, _) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut last_shed_log: Option<Instant> = None;
    let mut shed_since_log: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Shed: closing at once frees the descriptor; the client may retry.
            drop(stream);
            shed_since_log += 1;
            let now = Instant::now();
            if last_shed_log.map_or(true, |at| now.duration_since(at) >= Duration::from_secs(1)) {
                tracing::warn!(
                    max_connections,
                    shed = shed_since_log,
                    "connection limit reached: closing new connections"
                );
                last_shed_log = Some(now);
                shed_since_log = 0;
            }
            continue;
        };
        let router = router.clone();
        let limits = limits.clone();
        let draining = draining.subscribe();
        connections.spawn(async move {
            serve_connection(stream, peer, router, &limits, draining).await;
            drop(permit);
        });
    }
    drop(listener);
    draining.send_replace(true);
    let grace = Duration::from_millis(limits.shutdown_grace_ms);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace_ms = limits.shutdown_grace_ms,
            "shutdown grace period over: closing the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &ConnectionLimits,
    mut draining: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(AtomicI64::new(0));
    let started = Instant::now();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
        started,
    });
    // Each body chunk must arrive in time: a client that sends headers and then nothing
    // gets an error answer instead of holding the request open.
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut request: axum::http::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            merge_slashes(&mut request);
            request
        })
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            Duration::from_millis(limits.body_read_timeout_ms),
        ))
        .service(router);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms));
    let connection = builder.serve_connection(io, TowerToHyperService::new(service));
    tokio::pin!(connection);
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let mut graceful = false;
    loop {
        let last = Duration::from_millis(
            u64::try_from(activity.load(Ordering::Relaxed)).unwrap_or_default(),
        );
        let idle_deadline = started + last + idle;
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
                return;
            }
            changed = draining.wait_for(|draining| *draining), if !graceful => {
                drop(changed);
                graceful = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(idle_deadline) => {
                let since = started.elapsed().saturating_sub(Duration::from_millis(
                    u64::try_from(activity.load(Ordering::Relaxed)).unwrap_or_default(),
                ));
                if since >= idle {
                    tracing::debug!(%peer, "closing a connection idle for {idle:?}");
                    return;
                }
            }
        }
    }
}

/// A socket that records when bytes last moved, for the inactivity watchdog.
struct Watched {
    inner: TcpStream,
    /// Milliseconds after `started` of the last read or write that moved bytes.
    activity: Arc<AtomicI64>,
    started: Instant,
}

impl Watched {
    fn touch(&self) {
        let now = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.activity.store(now, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The connection cap that follows the machine ([`ConnectionLimits::max_connections`]):
/// the soft open-file limit raised to the hard one, less [`crate::FILE_MARGIN`].
fn machine_max_connections() -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot read or raise the open-file limit; assuming 1024");
        1024
    });
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    limit.saturating_sub(crate::FILE_MARGIN).clamp(64, 1 << 20)
}

/// Runs of `/` in the path become one, before routing, as a front proxy with `merge_slashes`
/// (nginx's default) does: the platform's own docs build URLs such as
/// `{base}/latest//studios/{id}/async_poll/{job}` from a base that ends in `/`, and they work
/// there. The query is kept as it is.
fn merge_slashes<B>(request: &mut axum::http::Request<B>) {
    let uri = request.uri();
    if !uri.path().contains("//") {
        return;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let merged = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    if let Ok(merged) = merged.parse() {
        *request.uri_mut() = merged;
    }
}

#[cfg(test)]
mod slash_tests {
    #[test]
    fn runs_of_slashes_in_the_path_merge_and_the_query_stays() {
        let cases = [
            (
                "/bcbe5a/latest//studios/t/async_poll/j",
                "/bcbe5a/latest/studios/t/async_poll/j",
            ),
            ("//a///b/?x=//y", "/a/b/?x=//y"),
            ("/plain/path", "/plain/path"),
        ];
        for (raw, merged) in cases {
            let mut request = axum::http::Request::builder().uri(raw).body(()).unwrap();
            super::merge_slashes(&mut request);
            assert_eq!(request.uri().to_string(), merged, "{raw}");
        }
    }
}
