// connect()'s TLS (MySQL's --ssl-mode) against a private MariaDB 10.11 that requires secure
// transport, a second one without TLS, and scripted TLS servers for what no healthy server does
// (a certificate for another name, bytes before the TLS handshake, a handshake that never ends).
import { execFile } from 'child_process';
import fs from 'fs';
import net from 'net';
import tls from 'tls';
import { promisify } from 'util';

import { ClientConnection, connect, ConnectOptions } from '../../lib/client/connect';
import { Capability } from '../../lib/protocol/constants';
import { buildHandshakeV10, isSslRequest, parseHandshakeResponse41 } from '../../lib/protocol/handshake';
import { buildOk } from '../../lib/protocol/responses';
import { PacketChannel } from '../../lib/transport/packet-channel';
import { queryRows } from '../helpers/client-session';
import { MariadbInstance, startMariadbs } from '../helpers/mariadb';
import { close, listen } from '../helpers/sockets';
import { makeTestCertificates, TestCertificates } from '../helpers/tls-certs';

jest.setTimeout(60_000);

let certs: TestCertificates;
let db: MariadbInstance; // TLS, require_secure_transport=ON
let plain: MariadbInstance; // no TLS at all
let ca: Buffer;
let otherCa: Buffer;
const open: ClientConnection[] = [];

beforeAll(async () => {
  certs = makeTestCertificates();
  ca = fs.readFileSync(certs.ca);
  otherCa = fs.readFileSync(certs.otherCa);
  [db, plain] = await startMariadbs(
    { tcp: true, plugins: ['auth_ed25519'], extraArgs: [...certs.mariadbArgs, '--require-secure-transport=ON'] },
    { tcp: true },
  );
  for (const server of [db, plain]) {
    await server.query("CREATE USER 'native'@'%' IDENTIFIED BY 'native-secret'");
    await server.query("GRANT USAGE ON *.* TO 'native'@'%'");
  }
  await db.query("CREATE USER 'x509'@'%' IDENTIFIED BY 'x509-secret' REQUIRE X509");
  // auth_ed25519 ships with Debian's mariadb-server, which the tests install.
  await db.query("CREATE USER 'ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-secret')");
});

afterEach(() => {
  for (const connection of open.splice(0)) connection.socket.destroy();
});

afterAll(async () => {
  await Promise.all([db?.stop(), plain?.stop()]);
  certs?.remove();
});

async function login(options: Partial<ConnectOptions>): Promise<ClientConnection> {
  const connection = await connect({ host: '127.0.0.1', port: db.port, user: 'native', password: 'native-secret', timeout: 10_000, ...options });
  open.push(connection);
  return connection;
}

async function sslVersion(connection: ClientConnection): Promise<string | null> {
  const rows = await queryRows(connection, "SHOW STATUS LIKE 'Ssl_version'");
  return rows[0][1];
}

