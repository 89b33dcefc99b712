//! TLS for a listener: the rustls configuration, built and checked when `wrapSsl` is called, and
//! the handshake of each accepted connection.
//!
//! Everything that can be found wrong with a certificate or key is found while building the
//! configuration, so that a bad file throws at `wrapSsl` instead of failing every handshake
//! later. A handshake runs in the connection's own task, never in the accept loop, so a slow or
//! silent client cannot hold up accepting.

mod pem;
mod shared;
mod subject;

use std::fmt;
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, RootCertStore};
use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, Interest};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use x509_parser::prelude::{FromDer, X509Certificate};

use self::pem::Pem;
pub use self::shared::SharedTls;
pub use self::subject::distinguished_name;

/// How long a client may take from connecting to a completed handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The first byte of a TLS record that carries a handshake message (the ClientHello).
const HANDSHAKE_RECORD: u8 = 0x16;

/// Which input of `useTls` a configuration error is about; the TS layer replaces this name with
/// the file it read the input from (BRIDGE.md, `useTls`).
#[derive(Clone, Copy, Debug)]
pub enum Input {
    Cert,
    Key,
    Ca,
}

#[derive(Debug)]
pub struct ConfigError {
    pub input: Input,
    pub message: String,
}

impl ConfigError {
    fn new(input: Input, message: impl Into<String>) -> Self {
        ConfigError {
            input,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match self.input {
            Input::Cert => "cert",
            Input::Key => "key",
            Input::Ca => "ca",
        };
        write!(f, "{input}: {}", self.message)
    }
}

/// Builds the server configuration from PEM: `cert` is the server's certificate followed by any
/// intermediates, `key` its private key (PKCS#8, PKCS#1 or SEC1). With `ca`, clients are asked
/// for a certificate issued by one of its certificates; `require_client_cert` refuses, at the
/// handshake, clients that send none.
pub fn server_config(
    cert: &[u8],
    key: &[u8],
    ca: Option<&[u8]>,
    require_client_cert: bool,
) -> Result<Arc<ServerConfig>, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificate_chain(Input::Cert, cert)?;
    let certified = certified_key(&provider, chain, key)?;
    let verifier = match ca {
        Some(ca) => {
            let roots = trust_anchors(ca)?;
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let builder = if require_client_cert {
                builder
            } else {
                builder.allow_unauthenticated()
            };
            builder
                .build()
                .map_err(|err| ConfigError::new(Input::Ca, err.to_string()))?
        }
        None if require_client_cert => {
            return Err(ConfigError::new(
                Input::Ca,
                "requesting client certificates needs the CA certificates that issue them",
            ));
        }
        None => WebPkiClientVerifier::no_client_auth(),
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| ConfigError::new(Input::Cert, err.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    // HTTP/1.1 is all this server speaks; a client offering only h2 is refused at the handshake
    // rather than left to fail on the first request.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificates of `input`, in order, each checked to be well-formed and not expired.
fn certificate_chain(
    input: Input,
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = Pem::parse(bytes).map_err(|message| ConfigError::new(input, message))?;
    let chain = pem.certificates();
    if chain.is_empty() {
        return Err(ConfigError::new(
            input,
            pem.missing("a certificate (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    for (i, der) in chain.iter().enumerate() {
        let which = if chain.len() == 1 {
            "the certificate".to_owned()
        } else {
            format!("certificate {} of {}", i + 1, chain.len())
        };
        let (_, cert) = X509Certificate::from_der(der).map_err(|err| {
            ConfigError::new(
                input,
                format!("{which} is not a valid X.509 certificate: {err}"),
            )
        })?;
        let not_after = &cert.validity().not_after;
        if not_after.timestamp() < x509_parser::time::ASN1Time::now().timestamp() {
            let subject = distinguished_name(cert.subject());
            return Err(ConfigError::new(
                input,
                format!("{which} ({subject}) expired on {not_after}"),
            ));
        }
    }
    Ok(chain)
}

/// Loads the private key and checks that it belongs to the first certificate of `chain`.
fn certified_key(
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: &[u8],
) -> Result<CertifiedKey, ConfigError> {
    let pem = Pem::parse(key).map_err(|message| ConfigError::new(Input::Key, message))?;
    let Some(der) = pem.private_key() else {
        return Err(ConfigError::new(
            Input::Key,
            pem.missing("a private key (-----BEGIN PRIVATE KEY-----)"),
        ));
    };
    let signing = provider.key_provider.load_private_key(der).map_err(|err| {
        ConfigError::new(Input::Key, format!("the private key cannot be used: {err}"))
    })?;
    let spki = signing.public_key().map(|spki| spki.as_ref().to_vec());
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        // rustls cannot tell for some key types; the first handshake will.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            // A chain in the wrong order is a common mistake, and deserves its own message.
            let later = spki.and_then(|spki| {
                certified
                    .cert
                    .iter()
                    .skip(1)
                    .position(|der| spki_of(der).as_deref() == Some(&spki[..]))
            });
            Err(ConfigError::new(Input::Key, match later {
                Some(i) => format!(
                    "the private key belongs to certificate {} of the chain, but the server's own certificate must come first",
                    i + 2
                ),
                None => "the private key does not match the certificate".to_owned(),
            }))
        }
        Err(err) => Err(ConfigError::new(Input::Cert, err.to_string())),
    }
}

fn spki_of(der: &[u8]) -> Option<Vec<u8>> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, cert)| cert.public_key().raw.to_vec())
}

fn trust_anchors(ca: &[u8]) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    let certs = certificate_chain(Input::Ca, ca)?;
    let count = certs.len();
    for (i, der) in certs.into_iter().enumerate() {
        roots.add(der).map_err(|err| {
            ConfigError::new(
                Input::Ca,
                format!(
                    "certificate {} of {count} cannot be a trust anchor: {err}",
                    i + 1
                ),
            )
        })?;
    }
    Ok(roots)
}

