// The client plugin descriptor and registry: validation, every load refusal with its code, a
// plugin module loaded from a temp plugin directory, init/deinit, options, env preloading and
// the plugin policy (cleartext opt-in, restrictedAuth).
import fs from 'fs';
import os from 'os';
import path from 'path';

import { declareClientPlugin, MYSQL_CLIENT_AUTHENTICATION_PLUGIN, MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION } from '../../lib/client/plugin';
import { authSimple } from '../../lib/client/plugins/auth-simple';
import * as policy from '../../lib/client/policy';
import * as registry from '../../lib/client/registry';
import { CR_OK } from '../../lib/auth/vio';

const clientPluginModule = path.resolve(__dirname, '../../lib/client/plugin');

let pluginDir: string;
beforeEach(() => {
  pluginDir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-plugins-'));
});
afterEach(() => {
  fs.rmSync(pluginDir, { recursive: true, force: true });
});

/** Writes <pluginDir>/<file>.js exporting the given source's value. */
function writeModule(file: string, source: string): void {
  fs.writeFileSync(path.join(pluginDir, `${file}.js`), source);
}

/** A module that declares its plugin with declareClientPlugin(), as a plugin author would. */
function writeDeclaredPlugin(name: string, extra = ''): void {
  writeModule(
    name,
    `const { declareClientPlugin } = require(${JSON.stringify(clientPluginModule)});
     const calls = [];
     module.exports = declareClientPlugin({
       name: ${JSON.stringify(name)}, author: 'Test', description: 'test plugin', version: [1, 2, 3], license: 'MIT',
       ${extra}
       authenticate: async (vio, mysql) => { await vio.writePacket(Buffer.from(mysql.password + '\\0')); return -1; },
     });`,
  );
}

/** A module exporting a raw descriptor object, as another copy of the library would build it. */
function writeRawPlugin(file: string, fields: Record<string, unknown>): void {
  const descriptor = {
    type: MYSQL_CLIENT_AUTHENTICATION_PLUGIN,
    interfaceVersion: MYSQL_CLIENT_AUTHENTICATION_PLUGIN_INTERFACE_VERSION,
    name: file,
    author: 'Test',
    description: 'raw',
    version: [1, 0, 0],
    license: 'MIT',
    ...fields,
  };
  writeModule(file, `module.exports = { ...${JSON.stringify(descriptor)}, authenticate: () => -1 };`);
}

