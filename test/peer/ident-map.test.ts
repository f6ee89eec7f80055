// Ident maps (pg_ident.conf's form): parsing and its errors naming file:line, names, regexes with
// captures, and @group lines decided by the groups the kernel reports for real peers of real OS
// users in a real group, never by NSS's membership claims.
import { execFileSync } from 'child_process';
import fs from 'fs';
import net from 'net';
import path from 'path';

import { getPeerCredentials } from '../../lib/peer/credentials';
import { IdentMap, identMapOf, loadIdentMap, mapAccounts, MapPeer, mapPermits, MAX_IDENT_FILE_BYTES, parseIdentMap, readIdentFile } from '../../lib/peer/ident-map';
import { MAX_REGEX_NAME_LENGTH, regexHazard } from '../../lib/peer/ident-regex';
import * as processModule from '../../lib/peer/process';
import { lookupGroupSync } from '../../lib/peer/users';
import { connectWithGroups, createGroup, PeerGroups, TestGroup } from '../helpers/groups';
import { describeAsRoot, ensureOsUser } from '../helpers/root';
import { close, listen, tempDir } from '../helpers/sockets';

const peer = (osUser: string | null, gid = 5000, groups: number[] = []): MapPeer => ({ uid: 5000, gid, groups, osUser });
const accounts = async (map: IdentMap, name: string, who: MapPeer) => (await mapAccounts(map, name, who)).map((m) => [m.account, m.line.line]);

