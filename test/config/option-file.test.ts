// MySQL option files as mysys/my_default.cc reads them: comments, groups, bare flags, trimming,
// quotes and escapes, `#` after a value, !include and !includedir, and errors naming file:line.
import fs from 'fs';
import os from 'os';
import path from 'path';

import { entriesOf, OptionEntry, parseOptionText, readOptionFile } from '../../lib/config/option-file';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-socket-cnf-'));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

const pairs = (entries: OptionEntry[]) => entries.map((entry) => [entry.name, entry.value]);
const values = (text: string) => parseOptionText(`[g]\n${text}\n`, 'x.cnf').map((entry) => entry.value);

describe('parseOptionText', () => {
  it('keeps groups and entries in order, with their line, bare flags as null and repeats as they come', () => {
    const text = [
      '# a comment',
      '; another',
      '   # indented comment',
      '',
      '[mysqld]',
      'skip-networking',
      'plugin-load-add = a.so',
      'plugin-load-add=b.so',
      '[client]',
      'user=me',
      '[mysqld]',
      'port=',
    ].join('\n');
    expect(parseOptionText(text, '/etc/my.cnf')).toEqual([
      { group: 'mysqld', name: 'skip-networking', value: null, file: '/etc/my.cnf', line: 6 },
      { group: 'mysqld', name: 'plugin-load-add', value: 'a.so', file: '/etc/my.cnf', line: 7 },
      { group: 'mysqld', name: 'plugin-load-add', value: 'b.so', file: '/etc/my.cnf', line: 8 },
      { group: 'client', name: 'user', value: 'me', file: '/etc/my.cnf', line: 10 },
      { group: 'mysqld', name: 'port', value: '', file: '/etc/my.cnf', line: 12 },
    ]);
  });

  it('trims spaces around group, name and value, CRLF included', () => {
    const entries = parseOptionText('[ mysqld ]  trailing words\r\n\t socket \t=\t /tmp/a b.sock \r\n', 'x.cnf');
    expect(entries).toMatchObject([{ group: 'mysqld', name: 'socket', value: '/tmp/a b.sock' }]);
  });

  it('ends a value at a # outside quotes, wherever it stands; a ; is a comment only at line start', () => {
    expect(values('a = b # note')).toEqual(['b']);
    expect(values('a=b#c')).toEqual(['b']);
    expect(values('a=b ; c')).toEqual(['b ; c']);
    expect(values('a="b # c" # note')).toEqual(['b # c']);
    expect(values("a='it''s # here'")).toEqual(["it''s # here"]);
    expect(values('a="x\\" # still quoted" # note')).toEqual(['x" # still quoted']);
  });

  it('removes one pair of matching quotes, and only a matching pair', () => {
    expect(values('a="/tmp/x y"')).toEqual(['/tmp/x y']);
    expect(values("a='/tmp/x y'")).toEqual(['/tmp/x y']);
    expect(values('a="mixed\'')).toEqual(['"mixed\'']);
    expect(values('a="')).toEqual(['"']);
    expect(values('a=""')).toEqual(['']);
    expect(values('a=  "  padded  "  ')).toEqual(['  padded  ']);
  });

  it("reads MySQL's escapes, quoted or not, and keeps unknown ones and a trailing backslash", () => {
    expect(values('a=1\\t2\\n3\\r4\\b5\\s6\\\\7')).toEqual(['1\t2\n3\r4\b5 6\\7']);
    expect(values('a="q\\"q" ')).toEqual(['q"q']);
    expect(values("a='q\\'q'")).toEqual(["q'q"]);
    expect(values('a=C:\\path\\x')).toEqual(['C:\\path\\x']);
    expect(values('a=end\\')).toEqual(['end\\']);
    expect(values('a=\\s\\s')).toEqual(['  ']);
  });

  it('refuses what does not parse, naming file and line', () => {
    expect(() => parseOptionText('socket=/x\n', '/a.cnf')).toThrow('Found option without preceding group in config file /a.cnf at line 1');
    expect(() => parseOptionText('\n[mysqld\n', '/a.cnf')).toThrow('Wrong group definition in config file /a.cnf at line 2');
    expect(() => parseOptionText('[g]\n = x\n', '/a.cnf')).toThrow('Option without a name in config file /a.cnf at line 2');
    expect(() => parseOptionText('[g]\n!include\n', '/a.cnf')).toThrow("Wrong '!include' directive in config file /a.cnf at line 2");
    expect(() => parseOptionText('!includedir   \n', '/a.cnf')).toThrow("Wrong '!includedir' directive in config file /a.cnf at line 1");
    expect(() => parseOptionText('!incloud /x\n', '/a.cnf')).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_FILE', message: "Unknown directive '!incloud /x' in config file /a.cnf at line 1" }),
    );
  });
});

