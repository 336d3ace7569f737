//! Slow clients and shutdown: stalled connections do not hold the server, and a half-sent
//! request does not stop it from shutting down. Every wait is bounded by `GUARD`.

use std::time::Duration;

use relevance_emulator::{Config, ConnectionLimits};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// Hang guard only: every wait below ends on a server action long before this.
const GUARD: Duration = Duration::from_secs(20);

fn with_limits(limits: ConnectionLimits) -> impl FnOnce(&mut Config) {
    move |config| config.connections = limits
}

async fn connect(running: &Running) -> TcpStream {
    TcpStream::connect(running.emulator.local_addr())
        .await
        .expect("connect")
}

/// Reads until the server closes the connection; answers what it sent. Panics (via the
/// guard) if the server keeps the connection open.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    tokio::time::timeout(GUARD, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_stalled_connections_do_not_stop_healthz() {
    let running = start_seeded().await;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = connect(&running).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("partial headers");
        stalled.push(stream);
    }
    let answer = tokio::time::timeout(GUARD, running.get("/healthz", None))
        .await
        .expect("healthz answers");
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(stalled.len(), 300);
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let running = start_seeded_with(with_limits(ConnectionLimits {
        header_read_timeout_ms: 200,
        ..ConnectionLimits::default()
    }))
    .await;
    let mut stream = connect(&running).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("partial headers");
    read_until_closed(&mut stream).await;
    // And the server still answers everyone else.
    assert_eq!(running.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_an_error_and_an_idle_connection_is_closed() {
    let running = start_seeded_with(with_limits(ConnectionLimits {
        body_read_timeout_ms: 200,
        idle_timeout_ms: 300,
        header_read_timeout_ms: 60_000,
        ..ConnectionLimits::default()
    }))
    .await;
    let mut stream = connect(&running).await;
    stream
        .write_all(
            format!(
                "POST /{US}/latest/agents/list HTTP/1.1\r\nHost: x\r\nAuthorization: proj-a:{KEY_A}\r\nContent-Length: 100\r\n\r\n{{\"pa"
            )
            .as_bytes(),
        )
        .await
        .expect("headers and part of the body");
    let answered = read_until_closed(&mut stream).await;
    assert!(
        answered.starts_with("HTTP/1.1 4"),
        "a stalled body gets an error answer: {answered:?}"
    );

    // Keep-alive: one whole request, then silence; the idle watchdog closes it.
    let mut idle = connect(&running).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let answered = read_until_closed(&mut idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered:?}");
}

#[tokio::test]
async fn connections_past_the_cap_are_shed_and_the_rest_still_served() {
    let running = start_seeded_with(with_limits(ConnectionLimits {
        max_connections: Some(3),
        header_read_timeout_ms: 60_000,
        ..ConnectionLimits::default()
    }))
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&running).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial headers");
        held.push(stream);
    }
    // Give the accept loop a bounded number of chances to take all three.
    let mut shed = connect(&running).await;
    let _ = shed
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let answered = read_until_closed(&mut shed).await;
    assert!(
        answered.is_empty(),
        "a shed connection gets no answer: {answered:?}"
    );
    drop(held);
    let mut answer = None;
    for _ in 0..100 {
        let got = running.get("/healthz", None).await;
        if got.status == StatusCode::OK {
            answer = Some(got);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        answer.is_some(),
        "served again once the held connections closed"
    );
}

#[tokio::test]
async fn a_half_sent_request_does_not_stop_run_from_returning_after_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = Config {
        connections: ConnectionLimits {
            shutdown_grace_ms: 200,
            ..ConnectionLimits::default()
        },
        ..Config::default()
    };
    let server = tokio::spawn(relevance_emulator::run(config, listener, async move {
        let _ = stopped.await;
    }));
    // Wait (bounded) until it answers.
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..500 {
        if http
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(up, "the server answers");
    let mut half = TcpStream::connect(address).await.expect("connect");
    half.write_all(
        b"POST /bcbe5a/latest/agents/list HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .expect("half a request");
    // Let the server start reading it: a bounded pause, not an assertion about time.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("signal shutdown");
    let finished = tokio::time::timeout(GUARD, server)
        .await
        .expect("run returns although a request is half sent");
    finished.expect("server task").expect("clean stop");
    read_until_closed(&mut half).await;
}
