//! Errors from binding a socket, worded like Node's: `EADDRINUSE: address already in use …`.
//!
//! The TypeScript layer copies the leading errno name into `err.code`, so users can test
//! `err.code === 'EADDRINUSE'` exactly as with `net.Server`. On Unix the name comes from the
//! errno itself; Windows reports WSA error numbers instead, which std sorts into the same kinds.

use std::io;

pub fn bind_error(err: &io::Error, address: &str) -> napi::Error {
    let (code, text) = describe(err);
    napi::Error::from_reason(format!("{code}: {text} {address}"))
}

fn describe(err: &io::Error) -> (&'static str, String) {
    let code = match os_code(err) {
        Some(code) => code,
        None => match err.kind() {
            io::ErrorKind::NotFound => "ENOTFOUND",
            _ => "EIO",
        },
    };
    let text = match code {
        "EADDRINUSE" => "address already in use".to_owned(),
        "EADDRNOTAVAIL" => "address not available".to_owned(),
        "EACCES" | "EPERM" => "permission denied".to_owned(),
        "ENOTFOUND" => "host not found".to_owned(),
        _ => strip_os_suffix(&err.to_string()),
    };
    (code, text)
}

/// The errno name of an error from the OS, for the errors binding can meet.
#[cfg(unix)]
fn os_code(err: &io::Error) -> Option<&'static str> {
    Some(match err.raw_os_error()? {
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EINVAL => "EINVAL",
        libc::ENOENT => "ENOENT",
        libc::ENOTDIR => "ENOTDIR",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        _ => return None,
    })
}

/// Windows has no errno for sockets: std maps its WSA error numbers (WSAEADDRINUSE 10048,
/// WSAEADDRNOTAVAIL 10049, WSAEACCES 10013, WSAEINVAL 10022) to these kinds.
#[cfg(not(unix))]
fn os_code(err: &io::Error) -> Option<&'static str> {
    err.raw_os_error()?;
    Some(match err.kind() {
        io::ErrorKind::AddrInUse => "EADDRINUSE",
        io::ErrorKind::AddrNotAvailable => "EADDRNOTAVAIL",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::InvalidInput => "EINVAL",
        _ => return None,
    })
}

/// `io::Error` prints "Invalid argument (os error 22)"; the errno name already says that part.
fn strip_os_suffix(text: &str) -> String {
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text.to_lowercase(),
    }
}