describe('ssl modes against MariaDB with require_secure_transport', () => {
  it('PREFERRED (the default) uses TLS over TCP, the session included', async () => {
    const connection = await login({});
    expect(connection.tls).toBe(true);
    expect(connection.socket).toBeInstanceOf(tls.TLSSocket);
    expect(connection.capabilities & Capability.SSL).toBe(Capability.SSL);
    expect(await sslVersion(connection)).toMatch(/^TLSv1\.[23]$/);
  });

  it('REQUIRED takes a certificate no CA of ours signed (encryption without identity, as MySQL)', async () => {
    const connection = await login({ sslMode: 'REQUIRED' });
    expect(connection.tls).toBe(true);
    expect(await sslVersion(connection)).toMatch(/^TLSv1\.[23]$/);
  });

  it('REQUIRED with a wrong CA still connects, verifying nothing, and warns once', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      await login({ sslMode: 'REQUIRED', ssl: { ca: otherCa } });
      await login({ sslMode: 'PREFERRED', ssl: { ca: otherCa } });
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning.mock.calls[0][0]).toMatch(/no verification of server certificate will be done/);
      expect(emitWarning.mock.calls[0][1]).toMatchObject({ code: 'AUTH_SOCKET_SSL_CA_IGNORED' });
    } finally {
      emitWarning.mockRestore();
    }
  });

  it("DISABLED never asks for TLS: the server refuses the login itself, as it refuses mariadb --skip-ssl", async () => {
    const cli = await promisify(execFile)('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${db.port}`, '--skip-ssl', '-unative', '-pnative-secret', '-e', 'SELECT 1']).then(
      () => null,
      (error: { stderr: string }) => error.stderr.trim(),
    );
    // MariaDB 10.11 answers an insecure login under require_secure_transport with a plain 1045.
    expect(cli).toMatch(/^ERROR 1045 \(28000\): Access denied/);
    const error = await login({ sslMode: 'DISABLED' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_SERVER_ERROR', errno: 1045, sqlState: '28000' });
    expect(cli).toBe(`ERROR 1045 (28000): ${error.message}`);
  });

  it('VERIFY_CA passes with the CA that signed the certificate, whatever name is asked for', async () => {
    const connection = await login({ sslMode: 'VERIFY_CA', ssl: { ca, servername: 'db.example.com' } });
    expect(connection.tls).toBe(true);
    expect(await sslVersion(connection)).toMatch(/^TLSv1/);
  });

  it('VERIFY_CA with another CA fails with 2026, the TLS reason in the message and the TLS error as cause', async () => {
    const error = await login({ sslMode: 'VERIFY_CA', ssl: { ca: otherCa } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026 });
    expect(error.message).toMatch(/^SSL connection error: .+/);
    // Node's own verification error (errors from Node's realm fail jest's instanceof Error).
    expect(error.cause).toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: expect.any(String) });
    expect(error.message).toBe(`SSL connection error: ${error.cause.message}`);
  });

  it('a CA without sslMode means VERIFY_CA, as MySQL reads --ssl-ca alone', async () => {
    await expect(login({ ssl: { ca: otherCa } })).rejects.toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026 });
    const connection = await login({ ssl: { ca } });
    expect(connection.tls).toBe(true);
  });

  it('VERIFY_IDENTITY passes for 127.0.0.1 and for localhost, both in the certificate', async () => {
    const byIp = await login({ sslMode: 'VERIFY_IDENTITY', ssl: { ca } });
    expect(await sslVersion(byIp)).toMatch(/^TLSv1/);
    const byName = await login({ host: 'localhost', sslMode: 'VERIFY_IDENTITY', ssl: { ca } });
    expect(byName.tls).toBe(true);
    // servername names what is checked in place of host.
    const named = await login({ sslMode: 'VERIFY_IDENTITY', ssl: { ca, servername: 'localhost' } });
    expect(named.tls).toBe(true);
  });

  it('VERIFY_IDENTITY fails with 2026 when the certificate does not name the host', async () => {
    const error = await login({ sslMode: 'VERIFY_IDENTITY', ssl: { ca, servername: 'db.example.com' } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026 });
    expect(error.cause).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(error.message).toMatch(/^SSL connection error: /);
  });

  it('VERIFY_CA or VERIFY_IDENTITY without a CA is refused with 2026 before connecting, as MySQL', async () => {
    for (const sslMode of ['VERIFY_CA', 'VERIFY_IDENTITY'] as const) {
      await expect(login({ sslMode })).rejects.toMatchObject({
        code: 'ERR_SSL_CONNECTION',
        errno: 2026,
        message: 'SSL connection error: CA certificate is required if ssl-mode is VERIFY_CA or VERIFY_IDENTITY',
      });
    }
  });

  it('over a Unix socket PREFERRED stays in clear; REQUIRED encrypts it', async () => {
    const clear = await login({ host: undefined, port: undefined, socketPath: db.socketPath });
    expect(clear.tls).toBe(false);
    expect(clear.capabilities & Capability.SSL).toBe(0);
    expect(await sslVersion(clear)).toBe('');
    const encrypted = await login({ host: undefined, port: undefined, socketPath: db.socketPath, sslMode: 'REQUIRED' });
    expect(encrypted.tls).toBe(true);
    expect(await sslVersion(encrypted)).toMatch(/^TLSv1/);
  });

  it('sends the client certificate an account that REQUIREs X509 needs', async () => {
    const ssl = { ca, cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) };
    const connection = await login({ user: 'x509', password: 'x509-secret', sslMode: 'VERIFY_IDENTITY', ssl });
    expect(await sslVersion(connection)).toMatch(/^TLSv1/);
    await expect(login({ user: 'x509', password: 'x509-secret', sslMode: 'VERIFY_IDENTITY', ssl: { ca } })).rejects.toMatchObject({
      code: 'ERR_SERVER_ERROR',
      errno: 1045,
    });
  });

  it('an auth switch after TLS (client_ed25519) runs inside TLS', async () => {
    const connection = await login({ user: 'ed', password: 'ed-secret', sslMode: 'VERIFY_IDENTITY', ssl: { ca } });
    expect(connection.plugin).toBe('client_ed25519');
    expect(await sslVersion(connection)).toMatch(/^TLSv1/);
  });

  it('asks for the capabilities and character set it is given, cut down by the server', async () => {
    const asked = Capability.LONG_PASSWORD | Capability.PLUGIN_AUTH | Capability.MULTI_STATEMENTS | Capability.COMPRESS | Capability.SSL | Capability.DEPRECATE_EOF;
    const connection = await login({ capabilities: asked, characterSet: 8 /* latin1_swedish_ci */, sslMode: 'DISABLED', host: undefined, port: undefined, socketPath: db.socketPath });
    expect(connection.capabilities & Capability.MULTI_STATEMENTS).toBe(Capability.MULTI_STATEMENTS);
    expect(connection.capabilities & (Capability.COMPRESS | Capability.SSL | Capability.CONNECT_WITH_DB)).toBe(0);
    expect(connection.capabilities & (Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION)).toBe(Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION);
    const rows = await queryRows(connection, 'SELECT @@character_set_client, @@collation_connection');
    expect(rows).toEqual([['latin1', 'latin1_swedish_ci']]);
  });
});

