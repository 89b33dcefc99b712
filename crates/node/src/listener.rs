//! Listening sockets, bound synchronously so that `listen()` throws at the call.
//!
//! A `NativeListener` owns a bound, listening std socket until a server takes it: the socket
//! moves into the tokio runtime only when `server()` is called, and a listener can be served
//! once. `useTls` (`wrapSsl`) gives an open listener a TLS configuration, which its server
//! then uses for every connection it accepts.
//!
//! Unix domain sockets and `SO_REUSEPORT` exist on Unix only: on Windows, `listenUnix` and
//! `reusePort: true` fail with a message that says so. `reuseAddr` is ignored on Windows, whose
//! `SO_REUSEADDR` lets a second socket bind a port that is in use (no `EADDRINUSE`): Rust's std
//! and tokio leave it unset there for that reason.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rustls::ServerConfig;
#[cfg(unix)]
use socket2::SockAddr;
use socket2::{Domain, Socket, Type};

use crate::os_error::bind_error;
use crate::tls;

pub enum BoundSocket {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener),
}

/// What a server takes from a listener.
pub struct Taken {
    pub socket: BoundSocket,
    /// Set by `useTls`: every accepted connection starts with a TLS handshake.
    pub tls: Option<Arc<ServerConfig>>,
}

enum State {
    Open(Taken),
    Served,
    Closed,
}

#[napi(object)]
pub struct ListenerAddress {
    pub host: Option<String>,
    pub port: Option<u32>,
    pub path: Option<String>,
}

#[napi]
pub struct NativeListener {
    state: Mutex<State>,
    address: Address,
}

#[derive(Clone)]
enum Address {
    Inet(SocketAddr),
    #[cfg(unix)]
    Path(String),
}

#[napi]
pub fn listen_tcp(
    host: String,
    port: u32,
    backlog: u32,
    reuse_addr: bool,
    reuse_port: bool,
) -> Result<NativeListener> {
    let shown = display_host_port(&host, port);
    let port = u16::try_from(port)
        .map_err(|_| Error::from_reason(format!("EINVAL: port out of range {shown}")))?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|err| bind_error(&err, &shown))?
        .next()
        .ok_or_else(|| Error::from_reason(format!("ENOTFOUND: host not found {shown}")))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)
        .map_err(|err| bind_error(&err, &shown))?;
    #[cfg(unix)]
    {
        socket
            .set_reuse_address(reuse_addr)
            .map_err(|err| bind_error(&err, &shown))?;
        socket
            .set_reuse_port(reuse_port)
            .map_err(|err| bind_error(&err, &shown))?;
    }
    #[cfg(not(unix))]
    {
        // Not Windows' SO_REUSEADDR, which means something else there (see the module docs).
        let _ = reuse_addr;
        if reuse_port {
            return Err(Error::from_reason(format!(
                "ENOTSUP: reusePort is not supported on Windows {shown}"
            )));
        }
    }
    if addr.is_ipv6() {
        // `::` should accept IPv4 too, as Node's `net.Server` does.
        let _ = socket.set_only_v6(false);
    }
    socket
        .bind(&addr.into())
        .map_err(|err| bind_error(&err, &shown))?;
    socket
        .listen(backlog_of(backlog))
        .map_err(|err| bind_error(&err, &shown))?;
    let listener: TcpListener = socket.into();
    let bound = listener
        .local_addr()
        .map_err(|err| bind_error(&err, &shown))?;
    Ok(NativeListener::new(
        BoundSocket::Tcp(listener),
        Address::Inet(bound),
    ))
}

#[cfg(unix)]
#[napi]
pub fn listen_unix(path: String, backlog: u32) -> Result<NativeListener> {
    let socket =
        Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|err| bind_error(&err, &path))?;
    let addr = SockAddr::unix(&path).map_err(|err| bind_error(&err, &path))?;
    socket.bind(&addr).map_err(|err| bind_error(&err, &path))?;
    socket
        .listen(backlog_of(backlog))
        .map_err(|err| bind_error(&err, &path))?;
    Ok(NativeListener::new(
        BoundSocket::Unix(socket.into()),
        Address::Path(path),
    ))
}

/// Windows has no Unix domain sockets for tokio to serve: `listenUnix` exists, and says so.
#[cfg(not(unix))]
#[napi]
pub fn listen_unix(path: String, backlog: u32) -> Result<NativeListener> {
    let _ = backlog;
    Err(Error::from_reason(format!(
        "EAFNOSUPPORT: Unix domain sockets are not supported on Windows {path}"
    )))
}

fn backlog_of(backlog: u32) -> i32 {
    i32::try_from(backlog).unwrap_or(i32::MAX)
}

fn display_host_port(host: &str, port: u32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl NativeListener {
    fn new(socket: BoundSocket, address: Address) -> Self {
        NativeListener {
            state: Mutex::new(State::Open(Taken { socket, tls: None })),
            address,
        }
    }

    /// Hands the socket to a server; fails when it was served or closed before.
    pub fn take(&self) -> Result<Taken> {
        let mut state = self.state.lock().expect("listener state poisoned");
        match std::mem::replace(&mut *state, State::Served) {
            State::Open(taken) => Ok(taken),
            State::Served => Err(Error::from_reason(
                "the listener is already served by another server",
            )),
            State::Closed => {
                *state = State::Closed;
                Err(Error::from_reason("the listener is closed"))
            }
        }
    }

    pub fn is_unix(&self) -> bool {
        match self.address {
            Address::Inet(_) => false,
            #[cfg(unix)]
            Address::Path(_) => true,
        }
    }
}

#[napi]
impl NativeListener {
    #[napi]
    pub fn address(&self) -> ListenerAddress {
        match &self.address {
            Address::Inet(addr) => ListenerAddress {
                host: Some(addr.ip().to_string()),
                port: Some(u32::from(addr.port())),
                path: None,
            },
            #[cfg(unix)]
            Address::Path(path) => ListenerAddress {
                host: None,
                port: None,
                path: Some(path.clone()),
            },
        }
    }

    /// Closes the socket if no server took it; a served listener is closed by its server.
    #[napi]
    pub fn close(&self) {
        let mut state = self.state.lock().expect("listener state poisoned");
        if matches!(*state, State::Open(_)) {
            *state = State::Closed;
        }
    }

    /// Makes the listener serve TLS (BRIDGE.md). The whole configuration is checked here, so
    /// that a bad certificate or key throws now rather than failing every handshake later.
    #[napi]
    pub fn use_tls(
        &self,
        cert: Buffer,
        key: Buffer,
        ca: Option<Buffer>,
        request_cert: bool,
    ) -> Result<()> {
        let config = tls::server_config(&cert, &key, ca.as_deref(), request_cert)
            .map_err(|err| Error::from_reason(err.to_string()))?;
        let mut state = self.state.lock().expect("listener state poisoned");
        match &mut *state {
            State::Open(Taken { tls: Some(_), .. }) => {
                Err(Error::from_reason("the listener already serves TLS"))
            }
            State::Open(taken) => {
                taken.tls = Some(config);
                Ok(())
            }
            State::Served => Err(Error::from_reason(
                "the listener is already served: wrap it before passing it to server()",
            )),
            State::Closed => Err(Error::from_reason("the listener is closed")),
        }
    }

    #[napi]
    pub fn is_closed(&self) -> bool {
        matches!(
            *self.state.lock().expect("listener state poisoned"),
            State::Closed
        )
    }

    #[napi]
    pub fn is_served(&self) -> bool {
        matches!(
            *self.state.lock().expect("listener state poisoned"),
            State::Served
        )
    }
}