describe('readOptionFile', () => {
  it('refuses a missing file as MySQL refuses a missing --defaults-file', () => {
    const missing = path.join(dir, 'absent.cnf');
    expect(() => readOptionFile(missing)).toThrow(
      expect.objectContaining({ code: 'ERR_OPTION_FILE', message: `Could not open required defaults file: ${missing} (ENOENT)` }),
    );
  });

  it('reads !include in place; the included file has its own groups and the includer keeps its group', () => {
    const extra = write('extra.conf', '[mysqld]\nport=3307\n[client]\nuser=x\n');
    const main = write('my.cnf', `[mysqld]\nsocket=/a\n  ! include   ${extra}  \nbind-address=::1\n`);
    const entries = readOptionFile(main);
    expect(entries.map((entry) => [entry.group, entry.name, entry.value, path.basename(entry.file), entry.line])).toEqual([
      ['mysqld', 'socket', '/a', 'my.cnf', 2],
      ['mysqld', 'port', '3307', 'extra.conf', 2],
      ['client', 'user', 'x', 'extra.conf', 4],
      ['mysqld', 'bind-address', '::1', 'my.cnf', 4],
    ]);
  });

  it('reads the *.cnf files of !includedir in sorted order, skipping other names and directories', () => {
    write('conf.d/20-b.cnf', '[mysqld]\nplugin-load-add=b\n');
    write('conf.d/10-a.cnf', '[mysqld]\nplugin-load-add=a\n');
    write('conf.d/05-skip.conf', '[mysqld]\nplugin-load-add=not-cnf\n');
    write('conf.d/README', 'not an option file at all\n');
    write('conf.d/sub.cnf/inner.cnf', '[mysqld]\nplugin-load-add=nested\n');
    write('conf.d/30-c.cnf', '[mysqld]\nplugin-load-add=c\n');
    const main = write('my.cnf', `[mysqld]\nplugin-load-add=first\n!includedir ${path.join(dir, 'conf.d')}\nplugin-load-add=last\n`);
    expect(pairs(readOptionFile(main))).toEqual([
      ['plugin-load-add', 'first'],
      ['plugin-load-add', 'a'],
      ['plugin-load-add', 'b'],
      ['plugin-load-add', 'c'],
      ['plugin-load-add', 'last'],
    ]);
  });

  it('resolves relative include paths from the working directory, as MySQL opens them', () => {
    const cwd = process.cwd();
    write('rel/inc.cnf', '[mysqld]\nport=1\n');
    write('my.cnf', '!include rel/inc.cnf\n');
    process.chdir(dir);
    try {
      expect(pairs(readOptionFile('my.cnf'))).toEqual([['port', '1']]);
      expect(readOptionFile('my.cnf')[0].file).toBe(path.join(dir, 'rel', 'inc.cnf'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a missing include or includedir and an include cycle, naming the including line', () => {
    const main = write('my.cnf', `[mysqld]\n\n!include ${path.join(dir, 'nope.cnf')}\n`);
    expect(() => readOptionFile(main)).toThrow(`Could not open included file ${path.join(dir, 'nope.cnf')} (ENOENT) in config file ${main} at line 3`);
    const bad = write('bad.cnf', `!includedir ${path.join(dir, 'nodir')}\n`);
    expect(() => readOptionFile(bad)).toThrow(`Can't read dir of '${path.join(dir, 'nodir')}' (ENOENT) in config file ${bad} at line 1`);
    const loop = write('loop.cnf', `[mysqld]\n!include ${path.join(dir, 'loop.cnf')}\n`);
    expect(() => readOptionFile(loop)).toThrow(/nests deeper than 10 files \(an include cycle\?\) in config file .*loop\.cnf at line 2/);
  });

  it('names the included file and line for an error inside it', () => {
    const inner = write('inner.cnf', '[mysqld]\nok=1\n[broken\n');
    const main = write('my.cnf', `!include ${inner}\n`);
    expect(() => readOptionFile(main)).toThrow(`Wrong group definition in config file ${inner} at line 3`);
  });
});

describe('entriesOf', () => {
  it('keeps the entries of the asked groups in file order, matching group names without case', () => {
    const entries = parseOptionText('[mysqld]\na=1\n[client]\nb=2\n[AUTH-SOCKET]\nc=3\n[mysqld]\nd=4\n', 'x.cnf');
    expect(pairs(entriesOf(entries, ['mysqld', 'auth-socket']))).toEqual([
      ['a', '1'],
      ['c', '3'],
      ['d', '4'],
    ]);
  });
});
