//! The serve loop: hyper-util's HTTP/1 and HTTP/2 connection builder over a
//! TCP listener, with the bounds `axum::serve` does not have.
//!
//! - **Connections**: at most `max_connections` are served at once (a
//!   semaphore). Beyond it the loop stops accepting, so further clients wait in
//!   the kernel's listen queue rather than being dropped; a slot comes back as
//!   soon as any connection closes, and the timeouts below close stuck ones.
//! - **Headers**: a new connection must deliver its first request's headers
//!   within `header_timeout` (this also covers the bytes hyper reads to tell
//!   HTTP/1 from HTTP/2), and hyper applies the same timeout to every later
//!   request's headers on an HTTP/1 connection.
//! - **Idle**: a connection that carries no bytes either way for
//!   `idle_timeout` is shut down gracefully (a request in flight may finish),
//!   and closed outright after a second `idle_timeout` of silence.
//! - **Bodies**: the router's `RequestBodyTimeoutLayer` (see `startup`).
//! - **Shutdown**: when `shutdown` is cancelled the loop stops accepting, every
//!   connection is asked to finish gracefully, and [`serve`] returns once all
//!   have closed.
//! - `TCP_NODELAY` is set on every connection: without it a response on a
//!   reused keep-alive connection can wait ~40 ms for the client's delayed ACK.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::edge::EdgeSettings;

/// What bounds one connection.
#[derive(Clone, Copy, Debug)]
struct ConnectionLimits {
    header_timeout: Duration,
    idle_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` is cancelled and every
/// connection has closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    edge: &EdgeSettings,
    shutdown: CancellationToken,
) {
    let max = edge.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let limits = ConnectionLimits {
        header_timeout: edge.header_timeout,
        idle_timeout: edge.idle_timeout,
    };
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        tokio::spawn(serve_connection(
            tcp,
            peer,
            router.clone(),
            limits,
            shutdown.clone(),
            slot,
        ));
    }
    drop(listener);
    // Every connection holds a slot until it closes: all slots back means all
    // connections are done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if slots.acquire_many(all).await.is_err() {
        tracing::debug!("the connection slots were closed");
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    let opened = Instant::now();
    let activity = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Watched {
        inner: tcp,
        opened,
        activity: Arc::clone(&activity),
    });
    let service = hyper::service::service_fn({
        let started = Arc::clone(&started);
        move |mut request: http::Request<Incoming>| {
            started.store(true, Ordering::Relaxed);
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection_with_upgrades(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        let last = opened + Duration::from_millis(activity.load(Ordering::Relaxed));
        let idle_until = last + limits.idle_timeout;
        let deadline = if started.load(Ordering::Relaxed) {
            idle_until
        } else {
            idle_until.min(opened + limits.header_timeout)
        };
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                if !started.load(Ordering::Relaxed) && now >= opened + limits.header_timeout {
                    tracing::debug!(%peer, "no request headers in time; closing");
                    return;
                }
                let silent_since = opened + Duration::from_millis(activity.load(Ordering::Relaxed));
                if now >= silent_since + limits.idle_timeout {
                    if closing {
                        tracing::debug!(%peer, "idle after a graceful shutdown; closing");
                        return;
                    }
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                    // Counts as activity, so the second wait is a full one.
                    touch(&activity, opened);
                }
            }
            () = shutdown.cancelled(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

fn touch(activity: &AtomicU64, opened: Instant) {
    let elapsed = u64::try_from(opened.elapsed().as_millis()).unwrap_or(u64::MAX);
    activity.store(elapsed, Ordering::Relaxed);
}

/// A TCP stream that notes when bytes last went either way.
struct Watched {
    inner: TcpStream,
    opened: Instant,
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn note<T>(&self, poll: &Poll<io::Result<T>>) {
        if matches!(poll, Poll::Ready(Ok(_))) {
            touch(&self.activity, self.opened);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.note(&poll);
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(&poll);
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(&poll);
        poll
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
