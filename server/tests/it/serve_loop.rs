//! The real serve loop on an ephemeral port: idle sockets, the connection cap,
//! slow bodies, idle connections and the graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use server::edge::EdgeSettings;

use crate::common::test_app_with_edge;

struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    served: JoinHandle<()>,
}

async fn spawn_server(pool: &PgPool, edge: EdgeSettings) -> Running {
    let app = test_app_with_edge(pool, edge.clone()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let served = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { server::listener::serve(listener, app.router, &edge, shutdown).await }
    });
    Running {
        addr,
        shutdown,
        served,
    }
}

/// `GET /` on a fresh connection: the status line, read to the end.
async fn get_home(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A connection that starts a request and never finishes its headers.
async fn dawdler(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    stream
}

/// Whether the server has closed `stream` (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0_u8; 512];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or similar before closing: keep reading.
            Ok(Ok(_)) => {}
        }
    }
}

fn edge(header_secs: u64) -> EdgeSettings {
    EdgeSettings {
        header_timeout: Duration::from_secs(header_secs),
        ..EdgeSettings::default()
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_thousand_idle_sockets_leave_the_register_answering_within_a_second(pool: PgPool) {
    let server = spawn_server(&pool, edge(3)).await;
    // Warm the page once so the timing below measures waiting, not rendering.
    assert!(get_home(server.addr).await.contains("200"));
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        idle.push(dawdler(server.addr).await);
    }
    let started = Instant::now();
    let status = get_home(server.addr).await;
    let took = started.elapsed();
    assert!(status.contains("200 OK"), "{status}");
    assert!(took < Duration::from_secs(1), "GET / took {took:?}");
    // And the dawdlers are cut off once the header timeout has passed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut closed = 0;
    for stream in &mut idle {
        if closed_within(stream, Duration::from_secs(2)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 1_000, "every idle socket was closed");
    server.shutdown.cancel();
    server.served.await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn connections_beyond_the_cap_wait_until_a_place_is_free(pool: PgPool) {
    let server = spawn_server(
        &pool,
        EdgeSettings {
            max_connections: 2,
            ..edge(2)
        },
    )
    .await;
    let _held = [dawdler(server.addr).await, dawdler(server.addr).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let waiting = tokio::spawn(get_home(server.addr));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiting.is_finished(),
        "a third connection is not served yet"
    );
    let status = waiting.await.unwrap();
    assert!(status.contains("200 OK"), "{status}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_secs(5),
        "served once the dawdlers timed out, after {took:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_body_that_never_arrives_is_cut_off(pool: PgPool) {
    let server = spawn_server(
        &pool,
        EdgeSettings {
            body_timeout: Duration::from_secs(1),
            ..edge(10)
        },
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: same-origin\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = vec![0_u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered before the connection's own timeouts")
        .unwrap();
    let status = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(status.starts_with("HTTP/1.1 4"), "{status}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_keep_alive_connection_is_closed(pool: PgPool) {
    let server = spawn_server(
        &pool,
        EdgeSettings {
            idle_timeout: Duration::from_secs(1),
            ..edge(30)
        },
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0_u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 "));
    assert!(
        closed_within(&mut stream, Duration::from_secs(4)).await,
        "closed after a second of silence, long before the 30 s header timeout"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn shutting_down_closes_idle_connections_and_returns(pool: PgPool) {
    let server = spawn_server(&pool, edge(30)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0_u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(read > 0, "answered");
    server.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(3), server.served)
        .await
        .expect("the serve loop returned")
        .unwrap();
    assert!(closed_within(&mut stream, Duration::from_secs(1)).await);
}
