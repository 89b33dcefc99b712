//! The accept loop of one server, and its orderly end.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;

use crate::connection::{Connection, Peer};
use crate::listener::BoundSocket;
use crate::server_context::{Lifecycle, ServerContext};

enum Acceptor {
    Tcp(TcpListener),
    Unix(UnixListener, String),
}

/// Moves a bound socket into tokio. Must run inside the runtime.
fn acceptor(socket: BoundSocket) -> io::Result<Acceptor> {
    Ok(match socket {
        BoundSocket::Tcp(listener) => {
            listener.set_nonblocking(true)?;
            Acceptor::Tcp(TcpListener::from_std(listener)?)
        }
        BoundSocket::Unix(listener) => {
            listener.set_nonblocking(true)?;
            let path = listener
                .local_addr()?
                .as_pathname()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            Acceptor::Unix(UnixListener::from_std(listener)?, path)
        }
    })
}

/// Accepts until the server stops, then waits for every connection to end and says so.
pub async fn accept_loop(socket: BoundSocket, ctx: Arc<ServerContext>) {
    let mut lifecycle = ctx.lifecycle.subscribe();
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    match acceptor(socket) {
        Ok(acceptor) => loop {
            tokio::select! {
                () = accept_one(&acceptor, &ctx, &alive) => {}
                _ = lifecycle.wait_for(|state| *state != Lifecycle::Running) => {
                    if let Acceptor::Unix(_, path) = &acceptor {
                        // Like `net.Server`, remove the socket file so that the path can be bound again.
                        let _ = std::fs::remove_file(path);
                    }
                    break;
                }
            }
        },
        Err(err) => ctx.events.log(&format!("the listener could not be served: {err}")),
    }
    drop(alive);
    let _ = all_gone.recv().await;
    ctx.events.server_closed();
}

async fn accept_one(acceptor: &Acceptor, ctx: &Arc<ServerContext>, alive: &mpsc::Sender<()>) {
    let result = match acceptor {
        Acceptor::Tcp(listener) => listener.accept().await.map(|(stream, remote)| {
            let _ = stream.set_nodelay(true);
            let peer = tcp_peer(remote, stream.local_addr().ok());
            tokio::spawn(Connection::shared(stream, peer, ctx.clone(), alive.clone()).run());
        }),
        Acceptor::Unix(listener, _) => listener.accept().await.map(|(stream, _)| {
            let peer = Peer { text: b"unix\0\0unix\0".to_vec(), tls: false, remote: "unix".to_owned() };
            tokio::spawn(Connection::shared(stream, peer, ctx.clone(), alive.clone()).run());
        }),
    };
    if let Err(err) = result {
        // Out of file descriptors and similar: say so, and give the process a moment instead of
        // spinning on the same error.
        ctx.events.log(&format!("accept failed: {err}"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tcp_peer(remote: SocketAddr, local: Option<SocketAddr>) -> Peer {
    let remote_ip = remote.ip().to_canonical().to_string();
    let (local_ip, local_port) = match local {
        Some(local) => (local.ip().to_canonical().to_string(), local.port().to_string()),
        None => (String::new(), String::new()),
    };
    let text = format!("{remote_ip}\0{}\0{local_ip}\0{local_port}", remote.port()).into_bytes();
    Peer { text, tls: false, remote: remote_ip }
}