function uniqueName(stem: string): string {
  return `${stem}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}

describe('declareClientPlugin', () => {
  it("mirrors the manual's auth_simple descriptor and freezes it", () => {
    expect(authSimple).toMatchObject({
      type: MYSQL_CLIENT_AUTHENTICATION_PLUGIN,
      interfaceVersion: 0x0200,
      name: 'auth_simple',
      author: 'Author Name',
      description: 'Any-password authentication plugin',
      version: [1, 0, 0],
      license: 'GPL',
      mysqlApi: null,
      init: null,
      deinit: null,
      options: null,
    });
    expect(Object.isFrozen(authSimple)).toBe(true);
    expect(Object.isFrozen(authSimple.version)).toBe(true);
  });

  const valid = { name: 'ok_name', author: 'a', description: 'd', version: [1, 0, 0] as const, license: 'MIT', authenticate: () => CR_OK as -1 };

  it.each([
    ['a name with a path separator', { name: 'a/b' }, 'ERR_PLUGIN_NAME_INVALID'],
    ['a name with a backslash', { name: 'a\\b' }, 'ERR_PLUGIN_NAME_INVALID'],
    ['an empty name', { name: '' }, 'ERR_PLUGIN_NAME_INVALID'],
    ['a name with other characters', { name: 'a.b' }, 'ERR_PLUGIN_NAME_INVALID'],
    ['a name over 64 characters', { name: 'x'.repeat(65) }, 'ERR_PLUGIN_NAME_TOO_LONG'],
    ['a version that is not a triple', { version: [1, 0] }, 'ERR_PLUGIN_INVALID'],
    ['a negative version part', { version: [1, -1, 0] }, 'ERR_PLUGIN_INVALID'],
    ['a non-function authenticate', { authenticate: 'x' }, 'ERR_PLUGIN_INVALID'],
    ['a non-function init', { init: 42 }, 'ERR_PLUGIN_INVALID'],
    ['a non-null mysqlApi', { mysqlApi: {} }, 'ERR_PLUGIN_INVALID'],
    ['a missing author', { author: undefined }, 'ERR_PLUGIN_INVALID'],
  ])('refuses %s', (_what, change, code) => {
    expect(() => declareClientPlugin({ ...valid, ...change } as never)).toThrow(expect.objectContaining({ code }));
  });

  it('accepts a name of exactly 64 characters', () => {
    expect(declareClientPlugin({ ...valid, name: 'x'.repeat(64) }).name).toHaveLength(64);
  });
});

describe('the registry', () => {
  it('has the built-in client plugins registered', () => {
    for (const name of ['mysql_native_password', 'mysql_clear_password', 'caching_sha2_password', 'dialog', 'client_ed25519', 'auth_simple']) {
      expect(registry.findClientPlugin(name)?.name).toBe(name);
    }
    expect(registry.findClientPlugin('auth_gssapi_client')).toBeUndefined();
  });

  it('loads a plugin module named after the plugin from the pluginDir option, calling init with args', () => {
    const name = uniqueName('from_dir');
    writeDeclaredPlugin(name, `init: (errbuf, args) => { globalThis.__initArgs = args; return 0; },`);
    const plugin = registry.loadClientPlugin(name, { pluginDir, args: ['a', 7] });
    expect(plugin).toMatchObject({ name, version: [1, 2, 3], type: MYSQL_CLIENT_AUTHENTICATION_PLUGIN });
    expect((globalThis as { __initArgs?: unknown }).__initArgs).toEqual(['a', 7]);
    expect(registry.findClientPlugin(name)).toBe(plugin);
    expect(registry.unloadClientPlugin(name)).toBe(true);
  });

  it('reads the plugin directory from AUTH_SOCKET_PLUGIN_DIR when no option names one', () => {
    const name = uniqueName('from_env');
    writeDeclaredPlugin(name);
    const saved = process.env.AUTH_SOCKET_PLUGIN_DIR;
    process.env.AUTH_SOCKET_PLUGIN_DIR = pluginDir;
    try {
      expect(registry.pluginDirectory()).toBe(pluginDir);
      expect(registry.loadClientPlugin(name).name).toBe(name);
    } finally {
      if (saved === undefined) delete process.env.AUTH_SOCKET_PLUGIN_DIR;
      else process.env.AUTH_SOCKET_PLUGIN_DIR = saved;
      registry.unloadClientPlugin(name);
    }
    expect(registry.pluginDirectory({ pluginDir: '/elsewhere' })).toBe('/elsewhere');
  });

  it('falls back to the package plugin directory', () => {
    const saved = process.env.AUTH_SOCKET_PLUGIN_DIR;
    delete process.env.AUTH_SOCKET_PLUGIN_DIR;
    try {
      expect(registry.pluginDirectory()).toBe(registry.DEFAULT_PLUGIN_DIR);
    } finally {
      if (saved !== undefined) process.env.AUTH_SOCKET_PLUGIN_DIR = saved;
    }
  });

  it('runs deinit on unload, and a later load reads the module afresh', () => {
    const name = uniqueName('deinit');
    writeDeclaredPlugin(name, `deinit: () => { globalThis.__deinits = (globalThis.__deinits ?? 0) + 1; },`);
    const first = registry.loadClientPlugin(name, { pluginDir });
    expect(registry.unloadClientPlugin(name)).toBe(true);
    expect((globalThis as { __deinits?: number }).__deinits).toBe(1);
    expect(registry.unloadClientPlugin(name)).toBe(false);
    const second = registry.loadClientPlugin(name, { pluginDir });
    expect(second).not.toBe(first);
    registry.unloadClientPlugin(name);
  });

  describe('refuses, each with errno 2059 and a code', () => {
    function refusal(load: () => unknown, code: string, message: RegExp) {
      let caught: unknown;
      try {
        load();
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code, errno: registry.CR_AUTH_PLUGIN_CANNOT_LOAD });
      expect((caught as Error).message).toMatch(/^Authentication plugin '.*' cannot be loaded: /);
      expect((caught as Error).message).toMatch(message);
    }

    it('a name with a path separator', () => {
      refusal(() => registry.loadClientPlugin('../evil', { pluginDir }), 'ERR_PLUGIN_NAME_INVALID', /path separator/);
    });

    it('a name longer than 64 characters', () => {
      refusal(() => registry.loadClientPlugin('p'.repeat(65), { pluginDir }), 'ERR_PLUGIN_NAME_TOO_LONG', /limit is 64/);
    });

    it('a type mismatch', () => {
      const name = uniqueName('typed');
      writeRawPlugin(name, { type: 1 });
      refusal(() => registry.loadClientPlugin(name, { pluginDir }), 'ERR_PLUGIN_TYPE_MISMATCH', /type mismatch/);
    });

    it('a name mismatch', () => {
      const name = uniqueName('named');
      writeRawPlugin(name, { name: 'someone_else' });
      refusal(() => registry.loadClientPlugin(name, { pluginDir }), 'ERR_PLUGIN_NAME_MISMATCH', /someone_else/);
    });

    it('an already loaded plugin (built in, or loaded before)', () => {
      writeDeclaredPlugin('dialog');
      refusal(() => registry.loadClientPlugin('dialog', { pluginDir }), 'ERR_PLUGIN_ALREADY_LOADED', /already loaded/);
      refusal(() => registry.registerClientPlugin(authSimple), 'ERR_PLUGIN_ALREADY_LOADED', /already loaded/);
    });

    it.each([
      ['an older interface version', 0x0100],
      ['a newer major interface version', 0x0300],
    ])('%s', (_what, interfaceVersion) => {
      const name = uniqueName('versioned');
      writeRawPlugin(name, { interfaceVersion });
      refusal(() => registry.loadClientPlugin(name, { pluginDir }), 'ERR_PLUGIN_INTERFACE_VERSION', /incompatible client plugin interface/);
    });

    it('a missing module file', () => {
      refusal(() => registry.loadClientPlugin(uniqueName('absent'), { pluginDir }), 'ERR_PLUGIN_NOT_FOUND', /does not exist/);
    });

    it('a module that exports no descriptor, or throws while loading', () => {
      const empty = uniqueName('empty');
      writeModule(empty, 'module.exports = 42;');
      refusal(() => registry.loadClientPlugin(empty, { pluginDir }), 'ERR_PLUGIN_INVALID', /exports no plugin descriptor/);
      const broken = uniqueName('broken');
      writeModule(broken, "throw new Error('boom');");
      refusal(() => registry.loadClientPlugin(broken, { pluginDir }), 'ERR_PLUGIN_INVALID', /boom/);
    });

    it('a descriptor with bad members', () => {
      const name = uniqueName('badmembers');
      writeRawPlugin(name, { version: 'one' });
      refusal(() => registry.loadClientPlugin(name, { pluginDir }), 'ERR_PLUGIN_INVALID', /version/);
    });

    it('an init that fails, with the message it wrote to its error buffer', () => {
      const name = uniqueName('initfail');
      writeDeclaredPlugin(name, `init: (errbuf) => { errbuf.message = 'no hardware token'; return 1; },`);
      refusal(() => registry.loadClientPlugin(name, { pluginDir }), 'ERR_PLUGIN_INIT_FAILED', /no hardware token/);
      expect(registry.findClientPlugin(name)).toBeUndefined();
    });
  });

  it('hands options to a plugin and reads them back (pluginOptions / pluginGetOption)', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n';
    registry.pluginOptions('caching_sha2_password', 'server_public_key', pem);
    try {
      expect(registry.pluginGetOption('caching_sha2_password', 'server_public_key')).toBe(pem);
    } finally {
      registry.pluginOptions('caching_sha2_password', 'server_public_key', null);
      expect(registry.pluginGetOption('caching_sha2_password', 'server_public_key')).toBeUndefined();
    }
    expect(() => registry.pluginOptions('caching_sha2_password', 'no_such_option', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_PLUGIN_OPTION' }),
    );
    expect(() => registry.pluginOptions('auth_simple', 'x', 1)).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_OPTION' }));
    expect(() => registry.pluginOptions('not_loaded_plugin', 'x', 1)).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_NOT_FOUND' }));
  });

  it('refuses every cleartext plugin unless enabled by option or LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN', () => {
    const saved = process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
    const closed = { cleartextEnabled: false };
    try {
      delete process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
      expect(policy.cleartextPluginEnabled(undefined)).toBe(false);
      for (const name of ['mysql_clear_password', 'dialog', 'auth_simple']) {
        expect(() => policy.resolveClientPlugin(name, [], closed)).toThrow(
          expect.objectContaining({ code: 'ERR_PLUGIN_NOT_ENABLED', errno: 2059, message: expect.stringContaining('enableCleartextPlugin') }),
        );
        expect(policy.resolveClientPlugin(name, [], { cleartextEnabled: true }).name).toBe(name);
      }
      expect(policy.resolveClientPlugin('mysql_native_password', [], closed).name).toBe('mysql_native_password');
      expect(policy.cleartextPluginEnabled(true)).toBe(true);
      process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = 'yes';
      expect(policy.cleartextPluginEnabled(undefined)).toBe(true);
      // An explicit option wins over the env.
      expect(policy.cleartextPluginEnabled(false)).toBe(false);
      process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = '0';
      expect(policy.cleartextPluginEnabled(undefined)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN;
      else process.env.LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN = saved;
    }
  });

  it('marks the built-in cleartext plugins, and takes the flag from a declaration', () => {
    const flagged = registry.builtinClientPlugins.filter((plugin) => plugin.sendsCleartextPassword).map((plugin) => plugin.name);
    expect(flagged.sort()).toEqual(['auth_simple', 'dialog', 'mysql_clear_password']);
    const base = { author: 'a', description: 'd', version: [1, 0, 0] as const, license: 'MIT', authenticate: () => CR_OK };
    expect(declareClientPlugin({ name: 'plain', ...base }).sendsCleartextPassword).toBe(false);
    const mine = declareClientPlugin({ name: 'mine_clear', ...base, sendsCleartextPassword: true });
    expect(policy.sendsCleartextPassword(mine)).toBe(true);
    expect(() => declareClientPlugin({ name: 'bad', ...base, sendsCleartextPassword: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_PLUGIN_INVALID' }),
    );
    // A plugin answering under a cleartext protocol's name is one, whatever it declares.
    expect(policy.sendsCleartextPassword(declareClientPlugin({ name: 'dialog', ...base, sendsCleartextPassword: false }))).toBe(true);
  });

  it('reads restrictedAuth as an array or a comma-separated string, and refuses empty or bad lists', () => {
    expect([...policy.parseRestrictedAuth(' client_ed25519, mysql_native_password ,')!]).toEqual(['client_ed25519', 'mysql_native_password']);
    expect([...policy.parseRestrictedAuth(['caching_sha2_password'])!]).toEqual(['caching_sha2_password']);
    expect(policy.parseRestrictedAuth(undefined)).toBeUndefined();
    for (const [value, code] of [['', 'ERR_INVALID_ARG_VALUE'], [[], 'ERR_INVALID_ARG_VALUE'], [' , ', 'ERR_INVALID_ARG_VALUE'], ['a/b', 'ERR_INVALID_ARG_VALUE'], [42, 'ERR_INVALID_ARG_TYPE'], [[1], 'ERR_INVALID_ARG_TYPE']] as const) {
      expect(() => policy.parseRestrictedAuth(value)).toThrow(expect.objectContaining({ code }));
    }
    const only = { cleartextEnabled: true, restrictedAuth: new Set(['client_ed25519']) };
    expect(() => policy.resolveClientPlugin('mysql_native_password', [], only)).toThrow(
      expect.objectContaining({ code: 'ERR_PLUGIN_NOT_ENABLED', errno: 2059, message: expect.stringContaining('restrictedAuth') }),
    );
    expect(policy.resolveClientPlugin('client_ed25519', [], only).name).toBe('client_ed25519');
  });

  it('prefers a plugin passed to the connection over the registered one of the same name', () => {
    const mine = declareClientPlugin({ name: 'dialog', author: 'me', description: 'mine', version: [9, 9, 9], license: 'MIT', authenticate: () => CR_OK });
    expect(policy.resolveClientPlugin('dialog', [mine], { cleartextEnabled: true })).toBe(mine);
    expect(() => policy.resolveClientPlugin('auth_gssapi_client', [mine], { cleartextEnabled: true })).toThrow(
      expect.objectContaining({ code: 'ERR_PLUGIN_UNKNOWN', errno: 2059 }),
    );
  });
});

describe('AUTH_SOCKET_PLUGINS preloading', () => {
  function withEnv(env: Record<string, string>, body: (fresh: typeof registry) => void): void {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      jest.isolateModules(() => body(require('../../lib/client/registry') as typeof registry));
    } finally {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  }

  it("loads the ';'-separated list before the first lookup", () => {
    const [a, b] = [uniqueName('pre_a'), uniqueName('pre_b')];
    writeDeclaredPlugin(a);
    writeDeclaredPlugin(b);
    withEnv({ AUTH_SOCKET_PLUGIN_DIR: pluginDir, AUTH_SOCKET_PLUGINS: ` ${a};${b}; ` }, (fresh) => {
      expect(fresh.findClientPlugin(a)?.name).toBe(a);
      expect(fresh.findClientPlugin(b)?.name).toBe(b);
    });
  });

  it('fails closed: a listed plugin that does not load makes every registry use throw', () => {
    const missing = uniqueName('pre_missing');
    withEnv({ AUTH_SOCKET_PLUGIN_DIR: pluginDir, AUTH_SOCKET_PLUGINS: missing }, (fresh) => {
      expect(() => fresh.findClientPlugin('dialog')).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_NOT_FOUND' }));
      expect(() => fresh.findClientPlugin('dialog')).toThrow(expect.objectContaining({ code: 'ERR_PLUGIN_NOT_FOUND' }));
    });
  });
});
