// Accounts: CREATE / ALTER / DROP USER semantics and MySQL's host matching for the peers we serve.
import { Accounts } from '../../lib/server/catalog/accounts';
import { nativePasswordHash } from '../../lib/auth/native-password';

describe('Accounts', () => {
  it('stores a password as the mysql_native_password hash, never in clear', () => {
    const accounts = new Accounts();
    const account = accounts.create({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', password: 's3cret' });
    expect(account).toEqual({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', authenticationString: nativePasswordHash('s3cret') });
    expect(account.authenticationString).toMatch(/^\*[0-9A-F]{40}$/);
    expect(Object.isFrozen(account)).toBe(true);
  });

  it('refuses duplicates, missing accounts and contradictory specs with codes', () => {
    const accounts = new Accounts();
    accounts.create({ user: 'a', host: 'LocalHost', plugin: 'auth_socket' });
    expect(() => accounts.create({ user: 'a', host: 'localhost', plugin: 'auth_socket' })).toThrow(
      expect.objectContaining({ code: 'ERR_ACCOUNT_EXISTS' }),
    );
    expect(() => accounts.alter({ user: 'b', host: 'localhost', plugin: 'auth_socket' })).toThrow(
      expect.objectContaining({ code: 'ERR_NO_SUCH_ACCOUNT' }),
    );
    expect(() => accounts.drop('b', 'localhost')).toThrow(expect.objectContaining({ code: 'ERR_NO_SUCH_ACCOUNT' }));
    expect(() => accounts.create({ user: 'c', host: 'localhost', plugin: 'auth_socket', password: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() =>
      accounts.create({ user: 'c', host: 'localhost', plugin: 'mysql_native_password', password: 'x', authenticationString: '*00' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const user of ['', 'a\0b', 'x'.repeat(33), '\ud800']) {
      expect(() => accounts.create({ user, host: 'localhost', plugin: 'auth_socket' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
    expect(() => accounts.create({ user: 42 as unknown as string, host: 'localhost', plugin: 'auth_socket' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('alter replaces plugin and authentication string; drop removes the account', () => {
    const accounts = new Accounts();
    accounts.create({ user: 'valerie', host: 'localhost', plugin: 'auth_socket' });
    accounts.alter({ user: 'valerie', host: 'localhost', plugin: 'auth_socket', authenticationString: 'stephanie' });
    expect(accounts.find('valerie', 'localhost')?.authenticationString).toBe('stephanie');
    accounts.drop('valerie', 'LOCALHOST');
    expect(accounts.find('valerie', 'localhost')).toBeNull();
  });

  it("matches 'localhost' to Unix-socket peers only and IPs or patterns to TCP peers", () => {
    const accounts = new Accounts();
    accounts.create({ user: 'u', host: 'localhost', plugin: 'auth_socket' });
    accounts.create({ user: 'u', host: '10.0.0.%', plugin: 'mysql_native_password' });
    accounts.create({ user: 'u', host: '10.0.0.7', plugin: 'auth_simple' });
    accounts.create({ user: 'v', host: '%', plugin: 'auth_socket' });
    expect(accounts.find('u', 'localhost')?.host).toBe('localhost');
    expect(accounts.find('u', '127.0.0.1')).toBeNull();
    expect(accounts.find('u', '10.0.0.7')?.host).toBe('10.0.0.7'); // literal before pattern
    expect(accounts.find('u', '10.0.0.8')?.host).toBe('10.0.0.%');
    expect(accounts.find('u', '10.0.1.8')).toBeNull();
    expect(accounts.find('v', 'localhost')?.host).toBe('%');
    expect(accounts.find('v', '::1')?.host).toBe('%');
  });

  it('compares user names exactly: no case folding, no trimming', () => {
    const accounts = new Accounts();
    accounts.create({ user: 'Nobody', host: '%', plugin: 'auth_socket' });
    expect(accounts.find('nobody', 'localhost')).toBeNull();
    expect(accounts.find('Nobody ', 'localhost')).toBeNull();
    expect(accounts.find('Nobody', 'localhost')?.user).toBe('Nobody');
  });

  it("treats '.' in a host pattern literally, not as a regex wildcard", () => {
    const accounts = new Accounts();
    accounts.create({ user: 'u', host: '10.0.0._', plugin: 'auth_socket' });
    expect(accounts.find('u', '10.0.0.5')).not.toBeNull();
    expect(accounts.find('u', '10x0x0x5')).toBeNull();
    expect(accounts.find('u', '10.0.0.55')).toBeNull();
  });
});