describe('parseIdentMap', () => {
  const text = [
    '# MAPNAME  OS-NAME          ACCOUNT',
    '',
    'admins     valerie          dba      # a comment after a line',
    'admins     /^(.*)\\.dba$     \\1',
    '  admins   @wheel           dba',
    'quoted     "stephanie"      "two words"',
    'quoted     "@not-a-group"   "a ""quote"""',
    'tabs\tnobody\tapp\r',
  ].join('\n');
  const map = parseIdentMap(text, '/etc/auth-socket/ident.conf');

  it('keeps every line with its file and number, quotes removed, comments and blanks left out', () => {
    expect(map.file).toBe('/etc/auth-socket/ident.conf');
    expect(map.lines).toEqual([
      { map: 'admins', osName: 'valerie', account: 'dba', file: '/etc/auth-socket/ident.conf', line: 3 },
      { map: 'admins', osName: '/^(.*)\\.dba$', account: '\\1', file: '/etc/auth-socket/ident.conf', line: 4 },
      { map: 'admins', osName: '@wheel', account: 'dba', file: '/etc/auth-socket/ident.conf', line: 5 },
      { map: 'quoted', osName: 'stephanie', account: 'two words', file: '/etc/auth-socket/ident.conf', line: 6 },
      { map: 'quoted', osName: '@not-a-group', account: 'a "quote"', file: '/etc/auth-socket/ident.conf', line: 7 },
      { map: 'tabs', osName: 'nobody', account: 'app', file: '/etc/auth-socket/ident.conf', line: 8 },
    ]);
    expect([map.has('admins'), map.has('quoted'), map.has('Admins'), map.has('nope')]).toEqual([true, true, false, false]);
    expect(parseIdentMap('').lines).toEqual([]);
    expect(parseIdentMap('\ufeffm a b\n').has('m')).toBe(true);
    expect(parseIdentMap('# only a comment\n\n').has('#')).toBe(false);
  });

  it('matches a name byte for byte: no case folding, no trimming, no normalisation', async () => {
    expect(await accounts(map, 'admins', peer('valerie'))).toEqual([['dba', 3]]);
    for (const other of ['Valerie', 'valerie ', 'valeri', 'vale\u0301rie', '', null]) expect(await accounts(map, 'admins', peer(other))).toEqual([]);
    // A quoted '@...' is a name, not a group.
    expect(await accounts(map, 'quoted', peer('@not-a-group'))).toEqual([['a "quote"', 7]]);
    const nfc = parseIdentMap('m caf\u00e9 x\n');
    expect([await accounts(nfc, 'm', peer('caf\u00e9')), await accounts(nfc, 'm', peer('cafe\u0301'))]).toEqual([[['x', 1]], []]);
    // A name that is not well-formed matches nothing, not even a line written with U+FFFD.
    expect(await accounts(parseIdentMap('m \ufffd x\n'), 'm', peer('\ud800'))).toEqual([]);
  });

  it('a /regex must match the whole name, and \\1 takes its first capture', async () => {
    expect(await accounts(map, 'admins', peer('alice.dba'))).toEqual([['alice', 4]]);
    expect(await accounts(map, 'admins', peer('alice.dba.x'))).toEqual([]);
    expect(await accounts(map, 'admins', peer('xalice.dbax'))).toEqual([]);
    const anchored = parseIdentMap('m /dba x\nm /(a|b)-(c) \\1-\\1\nm /x(y)?z \\1\n');
    // Implicitly anchored: 'dba' is not found inside 'mydbase'.
    expect(await accounts(anchored, 'm', peer('mydbase'))).toEqual([]);
    expect(await accounts(anchored, 'm', peer('dba'))).toEqual([['x', 1]]);
    // Only the first \1 is replaced, as PostgreSQL does.
    expect(await accounts(anchored, 'm', peer('b-c'))).toEqual([['b-\\1', 2]]);
    // A capture that took no part gives no account.
    expect(await accounts(anchored, 'm', peer('xz'))).toEqual([]);
    expect(await accounts(anchored, 'm', peer('xyz'))).toEqual([['y', 3]]);
    // Names past the cap are never tested against a regex.
    const long = `${'a'.repeat(MAX_REGEX_NAME_LENGTH - 4)}.dba`;
    expect(await accounts(map, 'admins', peer(long))).toEqual([[long.slice(0, -4), 4]]);
    expect(await accounts(map, 'admins', peer(`a${long}`))).toEqual([]);
  });

  it('mapPermits finds the first line giving exactly that account', async () => {
    expect(await mapPermits(map, 'admins', peer('valerie'), 'dba')).toMatchObject({ line: 3 });
    expect(await mapPermits(map, 'admins', peer('bob.dba'), 'bob')).toMatchObject({ line: 4 });
    expect(await mapPermits(map, 'admins', peer('bob.dba'), 'dba')).toBeNull();
    expect(await mapPermits(map, 'admins', peer('valerie'), 'DBA')).toBeNull();
    expect(await mapPermits(map, 'quoted', peer('valerie'), 'dba')).toBeNull();
    expect(await mapPermits(map, 'admins', peer('valerie'), '')).toBeNull();
    expect(await mapPermits(map, 'admins', peer('valerie'), 'dba\ud800')).toBeNull();
  });

  it.each([
    ['a bad regex', 'm /a( x', /:1: bad regular expression \/a\(/],
    ['an empty regex', 'm / x', /:1: an empty regular expression/],
    ['a regex escaping its anchors', 'm /a)|(b x', /:1: bad regular expression/],
    ['nested repetition', 'm /^(a+)+$ x', /:1: regular expression .* refused: a repeated group holds a repetition/],
    ['alternation under repetition', 'm /(a|aa)*b x', /:1: .* refused: a repeated group holds/],
    ['a backreference', 'm /(a)\\1 x', /:1: .* refused: backreferences are not allowed/],
    ['too many repetitions', 'm /a*b*c*d*e* x', /:1: .* refused: more than 3 repetitions/],
    ['a missing field', '\n\nm valerie', /:3: expected MAPNAME OS-NAME ACCOUNT, found 2 fields/],
    ['one field too many', 'm valerie dba extra', /:1: expected MAPNAME OS-NAME ACCOUNT, found 4 fields/],
    ['a quote inside a token', 'm val"erie dba', /:1: a quote inside the token val"erie/],
    ['a list', 'm valerie,bob dba', /:1: a list \(valerie,bob\)/],
    ['an unclosed quote', 'm "valerie dba', /:1: a quoted token is not closed/],
    ['a quote glued to more', 'm "valerie"x dba', /:1: a quoted token must end at a space/],
    ['an empty quoted token', 'm "" dba', /:1: an empty quoted token/],
    ['an empty group', 'm @ dba', /:1: an empty group name after @/],
    ['\\1 without a regex', 'm valerie \\1', /:1: \\1 in ACCOUNT needs a \/regex OS-NAME/],
    ['\\1 without a capture', 'm /valerie \\1', /:1: \\1 in ACCOUNT needs a capture group/],
    ["PostgreSQL's all", 'm valerie all', /:1: ACCOUNT all is PostgreSQL's keyword or pattern/],
    ["PostgreSQL's +role", 'm valerie +dba', /:1: ACCOUNT \+dba is PostgreSQL's/],
    ["PostgreSQL's include", 'ok a b\ninclude other.conf', /:2: PostgreSQL's include directive is not supported/],
    ['a NUL byte', 'm val\0erie dba', /:1: a control character/],
    ['a line too long', `m ${'a'.repeat(9000)} dba`, /:1: the line is longer than 8192 bytes/],
    ['a lone surrogate', 'm a b\nm \ud800 b', /:2: the line is not well-formed Unicode/],
  ])('refuses %s with ERR_IDENT_MAP_SYNTAX naming file:line', (_, text, message) => {
    let error: unknown;
    try {
      parseIdentMap(text, 'ident.conf');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_IDENT_MAP_SYNTAX', message: expect.stringMatching(/^ident\.conf:\d+: /), file: 'ident.conf' });
    expect((error as Error).message).toMatch(message);
  });

  it('quoting makes PostgreSQL keywords plain names, and bytes must be UTF-8', () => {
    expect(parseIdentMap('m valerie "all"\nm valerie "+x"\n').lines.map((l) => l.account)).toEqual(['all', '+x']);
    expect(() => parseIdentMap(Buffer.from([0x6d, 0x20, 0xff, 0x20, 0x78, 0x0a]), 'f')).toThrow(/^f:1: the line is not UTF-8/);
    const huge = `${'m a b\n'.repeat(Math.ceil(MAX_IDENT_FILE_BYTES / 6))}m a b\n`;
    expect(() => parseIdentMap(huge, 'f')).toThrow(/^f:\d+: the map goes past 1048576 bytes/);
  });

  it('a map line with the most repetitions a regex may hold answers on the longest name tested (ReDoS bound, ident-regex.test.ts)', async () => {
    // Three unbounded repetitions in a row, against a name built to make them backtrack.
    const worst = parseIdentMap('m /^(.*)a(.*)a(.*)b$ x\n');
    expect(await accounts(worst, 'm', peer('a'.repeat(MAX_REGEX_NAME_LENGTH)))).toEqual([]);
    expect(await accounts(worst, 'm', peer(`${'a'.repeat(MAX_REGEX_NAME_LENGTH - 1)}b`))).toEqual([['x', 1]]);
    expect(regexHazard('^([a-z]+)\\.(dba|ops)$')).toBeNull();
    expect(regexHazard('[(+]*x(?:ab)+')).toBeNull();
    expect(regexHazard('(?<n>a+)+')).toMatch(/repeated group/);
  });

  it('refuses what is not a map or not a peer', async () => {
    await expect(mapAccounts({ file: 'x', lines: [], has: () => true }, 'm', peer('a'))).rejects.toThrow(/parseIdentMap/);
    await expect(mapAccounts(map, 'm', { uid: -1, gid: 0, osUser: 'a' })).rejects.toThrow(TypeError);
    expect(() => parseIdentMap(7 as unknown as string)).toThrow(TypeError);
  });
});

describe("the kernel's overflow gid (how any unmapped gid of another user namespace looks)", () => {
  const overflow = processModule.overflowGid();
  // nogroup on most systems; the tests need some group of that gid.
  const group = lookupGroupSync(overflow)?.name;
  if (group === undefined) throw new Error(`no group has the overflow gid ${overflow}`);
  const dir = tempDir('auth-socket-ident-overflow-');
  afterAll(() => dir.remove());
  afterEach(() => jest.restoreAllMocks());

  it('an @group line of the overflow gid is refused when the map is loaded, naming file:line', async () => {
    const file = path.join(dir.path, 'ident.conf');
    fs.writeFileSync(file, `m valerie dba\nm @${group} dba\n`, { mode: 0o600 });
    await expect(loadIdentMap(file)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_OVERFLOW_GROUP', file, line: 2, message: expect.stringContaining(`${file}:2: the group ${group} is gid ${overflow}`) });
  });

  it('and, in a parsed map, when it is resolved: no peer is mapped by it (fail closed)', async () => {
    const map = parseIdentMap(`m valerie dba\nm @${group} x\n`, 'f');
    await expect(mapAccounts(map, 'm', peer('valerie', overflow))).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_OVERFLOW_GROUP', line: 2 });
  });

  it("a peer's overflow gid, primary or supplementary, is no group of its own", async () => {
    // As if the line had been let through: the first call (the peer's gids) sees the overflow
    // gid, the line's check another one.
    jest.spyOn(processModule, 'overflowGid').mockReturnValueOnce(overflow).mockReturnValue(overflow + 1);
    const map = parseIdentMap(`m @${group} x\n`, 'f');
    expect(await accounts(map, 'm', peer(null, overflow))).toEqual([]);
    jest.spyOn(processModule, 'overflowGid').mockReturnValueOnce(overflow).mockReturnValue(overflow + 1);
    expect(await accounts(map, 'm', peer(null, 5000, [overflow]))).toEqual([]);
    // The same line for a peer whose gid is not the one overflowGid() says: mapped.
    jest.spyOn(processModule, 'overflowGid').mockReturnValue(overflow + 1);
    expect(await accounts(map, 'm', peer(null, 5000, [overflow]))).toEqual([['x', 1]]);
  });
});

describe('loadIdentMap', () => {
  const dir = tempDir('auth-socket-ident-');
  afterAll(() => dir.remove());
  const write = (name: string, text: string, mode = 0o600) => {
    const file = path.join(dir.path, name);
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode);
    return file;
  };

  it('reads a file, naming it in every line and error', async () => {
    const file = write('ok.conf', 'm valerie dba\n');
    expect((await loadIdentMap(file)).lines).toEqual([{ map: 'm', osName: 'valerie', account: 'dba', file, line: 1 }]);
    await expect(loadIdentMap(write('bad.conf', 'm valerie dba\nm x\n'))).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_SYNTAX', line: 2, message: expect.stringContaining('bad.conf:2: ') });
    await expect(loadIdentMap(path.join(dir.path, 'missing.conf'))).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('missing.conf') });
  });

  it('refuses a file others may write, or one that is not a regular file', async () => {
    await expect(loadIdentMap(write('open.conf', 'm a b\n', 0o666))).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringMatching(/open\.conf may be written by others .*mode 0666/) });
    await expect(loadIdentMap(write('group.conf', 'm a b\n', 0o620))).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE' });
    expect((await loadIdentMap(write('readable.conf', 'm a b\n', 0o644))).lines).toHaveLength(1);
    await expect(loadIdentMap(dir.path)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringContaining('not a regular file') });
    // A FIFO at the path is refused at once, not waited on for a writer.
    const fifo = path.join(dir.path, 'fifo.conf');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    await expect(loadIdentMap(fifo)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringContaining('not a regular file') });
  });

  it('refuses a file whose last line has no newline: it may be being written (parseIdentMap takes one)', async () => {
    // A torn read of `ops valerie admin_readonly` must not grant admin.
    const torn = write('torn.conf', 'ops stephanie dba\nops valerie admin');
    await expect(loadIdentMap(torn)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_SYNTAX', file: torn, line: 2, message: `${torn}:2: the last line has no newline; the file may be being written` });
    await expect(identMapOf(Buffer.from('m a b'), 'f')).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_SYNTAX', line: 1 });
    expect((await loadIdentMap(write('empty.conf', ''))).lines).toEqual([]);
    expect(parseIdentMap('ops valerie admin').lines).toHaveLength(1);
  });

  describe('a read that a write overlaps', () => {
    afterEach(() => jest.restoreAllMocks());

    // Opens as readIdentFile does, but the first `writes` reads are each followed by a write to the file.
    function writesDuringRead(file: string, writes: number, text: (n: number) => string) {
      const open = fs.promises.open.bind(fs.promises);
      let done = 0;
      return jest.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof fs.promises.open>) => {
        const handle = await open(...args);
        const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<fs.promises.FileReadResult<Buffer>>;
        handle.read = (async (...a: unknown[]) => {
          const result = await read(...a);
          if (done < writes) fs.writeFileSync(file, text(++done));
          return result;
        }) as typeof handle.read;
        return handle;
      });
    }

    it('is done again, and what is returned is a read no write overlapped', async () => {
      const file = write('rewritten.conf', 'ops valerie admin\n');
      const open = writesDuringRead(file, 1, () => 'ops valerie admin_readonly\n');
      expect((await readIdentFile(file)).toString()).toBe('ops valerie admin_readonly\n');
      expect(open).toHaveBeenCalledTimes(2);
    });

    it('a file that keeps changing is refused after a few attempts', async () => {
      const file = write('changing.conf', 'm a b\n');
      const open = writesDuringRead(file, Infinity, (n) => `m a b${'c'.repeat(n)}\n`);
      await expect(readIdentFile(file)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringContaining('kept changing while it was read') });
      expect(open).toHaveBeenCalledTimes(3);
    });
  });

  describe('the path: every directory and symlink it is resolved through', () => {
    // A directory in dir.path, with the mode given (chmod: the umask must not lower it).
    const mkdir = (name: string, mode: number) => {
      const made = path.join(dir.path, name);
      fs.mkdirSync(made, { recursive: true });
      fs.chmodSync(made, mode);
      return made;
    };
    const unsafe = (what: RegExp) => expect.objectContaining({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringMatching(what) });
    const good = () => write('good.conf', 'm a b\n');

    it('a symlink in a safe directory to a file in one others may write is refused, naming that directory', async () => {
      const open = mkdir('open', 0o777);
      fs.writeFileSync(path.join(open, 'ident.conf'), 'm a b\n', { mode: 0o600 });
      const link = path.join(mkdir('safe', 0o755), 'ident.conf');
      fs.symlinkSync(path.join(open, 'ident.conf'), link);
      await expect(loadIdentMap(link)).rejects.toEqual(unsafe(new RegExp(`the directory ${open} on the path of ${link} may be written by others .*mode 0777`)));
    });

    it('so is one whose safe directory is below a directory others may write (not sticky)', async () => {
      const open = mkdir('open2', 0o777);
      const inner = mkdir('open2/inner', 0o755);
      fs.writeFileSync(path.join(inner, 'ident.conf'), 'm a b\n', { mode: 0o600 });
      await expect(loadIdentMap(path.join(inner, 'ident.conf'))).rejects.toEqual(unsafe(new RegExp(`the directory ${open} on the path .*mode 0777`)));
      fs.chmodSync(open, 0o775);
      await expect(loadIdentMap(path.join(inner, 'ident.conf'))).rejects.toEqual(unsafe(/mode 0775/));
      // Through a symlink from a safe place, the same.
      const link = path.join(dir.path, 'to-inner');
      fs.symlinkSync(inner, link);
      await expect(loadIdentMap(path.join(link, 'ident.conf'))).rejects.toEqual(unsafe(new RegExp(`the directory ${open} on the path`)));
    });

    it('and a symlink in a directory others may write, though it leads to a safe file', async () => {
      const open = mkdir('open3', 0o777);
      fs.symlinkSync(good(), path.join(open, 'link.conf'));
      await expect(loadIdentMap(path.join(open, 'link.conf'))).rejects.toEqual(unsafe(new RegExp(`the directory ${open} on the path`)));
      const linkDir = path.join(open, 'dir-link');
      fs.symlinkSync(dir.path, linkDir);
      await expect(loadIdentMap(path.join(linkDir, 'good.conf'))).rejects.toEqual(unsafe(new RegExp(`the directory ${open} on the path`)));
    });

    it('a sticky directory (/tmp) is safe above a directory of ours, not as the file\'s own directory', async () => {
      const sticky = mkdir('sticky', 0o1777);
      const inner = mkdir('sticky/inner', 0o755);
      fs.writeFileSync(path.join(inner, 'ident.conf'), 'm a b\n', { mode: 0o600 });
      expect((await loadIdentMap(path.join(inner, 'ident.conf'))).lines).toHaveLength(1);
      fs.writeFileSync(path.join(sticky, 'ident.conf'), 'm a b\n', { mode: 0o600 });
      await expect(loadIdentMap(path.join(sticky, 'ident.conf'))).rejects.toEqual(unsafe(new RegExp(`its directory ${sticky} of .* mode 01777`)));
    });

    it('symlinks are followed as the kernel follows them: relative targets, .. from where a link leads', async () => {
      const sub = mkdir('deep/sub', 0o755);
      fs.writeFileSync(path.join(dir.path, 'deep', 'ident.conf'), 'm a b\n', { mode: 0o600 });
      fs.symlinkSync('deep/sub', path.join(dir.path, 'rel-link'));
      // rel-link/.. is deep (where the link leads), not dir.path.
      expect((await loadIdentMap(`${dir.path}/rel-link/../ident.conf`)).lines).toHaveLength(1);
      fs.symlinkSync('../ident.conf', path.join(sub, 'up.conf'));
      expect((await loadIdentMap(path.join(sub, 'up.conf'))).lines).toHaveLength(1);
      fs.symlinkSync('loop', path.join(dir.path, 'loop'));
      await expect(loadIdentMap(path.join(dir.path, 'loop'))).rejects.toMatchObject({ code: 'ELOOP' });
    });
  });
});