/// How the handshake of one connection ended.
pub enum Handshake<S> {
    /// Ready for HTTP; the subject of the verified client certificate, or empty.
    Done(Box<TlsStream<S>>, String),
    /// The client left without sending a byte, as port probes and health checks do: not worth
    /// a log line (eventlet is silent too).
    Gone,
    /// Why the handshake failed, for the log.
    Failed(String),
}

/// Runs the server side of the handshake on `stream`, for at most `HANDSHAKE_TIMEOUT`.
pub async fn handshake<S: PeekFirst + AsyncRead + AsyncWrite + Unpin>(
    acceptor: &TlsAcceptor,
    stream: S,
) -> Handshake<S> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, run_handshake(acceptor, stream)).await {
        Ok(outcome) => outcome,
        Err(_) => Handshake::Failed(format!(
            "no complete handshake within {} s",
            HANDSHAKE_TIMEOUT.as_secs()
        )),
    }
}

async fn run_handshake<S: PeekFirst + AsyncRead + AsyncWrite + Unpin>(
    acceptor: &TlsAcceptor,
    stream: S,
) -> Handshake<S> {
    // The first byte tells a client that never spoke from one that stopped mid-handshake, and
    // TLS from plain HTTP, which rustls would only call a "corrupt message".
    let first = match stream.peek_first().await {
        Ok(Some(byte)) => byte,
        Ok(None) | Err(_) => return Handshake::Gone,
    };
    match acceptor.accept(stream).await {
        Ok(tls) => {
            let subject = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|der| {
                    X509Certificate::from_der(der)
                        .ok()
                        .map(|(_, cert)| distinguished_name(cert.subject()))
                })
                .unwrap_or_default();
            Handshake::Done(Box::new(tls), subject)
        }
        Err(err) => Handshake::Failed(failure_reason(&err, first)),
    }
}

fn failure_reason(err: &io::Error, first: u8) -> String {
    if first != HANDSHAKE_RECORD {
        return if first.is_ascii_uppercase() {
            "plain HTTP sent to the TLS port".to_owned()
        } else {
            format!("not a TLS ClientHello (first byte 0x{first:02x})")
        };
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof => "the client closed the connection mid-handshake".to_owned(),
        _ => err.to_string(),
    }
}

/// Waits for the first byte of a socket without consuming it: `None` at end of stream.
pub trait PeekFirst {
    fn peek_first(&self) -> impl Future<Output = io::Result<Option<u8>>> + Send;
}

macro_rules! peek_first {
    ($stream:ty) => {
        impl PeekFirst for $stream {
            async fn peek_first(&self) -> io::Result<Option<u8>> {
                let mut byte = [MaybeUninit::<u8>::uninit()];
                loop {
                    self.readable().await?;
                    // `try_io` clears the readiness on WouldBlock, so a spurious wake-up waits again.
                    match self.try_io(Interest::READABLE, || {
                        socket2::SockRef::from(self).peek(&mut byte)
                    }) {
                        Ok(0) => return Ok(None),
                        // SAFETY: `peek` initialised the one byte it reported.
                        Ok(_) => return Ok(Some(unsafe { byte[0].assume_init() })),
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(err) => return Err(err),
                    }
                }
            }
        }
    };
}

peek_first!(TcpStream);
#[cfg(unix)]
peek_first!(UnixStream);
