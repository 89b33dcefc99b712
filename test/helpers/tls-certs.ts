// A throwaway PKI for the TLS tests, made with the openssl CLI in a temporary directory at run
// time, so that no private key is ever committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM text. */
export interface Issued {
  certfile: string;
  keyfile: string;
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The root every server certificate chains to; clients trust only this one. */
  root: Issued;
  /** An intermediate CA under `root`. */
  intermediate: Issued;
  /** Server certificates for localhost and 127.0.0.1, issued by `root`. */
  server: {
    rsaPkcs8: Issued;
    rsaPkcs1: Issued;
    ecdsaSec1: Issued;
    ecdsaPkcs8: Issued;
    /** Issued by `intermediate`; its certfile holds the leaf, then the intermediate. */
    chained: Issued;
    /** Valid in 2020 only. */
    expired: Issued;
  };
  /** The CA of client certificates, separate from the servers' root. */
  clientCa: Issued;
  /** Subject `/O=ferrowsgi tests/CN=client, number 1`, issued by `clientCa`. */
  client: Issued;
  /** A client certificate from a CA the server does not trust. */
  strangerClient: Issued;
  /** Misuse inputs. */
  files: {
    /** `server.rsaPkcs8`'s certificate in DER. */
    derCert: string;
    /** Text that is not PEM. */
    notPem: string;
    /** `server.rsaPkcs8`'s key, encrypted with a passphrase. */
    encryptedKey: string;
    /** The same key encrypted the legacy OpenSSL way (`Proc-Type: 4,ENCRYPTED` in the PEM). */
    legacyEncryptedKey: string;
    /** The `chained` chain in the wrong order: intermediate first. */
    reversedChain: string;
  };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issued(dir: string, name: string): Issued {
  const certfile = join(dir, `${name}.crt`);
  const keyfile = join(dir, `${name}.key`);
  return { certfile, keyfile, cert: readFileSync(certfile, 'utf8'), key: readFileSync(keyfile, 'utf8') };
}

type KeyKind = 'rsa' | 'ec';

/** A PKCS#8 key (`-----BEGIN PRIVATE KEY-----`). */
function newKey(dir: string, name: string, kind: KeyKind): void {
  const algorithm = kind === 'rsa' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(dir, ['genpkey', ...algorithm, '-out', `${name}.key`]);
}

function selfSignedCa(dir: string, name: string, subject: string): Issued {
  newKey(dir, name, 'ec');
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', `${name}.crt`,
  ]);
  return issued(dir, name);
}

/** Issues `name` (a key of `kind` made here) under `issuer`, with the given X.509 extensions. */
function issue(dir: string, name: string, kind: KeyKind, subject: string, issuer: string, extensions: string): Issued {
  newKey(dir, name, kind);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`,
  ]);
  return issued(dir, name);
}

const SERVER_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n';
const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
const CA_EXT = 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n';

/** A server certificate valid only on 1-2 January 2020: `openssl ca` is the CLI that sets past dates. */
function expiredServer(dir: string, issuer: string): Issued {
  const name = 'expired';
  newKey(dir, name, 'ec');
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', '/CN=expired.test', '-out', `${name}.csr`]);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = ca_default\n[ca_default]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n' +
      'default_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n',
  );
  openssl(dir, [
    'ca', '-batch', '-config', 'ca.cnf', '-cert', `${issuer}.crt`, '-keyfile', `${issuer}.key`, '-in', `${name}.csr`,
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-notext', '-out', `${name}.crt`,
  ]);
  return issued(dir, name);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ferrowsgi-tls-'));
  const root = selfSignedCa(dir, 'root', '/O=ferrowsgi tests/CN=ferrowsgi test root');
  const intermediate = issue(dir, 'intermediate', 'ec', '/O=ferrowsgi tests/CN=ferrowsgi test intermediate', 'root', CA_EXT);

  const rsaPkcs8 = issue(dir, 'rsa-pkcs8', 'rsa', '/CN=localhost', 'root', SERVER_EXT);
  issue(dir, 'rsa-pkcs1', 'rsa', '/CN=localhost', 'root', SERVER_EXT);
  openssl(dir, ['rsa', '-in', 'rsa-pkcs1.key', '-traditional', '-out', 'rsa-pkcs1.key']);
  const ecdsaPkcs8 = issue(dir, 'ecdsa-pkcs8', 'ec', '/CN=localhost', 'root', SERVER_EXT);
  issue(dir, 'ecdsa-sec1', 'ec', '/CN=localhost', 'root', SERVER_EXT);
  openssl(dir, ['ec', '-in', 'ecdsa-sec1.key', '-out', 'ecdsa-sec1.key']);
  const leaf = issue(dir, 'chained', 'ec', '/CN=localhost', 'intermediate', SERVER_EXT);
  writeFileSync(leaf.certfile, leaf.cert + intermediate.cert);
  const expired = expiredServer(dir, 'root');

  const clientCa = selfSignedCa(dir, 'client-ca', '/O=ferrowsgi tests/CN=ferrowsgi client CA');
  const client = issue(dir, 'client', 'ec', '/O=ferrowsgi tests/CN=client, number 1', 'client-ca', CLIENT_EXT);
  selfSignedCa(dir, 'stranger-ca', '/CN=stranger CA');
  const strangerClient = issue(dir, 'stranger', 'ec', '/CN=stranger', 'stranger-ca', CLIENT_EXT);

  openssl(dir, ['x509', '-in', 'rsa-pkcs8.crt', '-outform', 'der', '-out', 'cert.der']);
  writeFileSync(join(dir, 'not-pem.txt'), 'this is a certificate, honestly\n');
  openssl(dir, ['pkey', '-in', 'rsa-pkcs8.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.key']);
  openssl(dir, ['rsa', '-in', 'rsa-pkcs8.key', '-des3', '-traditional', '-passout', 'pass:secret', '-out', 'legacy-encrypted.key']);
  writeFileSync(join(dir, 'reversed-chain.crt'), intermediate.cert + leaf.cert);

  return {
    dir,
    root,
    intermediate,
    server: {
      rsaPkcs8,
      rsaPkcs1: issued(dir, 'rsa-pkcs1'),
      ecdsaSec1: issued(dir, 'ecdsa-sec1'),
      ecdsaPkcs8,
      chained: issued(dir, 'chained'),
      expired,
    },
    clientCa,
    client,
    strangerClient,
    files: {
      derCert: join(dir, 'cert.der'),
      notPem: join(dir, 'not-pem.txt'),
      encryptedKey: join(dir, 'encrypted.key'),
      legacyEncryptedKey: join(dir, 'legacy-encrypted.key'),
      reversedChain: join(dir, 'reversed-chain.crt'),
    },
  };
}

export function removeTestPki(pki: TestPki | undefined): void {
  if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
}