describeAsRoot("the ident file's path, with another user's directories and symlinks on it", () => {
  const dir = tempDir('auth-socket-ident-owners-');
  afterAll(() => dir.remove());

  it("a directory or a symlink of another user's on the path is refused, even without write for others", async () => {
    const valerie = ensureOsUser('valerie');
    const hers = path.join(dir.path, 'hers');
    fs.mkdirSync(path.join(hers, 'inner'), { recursive: true, mode: 0o755 });
    fs.chownSync(hers, valerie.uid, valerie.gid);
    fs.writeFileSync(path.join(hers, 'inner', 'ident.conf'), 'm a b\n', { mode: 0o600 });
    await expect(loadIdentMap(path.join(hers, 'inner', 'ident.conf'))).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringContaining(`the directory ${hers} on the path`) });
    // In a sticky directory, her symlink is hers to replace.
    const sticky = path.join(dir.path, 'sticky');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    const good = path.join(dir.path, 'good.conf');
    fs.writeFileSync(good, 'm a b\n', { mode: 0o600 });
    const link = path.join(sticky, 'ident.conf');
    fs.symlinkSync(good, link);
    fs.lchownSync(link, valerie.uid, valerie.gid);
    await expect(loadIdentMap(link)).rejects.toMatchObject({ code: 'ERR_IDENT_MAP_UNSAFE', message: expect.stringContaining(`the symlink ${link} on the path`) });
    fs.lchownSync(link, 0, 0);
    expect((await loadIdentMap(link)).lines).toHaveLength(1);
  });
});

