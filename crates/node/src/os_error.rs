//! Errors from binding a socket, worded like Node's: `EADDRINUSE: address already in use …`.
//!
//! The TypeScript layer copies the leading errno name into `err.code`, so users can test
//! `err.code === 'EADDRINUSE'` exactly as with `net.Server`.

use std::io;

pub fn bind_error(err: &io::Error, address: &str) -> napi::Error {
    let (code, text) = describe(err);
    napi::Error::from_reason(format!("{code}: {text} {address}"))
}

fn describe(err: &io::Error) -> (&'static str, String) {
    let code = match err.raw_os_error() {
        Some(libc::EADDRINUSE) => "EADDRINUSE",
        Some(libc::EADDRNOTAVAIL) => "EADDRNOTAVAIL",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EPERM) => "EPERM",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::ENOTDIR) => "ENOTDIR",
        Some(libc::EAFNOSUPPORT) => "EAFNOSUPPORT",
        _ => match err.kind() {
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

/// `io::Error` prints "Invalid argument (os error 22)"; the errno name already says that part.
fn strip_os_suffix(text: &str) -> String {
    match text.find(" (os error") {
        Some(at) => text[..at].to_lowercase(),
        None => text.to_lowercase(),
    }
}
