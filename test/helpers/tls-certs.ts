// Test certificates made with the real openssl CLI: a CA of the test's own, a server certificate it
// signed for localhost and 127.0.0.1, another it signed for a name no test connects to, a client
// certificate, and a second CA that signed nothing here (the "wrong CA"). Files live in a temp dir
// readable by every OS user (mariadbd may run as another user); remove() deletes it.
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Signed by `ca` for db.example.com only: good chain, wrong name for localhost and 127.0.0.1. */
  otherNameCert: string;
  otherNameKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed none of the above. */
  otherCa: string;
  /** mariadbd arguments that turn TLS on with these files. */
  mariadbArgs: string[];
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
}

function makeSigned(dir: string, name: string, ca: string, subjectAltName: string | null): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], dir);
  const extensions = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extensions, subjectAltName === null ? 'basicConstraints=CA:FALSE\n' : `basicConstraints=CA:FALSE\nsubjectAltName=${subjectAltName}\n`);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', extensions, '-out', `${name}-cert.pem`],
    dir,
  );
}

export function makeTestCertificates(): TestCertificates {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-certs-'));
  fs.chmodSync(dir, 0o755);
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  makeSigned(dir, 'server', 'test-ca', 'DNS:localhost,IP:127.0.0.1');
  makeSigned(dir, 'other-name', 'test-ca', 'DNS:db.example.com');
  makeSigned(dir, 'client', 'test-ca', null);
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: file('test-ca.pem'),
    serverCert: file('server-cert.pem'),
    serverKey: file('server-key.pem'),
    otherNameCert: file('other-name-cert.pem'),
    otherNameKey: file('other-name-key.pem'),
    clientCert: file('client-cert.pem'),
    clientKey: file('client-key.pem'),
    otherCa: file('other-ca.pem'),
    mariadbArgs: [`--ssl-ca=${file('test-ca.pem')}`, `--ssl-cert=${file('server-cert.pem')}`, `--ssl-key=${file('server-key.pem')}`],
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