describeAsRoot('@group lines decided by the groups the kernel reports for real peers', () => {
  const dir = tempDir('auth-socket-ident-groups-');
  const socketPath = path.join(dir.path, 'peers.sock');
  const server = net.createServer();
  let team: TestGroup;
  let map: IdentMap;

  beforeAll(async () => {
    ensureOsUser('valerie');
    ensureOsUser('stephanie');
    team = createGroup('dba-team', ['valerie']);
    const file = path.join(dir.path, 'ident.conf');
    fs.writeFileSync(file, `admins @${team.name} dba\nadmins @no-such-group-${process.pid} dba\n`, { mode: 0o600 });
    map = await loadIdentMap(file);
    await listen(server, socketPath);
  });
  afterAll(async () => {
    await close(server);
    team?.remove();
    dir.remove();
  });

  // The accounts map 'admins' gives a child running as `user` with `groups`, from its socket's credentials.
  async function mapped(user: string, groups: PeerGroups) {
    const child = await connectWithGroups(server, socketPath, user, groups);
    try {
      const { uid, gid, groups: kernelGroups } = getPeerCredentials(child.socket, { groups: true });
      return (await mapAccounts(map, 'admins', { uid, gid, groups: kernelGroups, osUser: user })).map((m) => [m.account, m.line.line]);
    } finally {
      await child.close();
    }
  }

  it('a member of the group, logged in with its groups, is mapped; a non-member is not', async () => {
    expect(await mapped('valerie', 'init')).toEqual([['dba', 1]]);
    expect(await mapped('stephanie', 'init')).toEqual([]);
  });

  it("the kernel's list decides, not the group database: a member without the group in its process is not mapped", async () => {
    expect(await mapped('valerie', 'none')).toEqual([]);
  });

  it('a process given the group by root is mapped, though the group database does not list it', async () => {
    expect(await mapped('stephanie', [team.gid])).toEqual([['dba', 1]]);
  });

  it("a peer's primary group counts", async () => {
    const primary = parseIdentMap('m @stephanie x\n');
    const child = await connectWithGroups(server, socketPath, 'stephanie', 'none');
    try {
      const { uid, gid, groups } = getPeerCredentials(child.socket, { groups: true });
      expect(groups ?? []).toEqual([]);
      expect(await mapPermits(primary, 'm', { uid, gid, groups, osUser: null }, 'x')).toMatchObject({ osName: '@stephanie' });
    } finally {
      await child.close();
    }
  });
});