describe('a server without TLS', () => {
  const options = (extra: Partial<ConnectOptions>) => ({ host: '127.0.0.1', port: plain.port, user: 'native', password: 'native-secret', ...extra });

  it('PREFERRED falls back to clear text', async () => {
    const connection = await connect(options({}));
    open.push(connection);
    expect(connection.tls).toBe(false);
    expect(connection.socket).not.toBeInstanceOf(tls.TLSSocket);
  });

  it.each(['REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const)('%s fails with 2026, as MySQL words it', async (sslMode) => {
    await expect(connect(options({ sslMode, ssl: { ca } }))).rejects.toMatchObject({
      code: 'ERR_SSL_CONNECTION',
      errno: 2026,
      message: "SSL connection error: SSL is required but the server doesn't support it",
    });
  });
});

describe('scripted TLS servers', () => {
  let server: net.Server;
  let port: number;
  let script: (raw: net.Socket, channel: PacketChannel) => Promise<void>;
  const peers = new Set<net.Socket>();

  beforeAll(async () => {
    server = net.createServer((raw) => {
      peers.add(raw);
      raw.on('error', () => {});
      raw.on('close', () => peers.delete(raw));
      script(raw, new PacketChannel(raw)).catch(() => raw.destroy());
    });
    await listen(server, { port: 0, host: '127.0.0.1' });
    port = (server.address() as net.AddressInfo).port;
  });
  afterEach(() => {
    for (const peer of peers) peer.destroy();
  });
  afterAll(() => close(server));

  const greeting = () =>
    buildHandshakeV10({
      serverVersion: '8.0.0-scripted',
      connectionId: 1,
      authPluginData: Buffer.from('0123456789abcdefghij'),
      capabilities: Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.SSL,
      characterSet: 45,
      statusFlags: 2,
      authPluginName: 'mysql_native_password',
    });

  // Greets, reads the SSLRequest, then serves TLS with `cert` on the same socket.
  async function startTlsServer(raw: net.Socket, channel: PacketChannel, cert: string, key: string) {
    await channel.write(greeting());
    const request = await channel.read();
    expect(isSslRequest(request)).toBe(true);
    const sequenceId = channel.sequenceId;
    raw.unshift(channel.detach());
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }) });
    secure.on('error', () => {});
    await new Promise((resolve) => secure.once('secure', resolve));
    return { secure, channel: new PacketChannel(secure, { sequenceId }) };
  }

  const target = (extra: Partial<ConnectOptions>): ConnectOptions => ({ host: '127.0.0.1', port, user: 'u', timeout: 5_000, ...extra });

  it('VERIFY_IDENTITY refuses a good chain for another name; VERIFY_CA takes it', async () => {
    script = async (raw, channel) => {
      const { channel: inside } = await startTlsServer(raw, channel, certs.otherNameCert, certs.otherNameKey);
      const response = parseHandshakeResponse41(await inside.read());
      expect(response.capabilities & Capability.SSL).toBe(Capability.SSL);
      await inside.write(buildOk({}));
    };
    const error = await connect(target({ sslMode: 'VERIFY_IDENTITY', ssl: { ca } })).catch((e) => e);
    expect(error).toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026, cause: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    const connection = await connect(target({ sslMode: 'VERIFY_CA', ssl: { ca } }));
    connection.socket.destroy();
    expect(connection.tls).toBe(true);
  });

  it('sends the response inside TLS with sequence 2 and returns the bytes after the OK from the TLS channel', async () => {
    const after = Buffer.from([5, 0, 0, 0, 0x03, 0x53, 0x45, 0x4c, 0x31]);
    script = async (raw, channel) => {
      const { secure, channel: inside } = await startTlsServer(raw, channel, certs.serverCert, certs.serverKey);
      expect(inside.sequenceId).toBe(2);
      const response = parseHandshakeResponse41(await inside.read());
      expect(response.user).toBe('u');
      expect(inside.sequenceId).toBe(3);
      const ok = buildOk({});
      // OK (sequence 3) and the next bytes in one TLS write.
      secure.write(Buffer.concat([Buffer.from([ok.length, 0, 0, 3]), ok, after]));
    };
    const connection = await connect(target({ sslMode: 'VERIFY_IDENTITY', ssl: { ca } }));
    connection.socket.destroy();
    expect(connection.leftover).toEqual(after);
  });

  it('refuses a server that sends anything between the SSLRequest and TLS', async () => {
    script = async (raw) => {
      raw.write(Buffer.concat([Buffer.from([greeting().length, 0, 0, 0]), greeting(), Buffer.from([1, 0, 0, 2, 0])]));
    };
    await expect(connect(target({ sslMode: 'REQUIRED' }))).rejects.toMatchObject({ code: 'ERR_MALFORMED_PACKET' });
  });

  it('a TLS handshake that never finishes ends at the timeout', async () => {
    script = async (_raw, channel) => {
      await channel.write(greeting());
      await channel.read();
      // ... and never answers the ClientHello.
    };
    const started = Date.now();
    await expect(connect(target({ sslMode: 'REQUIRED', timeout: 300 }))).rejects.toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a server that hangs up instead of TLS gives 2026', async () => {
    script = async (raw, channel) => {
      await channel.write(greeting());
      await channel.read();
      raw.destroy();
    };
    await expect(connect(target({ sslMode: 'PREFERRED' }))).rejects.toMatchObject({ code: 'ERR_SSL_CONNECTION', errno: 2026 });
  });
});

describe('TLS options are checked before connecting', () => {
  const base: ConnectOptions = { host: '127.0.0.1', port: 1, user: 'u' };
  it.each([
    [{ sslMode: 'required' }, 'ERR_INVALID_ARG_VALUE'],
    [{ ssl: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    [{ ssl: { ca: 42 } }, 'ERR_INVALID_ARG_TYPE'],
    [{ ssl: { ca: [] } }, 'ERR_INVALID_ARG_TYPE'],
    [{ ssl: { cert: 'x' } }, 'ERR_INVALID_ARG_VALUE'],
    [{ ssl: { servername: '' } }, 'ERR_INVALID_ARG_TYPE'],
    [{ capabilities: -1 }, 'ERR_INVALID_ARG_VALUE'],
    [{ capabilities: 2 ** 32 }, 'ERR_INVALID_ARG_VALUE'],
    [{ characterSet: 0 }, 'ERR_INVALID_ARG_VALUE'],
    [{ characterSet: 256 }, 'ERR_INVALID_ARG_VALUE'],
  ])('%j -> %s', async (extra, code) => {
    await expect(connect({ ...base, ...(extra as object) })).rejects.toMatchObject({ code });
  });
});
