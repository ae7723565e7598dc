//! Connections that would outlast or crowd out everybody else: silent
//! sockets, idle keep-alive connections, too many from one address, and
//! running out of file descriptors.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::both_backends;
use crate::helpers::{fresh_database, spawn_with, temp_dir, Db, TestApp};
use crate::process::start_with;

/// Catches a hang; never a measure of speed.
const HANG: Duration = Duration::from_secs(60);

fn addr(app: &TestApp) -> SocketAddr {
    app.base
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// A connection from `from` (any address of 127.0.0.0/8), sending nothing.
async fn connect_from(server: SocketAddr, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback address");
    socket.connect(server).await.expect("connect")
}

/// Reads until the server closes the connection (end of stream or reset);
/// returns what it sent. Panics if it stays open past [`HANG`].
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(HANG, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server left the connection open");
    seen
}

/// A client that connects from `from`.
fn client_from(from: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(from))
        .build()
        .expect("client")
}

async fn silent_and_idle_connections_are_closed(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.limits.first_byte_timeout_secs = 1;
        c.limits.keep_alive_timeout_secs = 1;
        c.limits.max_connections_per_ip = 0;
    })
    .await
    else {
        return;
    };
    let server = addr(&app);
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(connect_from(server, [127, 0, 0, 1]).await);
    }
    // Somebody else is served while they sit there.
    let r = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("served");
    assert_eq!(r.status(), StatusCode::OK);
    // Every silent one is closed by the server.
    for s in &mut silent {
        assert!(until_closed(s).await.is_empty());
    }
    // A kept-alive connection idle after its answer is closed too, after
    // the answer has arrived whole.
    let mut kept = connect_from(server, [127, 0, 0, 1]).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("request");
    let answer = String::from_utf8(until_closed(&mut kept).await).expect("text");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
}

async fn an_address_past_its_connection_cap_is_refused_at_once(db: Db) {
    let Some(app) = spawn_with(db, |c| {
        c.limits.max_connections_per_ip = 4;
        c.limits.first_byte_timeout_secs = 600;
    })
    .await
    else {
        return;
    };
    let server = addr(&app);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from(server, [127, 0, 0, 3]).await);
    }
    // The fifth from that address is closed without a byte, well before
    // any idle timeout could have closed it.
    let mut fifth = connect_from(server, [127, 0, 0, 3]).await;
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await;
    assert!(until_closed(&mut fifth).await.is_empty());
    // Another address is served meanwhile.
    let r = client_from([127, 0, 0, 4])
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("another address");
    assert_eq!(r.status(), StatusCode::OK);
    // A connection closed gives its place back.
    drop(held.pop());
    let again = tokio::time::timeout(HANG, async {
        loop {
            let r = client_from([127, 0, 0, 3])
                .get(app.url("/healthz"))
                .send()
                .await;
            if r.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(again.is_ok(), "the freed place was never given back");
}

async fn running_out_of_file_descriptors_is_ridden_out(db: Db) {
    let dir = temp_dir();
    let Some(url) = fresh_database(db, &dir).await else {
        return;
    };
    let server = start_with(
        &url,
        &dir,
        0,
        &[
            ("COLLOQUY_FIRST_BYTE_TIMEOUT_SECS", "1"),
            ("COLLOQUY_MAX_CONNECTIONS_PER_IP", "0"),
        ],
        Some(64),
    )
    .await;
    let at: SocketAddr = server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    // Far more connections than the server has file descriptors, held
    // while the server would be failing to accept them.
    let mut held = Vec::new();
    for _ in 0..3 {
        for _ in 0..100 {
            if let Ok(Ok(s)) =
                tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(at)).await
            {
                held.push(s);
            }
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    drop(held);
    // It serves again once they are gone.
    let client = reqwest::Client::new();
    let served = tokio::time::timeout(HANG, async {
        loop {
            let r = client.get(server.url("/healthz")).send().await;
            if r.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let log = server.log_text();
    assert!(served.is_ok(), "not serving again:\n{log}");
    let accept_failures = log.matches("accept failed").count();
    let lines = log.lines().count();
    assert!(
        accept_failures <= 2 && lines <= 12,
        "the log fills with failures ({accept_failures} accept failures, {lines} lines):\n{log}"
    );
    assert!(
        log.contains("the open-file limit is low"),
        "the limit was in force and said so:\n{log}"
    );
}

both_backends!(
    silent_and_idle_connections_are_closed,
    an_address_past_its_connection_cap_is_refused_at_once,
    running_out_of_file_descriptors_is_ridden_out,
);
