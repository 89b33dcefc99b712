//! PEM input read whole, so that an error can say what the input holds instead of what it
//! lacks: a key where a certificate belongs, an encrypted key, or no PEM at all (DER, say).

use rustls_pki_types::pem::{self, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The header of a PEM section encrypted the legacy OpenSSL way (RFC 1421).
const LEGACY_ENCRYPTED: &[u8] = b"Proc-Type: 4,ENCRYPTED";

pub struct Pem {
    sections: Vec<(SectionKind, Vec<u8>)>,
    /// PEM sections rustls has no use for, by label ("ENCRYPTED PRIVATE KEY", "EC PARAMETERS").
    others: Vec<String>,
}

/// What to say of a private key that is encrypted, in either PEM form.
const ENCRYPTED_KEY: &str =
    "the private key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)";

impl Pem {
    pub fn parse(bytes: &[u8]) -> Result<Pem, String> {
        // OpenSSL's legacy encryption (`openssl rsa -des3 -traditional`, `openssl ec -aes128`)
        // puts headers inside the key's section, which the PEM reader takes for bad base64.
        if bytes
            .windows(LEGACY_ENCRYPTED.len())
            .any(|window| window == LEGACY_ENCRYPTED)
        {
            return Err(ENCRYPTED_KEY.to_owned());
        }
        let mut sections = Vec::new();
        let mut rest = bytes;
        loop {
            match pem::from_buf(&mut rest) {
                Ok(Some(section)) => sections.push(section),
                Ok(None) => break,
                Err(err) => return Err(format!("malformed PEM: {}", describe(&err))),
            }
        }
        Ok(Pem {
            sections,
            others: other_labels(bytes),
        })
    }

    pub fn certificates(&self) -> Vec<CertificateDer<'static>> {
        self.sections
            .iter()
            .filter(|(kind, _)| *kind == SectionKind::Certificate)
            .map(|(_, der)| CertificateDer::from(der.clone()))
            .collect()
    }

    /// The first private key, whichever of the three encodings it is in.
    pub fn private_key(&self) -> Option<PrivateKeyDer<'static>> {
        self.sections.iter().find_map(|(kind, der)| match kind {
            SectionKind::PrivateKey => Some(PrivateKeyDer::Pkcs8(der.clone().into())),
            SectionKind::RsaPrivateKey => Some(PrivateKeyDer::Pkcs1(der.clone().into())),
            SectionKind::EcPrivateKey => Some(PrivateKeyDer::Sec1(der.clone().into())),
            _ => None,
        })
    }

    /// The message for input that lacks `wanted`, naming what it holds instead.
    pub fn missing(&self, wanted: &str) -> String {
        if self
            .others
            .iter()
            .any(|label| label == "ENCRYPTED PRIVATE KEY")
        {
            return ENCRYPTED_KEY.to_owned();
        }
        let mut found: Vec<String> = self
            .sections
            .iter()
            .map(|(kind, _)| label(*kind).to_owned())
            .collect();
        found.extend(self.others.iter().cloned());
        found.dedup();
        if found.is_empty() {
            format!("no PEM data, expected {wanted}; a DER file can be converted with `openssl x509 -inform der` or `openssl pkey -inform der`")
        } else {
            format!("expected {wanted}, found only {}", found.join(", "))
        }
    }
}

fn label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        SectionKind::EchConfigList => "ECHCONFIG",
        _ => "an unknown PEM section",
    }
}

/// Labels of `-----BEGIN X-----` lines that `pem::from_buf` skips.
fn other_labels(bytes: &[u8]) -> Vec<String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut labels = Vec::new();
    let mut at = 0;
    while let Some(offset) = find(&bytes[at..], BEGIN) {
        let start = at + offset + BEGIN.len();
        let Some(end) = find(&bytes[start..], b"-----") else {
            break;
        };
        let text = String::from_utf8_lossy(&bytes[start..start + end]).into_owned();
        let known = matches!(
            text.as_str(),
            "CERTIFICATE"
                | "PUBLIC KEY"
                | "RSA PRIVATE KEY"
                | "PRIVATE KEY"
                | "EC PRIVATE KEY"
                | "X509 CRL"
                | "CERTIFICATE REQUEST"
                | "ECHCONFIG"
        );
        if !known {
            labels.push(text);
        }
        at = start + end;
    }
    labels
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// `pem::Error` shows the offending lines as byte arrays; people read text.
fn describe(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "no -----END {}----- line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("bad section start {:?}", String::from_utf8_lossy(line))
        }
        other => other.to_string(),
    }
}
