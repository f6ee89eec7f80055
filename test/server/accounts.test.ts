// Accounts: CREATE / ALTER / DROP USER semantics and MySQL's host matching for the peers we serve.
import { Accounts } from '../../lib/server/catalog/accounts';
import { nativePasswordHash } from '../../lib/auth/native-password';
import { verifyCachingSha2Password } from '../../lib/auth/caching-sha2';

describe('Accounts', () => {
  it('stores a password as the mysql_native_password hash, never in clear', () => {
    const accounts = new Accounts();
    const account = accounts.create({ user: 'carol', host: 'localhost', plugin: 'mysql_native_password', password: 's3cret' });
    expect(account).toEqual({
      user: 'carol',
      or: [],
      host: 'localhost',
      plugin: 'mysql_native_password',
      authenticationString: nativePasswordHash('s3cret'),
      privileges: [],
      grantOption: false,
      attributes: null,
    });
    expect(account.authenticationString).toMatch(/^\*[0-9A-F]{40}$/);
    expect(Object.isFrozen(account)).toBe(true);
  });

  it('hashes IDENTIFIED BY for caching_sha2_password as MySQL does ($A$005$), and it verifies', () => {
    const account = new Accounts().create({ user: 'c', host: 'localhost', plugin: 'caching_sha2_password', password: 'pw' });
    expect(account.authenticationString).toMatch(/^\$A\$005\$/);
    expect(verifyCachingSha2Password(account.authenticationString, Buffer.from('pw'))).toBe(true);
  });

  // The old --account=u@h:mysql_native_password:PLAINTEXT made an account nobody could log in to.
  it("refuses a password plugin's authentication string that is not its stored hash", () => {
    const accounts = new Accounts();
    for (const plugin of ['mysql_native_password', 'caching_sha2_password']) {
      expect(() => accounts.create({ user: 'p', host: 'localhost', plugin, authenticationString: 'PLAINTEXT' })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/IDENTIFIED BY/) }),
      );
    }
    expect(accounts.create({ user: 'p', host: 'localhost', plugin: 'mysql_native_password', authenticationString: nativePasswordHash('x') })).toBeTruthy();
  });

  it('keeps global privileges across ALTER USER, and sets them with setPrivileges', () => {
    const accounts = new Accounts();
    accounts.create({ user: 'a', host: 'localhost', plugin: 'auth_socket', privileges: ['ALL'], grantOption: true });
    expect(accounts.alter({ user: 'a', host: 'localhost', plugin: 'auth_socket', authenticationString: 'b' })).toMatchObject({
      authenticationString: 'b',
      privileges: ['ALL'],
      grantOption: true,
    });
    expect(accounts.setPrivileges('a', 'localhost', ['CREATE USER'], false)).toMatchObject({ privileges: ['CREATE USER'], grantOption: false });
    expect(accounts.list().map((account) => account.user)).toEqual(['a']);
    expect(() => accounts.setPrivileges('z', 'localhost', [], false)).toThrow(expect.objectContaining({ code: 'ERR_NO_SUCH_ACCOUNT' }));
    expect(() => accounts.create({ user: 'q', host: 'localhost', plugin: 'auth_socket', privileges: ['SUPER' as 'ALL'] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
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
