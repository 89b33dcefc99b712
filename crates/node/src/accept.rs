//! The accept loop of one server, and its orderly end.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::connection::{Connection, Peer};
use crate::listener::{BoundSocket, Taken};
use crate::server_context::{Lifecycle, ServerContext};
use crate::shared_stream::ReadyStream;
use crate::task;
use crate::tls::{self, Handshake, PeekFirst, SharedTls};

enum Acceptor {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, String),
}

/// Moves a bound socket into tokio. Must run inside the runtime.
fn acceptor(socket: BoundSocket) -> io::Result<Acceptor> {
    Ok(match socket {
        BoundSocket::Tcp(listener) => {
            listener.set_nonblocking(true)?;
            Acceptor::Tcp(TcpListener::from_std(listener)?)
        }
        #[cfg(unix)]
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
pub async fn accept_loop(taken: Taken, ctx: Arc<ServerContext>) {
    let mut lifecycle = ctx.lifecycle.subscribe();
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let tls = taken.tls.map(TlsAcceptor::from);
    match acceptor(taken.socket) {
        Ok(acceptor) => {
            let mut failing = AcceptFailures::default();
            loop {
                tokio::select! {
                    () = accept_one(&acceptor, tls.as_ref(), &ctx, &alive, &mut failing) => {}
                    _ = lifecycle.wait_for(|state| *state != Lifecycle::Running) => {
                        #[cfg(unix)]
                        if let Acceptor::Unix(_, path) = &acceptor {
                            // Like `net.Server`, remove the socket file so that the path can be bound again.
                            let _ = std::fs::remove_file(path);
                        }
                        break;
                    }
                }
            }
        }
        Err(err) => ctx
            .events
            .log(&format!("the listener could not be served: {err}")),
    }
    drop(alive);
    let _ = all_gone.recv().await;
    ctx.events.server_closed();
}

/// A run of failed accepts, such as while the process is out of file descriptors: its start
/// and its end are logged, not every retry.
#[derive(Default)]
struct AcceptFailures {
    count: u64,
}

/// How long to wait after a failed accept before the next one, instead of spinning on it.
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(50);

/// The most bytes a TCP socket holds that it has not sent yet (Linux's TCP_NOTSENT_LOWAT).
/// Without a limit, a large response goes into the kernel whole and waits there for the
/// client's window; with it, the rest waits in the response's own queue, where the write
/// backpressure (`drain`) sees it, and each client costs less kernel memory. The bytes in
/// flight are not limited, so throughput is not either. On loopback it also moves the sending
/// of that rest from the client's syscalls, which acknowledge data, into the server's writes:
/// in `npm run bench`'s 1 MiB echo and 64 MiB stream, wrk spent less CPU per request.
#[cfg(any(target_os = "linux", target_os = "android"))]
const NOTSENT_LOWAT: libc::c_int = 128 * 1024;

/// Per-connection socket options. Failures are ignored: each only tunes a working socket.
fn tune(stream: &tokio::net::TcpStream) {
    let _ = stream.set_nodelay(true);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for the duration of the call, and the option value
        // is a c_int of the size passed.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                (&NOTSENT_LOWAT as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

async fn accept_one(
    acceptor: &Acceptor,
    tls: Option<&TlsAcceptor>,
    ctx: &Arc<ServerContext>,
    alive: &mpsc::Sender<()>,
    failures: &mut AcceptFailures,
) {
    let result = match acceptor {
        Acceptor::Tcp(listener) => listener.accept().await.map(|(stream, remote)| {
            tune(&stream);
            let addresses = Addresses::tcp(remote, stream.local_addr().ok());
            start(stream, addresses, tls, ctx, alive);
        }),
        #[cfg(unix)]
        Acceptor::Unix(listener, _) => listener.accept().await.map(|(stream, _)| {
            start(stream, Addresses::unix(), tls, ctx, alive);
        }),
    };
    match result {
        Ok(()) if failures.count > 0 => {
            ctx.events.log(&format!(
                "accepting connections again after {} failed attempts",
                failures.count
            ));
            failures.count = 0;
        }
        Ok(()) => {}
        Err(err) => {
            if failures.count == 0 {
                ctx.events.log(&format!(
                    "accept failed: {err}; retrying every {} ms until it succeeds",
                    RETRY_AFTER_FAILURE.as_millis()
                ));
            }
            failures.count += 1;
            tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        }
    }
}

/// Starts the task of one accepted connection.
fn start<S>(
    stream: S,
    addresses: Addresses,
    tls: Option<&TlsAcceptor>,
    ctx: &Arc<ServerContext>,
    alive: &mpsc::Sender<()>,
) where
    S: ReadyStream + PeekFirst + AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match tls {
        None => {
            let peer = addresses.peer(false, "");
            task::spawn(Connection::shared(stream, peer, ctx.clone(), alive.clone()).run());
        }
        Some(tls) => {
            task::spawn(serve_tls(
                tls.clone(),
                stream,
                addresses,
                ctx.clone(),
                alive.clone(),
            ));
        }
    }
}

/// Runs the handshake in the connection's own task, then serves HTTP over TLS. Holding `alive`
/// throughout makes the server's close wait for the handshake too.
async fn serve_tls<S>(
    acceptor: TlsAcceptor,
    stream: S,
    addresses: Addresses,
    ctx: Arc<ServerContext>,
    alive: mpsc::Sender<()>,
) where
    S: ReadyStream + PeekFirst + AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut lifecycle = ctx.lifecycle.subscribe();
    let outcome = tokio::select! {
        outcome = tls::handshake(&acceptor, stream) => outcome,
        // A closing server drops connections still in their handshake, as it drops idle ones.
        _ = lifecycle.wait_for(|state| *state != Lifecycle::Running) => return,
    };
    match outcome {
        Handshake::Done(stream, subject) => {
            let peer = addresses.peer(true, &subject);
            let (socket, session) = stream.into_inner();
            Connection::shared(SharedTls::new(socket, session), peer, ctx, alive)
                .run()
                .await;
        }
        Handshake::Gone => {}
        Handshake::Failed(reason) => ctx.events.log(&format!(
            "{} - TLS handshake failed: {reason}",
            addresses.remote
        )),
    }
}

/// Where a connection comes from and arrives, as the REQUEST text shows them.
struct Addresses {
    /// `remote \0 port \0 local \0 port`
    text: Vec<u8>,
    /// The client address for log lines.
    remote: String,
}

impl Addresses {
    fn tcp(remote: SocketAddr, local: Option<SocketAddr>) -> Self {
        let remote_ip = remote.ip().to_canonical().to_string();
        let (local_ip, local_port) = match local {
            Some(local) => (
                local.ip().to_canonical().to_string(),
                local.port().to_string(),
            ),
            None => (String::new(), String::new()),
        };
        let text = format!("{remote_ip}\0{}\0{local_ip}\0{local_port}", remote.port()).into_bytes();
        Addresses {
            text,
            remote: remote_ip,
        }
    }

    #[cfg(unix)]
    fn unix() -> Self {
        Addresses {
            text: b"unix\0\0unix\0".to_vec(),
            remote: "unix".to_owned(),
        }
    }

    /// The peer fields of the REQUEST text end with the client certificate's subject (BRIDGE.md).
    fn peer(self, tls: bool, client_subject: &str) -> Peer {
        let mut text = self.text;
        text.push(0);
        text.extend_from_slice(client_subject.as_bytes());
        Peer {
            text,
            tls,
            remote: self.remote,
        }
    }
}
