// The proxy tests' upstream: a private MariaDB 10.11 with TLS from certificates of the test's own
// CA, require_secure_transport=ON (as managed services run), performance_schema on (for
// session_connect_attrs), LOCAL INFILE allowed and room for packets over 16 MiB; with the upstream
// accounts the tests map to: app (all privileges) and reporter (SELECT).
import crypto from 'crypto';

import { MariadbInstance, startMariadb } from './mariadb';
import { makeTestCertificates, TestCertificates } from './tls-certs';

export interface TlsUpstream {
  db: MariadbInstance;
  certs: TestCertificates;
  appPassword: string;
  reporterPassword: string;
  stop(): Promise<void>;
}

export async function startTlsUpstream(): Promise<TlsUpstream> {
  const certs = makeTestCertificates();
  const appPassword = 'app-secret-' + crypto.randomBytes(6).toString('hex');
  const reporterPassword = 'reporter-' + crypto.randomBytes(6).toString('hex');
  let db: MariadbInstance;
  try {
    db = await startMariadb({
      tcp: true,
      extraArgs: [...certs.mariadbArgs, '--require-secure-transport=ON', '--performance-schema=ON', '--max-allowed-packet=80M', '--local-infile=1'],
    });
  } catch (error) {
    certs.remove();
    throw error;
  }
  await db.query(`CREATE USER 'app'@'%' IDENTIFIED BY '${appPassword}'`);
  await db.query(`GRANT ALL ON *.* TO 'app'@'%'`);
  await db.query(`CREATE USER 'reporter'@'%' IDENTIFIED BY '${reporterPassword}'`);
  await db.query(`GRANT SELECT ON *.* TO 'reporter'@'%'`);
  return {
    db,
    certs,
    appPassword,
    reporterPassword,
    stop: async () => {
      await db.stop();
      certs.remove();
    },
  };
}
