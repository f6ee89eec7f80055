// Reading an ident file safely (for ident-map.ts): a line someone else adds is a login, so the
// file, every directory its path is resolved through (symlinks followed by hand, as the kernel
// follows them) and every symlink on the way must be root's or the server's, and not writable by
// others: neither the file nor anything that decides which file the path names can be changed by
// them.
import fs from 'fs';

import { codedError } from '../errors';

/** A larger map is no map anyone wrote by hand. */
export const MAX_IDENT_FILE_BYTES = 1024 * 1024;

// The kernel's limit on symlinks followed in one lookup (ELOOP past it).
const MAX_SYMLINKS = 40;

const ours = (s: fs.Stats) => s.uid === 0 || s.uid === (process.geteuid?.() ?? 0);
const othersWrite = (s: fs.Stats) => (s.mode & 0o022) !== 0;
const sticky = (s: fs.Stats) => (s.mode & 0o1000) !== 0;

function unsafe(file: string, what: string, s: fs.Stats): Error {
  const owner = `owner uid ${s.uid}, mode 0${(s.mode & 0o7777).toString(8)}`;
  return codedError('ERR_IDENT_MAP_UNSAFE', `${what} of ${file} may be written by others (${owner}): make it root's or the server's, without group or other write`);
}

const changed = (file: string) => codedError('ERR_IDENT_MAP_UNSAFE', `${file} changed while it was checked or read: refused, try again`);

// A directory an entry of the path is looked up in. Others may write it only when it is sticky
// (/tmp): there they cannot rename or remove what is ours, and what the path takes from it next
// must be ours (a directory, a symlink; the file's own directory is held to more, see walk()).
function checkDirectory(file: string, dir: string, s: fs.Stats): void {
  if (!s.isDirectory()) throw changed(file);
  if (!ours(s) || (othersWrite(s) && !sticky(s))) throw unsafe(file, `the directory ${dir} on the path`, s);
}

// Resolves `file` as the kernel's lookup does (symlinks followed, '..' taken from the directory
// reached, not the text), checking each directory and symlink met. Returns the final entry's
// lstat. Checking only the real path would miss the directories that hold the symlinks, and
// checking only the text would miss where the symlinks lead.
async function walk(file: string): Promise<fs.Stats> {
  const names = (text: string) => text.split('/').filter((name) => name !== '' && name !== '.');
  // The cwd is already a real path (getcwd).
  const todo = names(file.startsWith('/') ? file : `${process.cwd()}/${file}`);
  const root = await fs.promises.lstat('/');
  checkDirectory(file, '/', root);
  let dir = '/';
  let dirStat = root;
  let links = 0;
  for (;;) {
    const name = todo.shift();
    if (name === undefined) return dirStat;
    if (name === '..') {
      dir = dir.slice(0, dir.lastIndexOf('/')) || '/';
      dirStat = await fs.promises.lstat(dir);
      checkDirectory(file, dir, dirStat);
      continue;
    }
    const next = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const s = await fs.promises.lstat(next);
    if (s.isSymbolicLink()) {
      // Its directory is checked, so only its owner could replace it (in a sticky one): ours.
      if (!ours(s)) throw unsafe(file, `the symlink ${next} on the path`, s);
      if (++links > MAX_SYMLINKS) throw codedError('ERR_IDENT_MAP_UNSAFE', `${file}: more than ${MAX_SYMLINKS} symlinks on the path`);
      const target = await fs.promises.readlink(next);
      todo.unshift(...names(target));
      if (target.startsWith('/')) [dir, dirStat] = ['/', root];
      continue;
    }
    if (todo.length === 0) {
      // The file's own directory: a sticky one others write still lets them create its name
      // while it is away (an editor's save), so no write for others at all.
      if (othersWrite(dirStat)) throw unsafe(file, `its directory ${dir}`, dirStat);
      return s;
    }
    checkDirectory(file, next, s);
    [dir, dirStat] = [next, s];
  }
}

// The opened file, and the path to it, must be ours alone to change.
async function checkSafety(file: string, stat: fs.Stats): Promise<void> {
  if (!ours(stat) || othersWrite(stat)) throw unsafe(file, 'the ident file', stat);
  const found = await walk(file);
  // What the walk reached must be what was opened: else something moved in between.
  if (found.dev !== stat.dev || found.ino !== stat.ino) throw changed(file);
}

// Attempts at a read that no write overlapped, before the file is refused as changing.
const READ_ATTEMPTS = 3;

// Whether the file was left alone between two fstats: else a read in between may be torn.
const same = (a: fs.BigIntStats, b: fs.BigIntStats) =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

// One open, check and read; null when the file changed during the read.
async function readOnce(file: string): Promise<Buffer | null> {
  // O_NONBLOCK: a FIFO put at the path must not hang the open (it is then refused as no regular file).
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    // The opened file is the one checked and read, whatever is renamed over the path meanwhile.
    const stat = await handle.stat();
    if (!stat.isFile()) throw codedError('ERR_IDENT_MAP_UNSAFE', `${file} is not a regular file`);
    await checkSafety(file, stat);
    const before = await handle.stat({ bigint: true });
    // One byte past the limit is read, so parseIdentMap() names the line that goes past it.
    const buffer = Buffer.alloc(Math.min(Number(before.size), MAX_IDENT_FILE_BYTES) + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const after = await handle.stat({ bigint: true });
    if (!same(before, after) || bytesRead !== Math.min(Number(before.size), buffer.length)) return null;
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the ident file at `file` after the safety checks, as bytes for identMapOf(). A read that
 * a write overlapped (size, mtime, ctime or inode changed) is done again, a few times. Rejects
 * with ERR_IDENT_MAP_UNSAFE (not a regular file; the file, a directory or symlink on its path
 * others may write; it changed while checked, or kept changing while read) or the file system's
 * error (ENOENT, EACCES...), naming the file.
 */
export async function readIdentFile(file: string): Promise<Buffer> {
  if (typeof file !== 'string' || file === '') throw codedError('ERR_INVALID_ARG_TYPE', 'the ident file must be a path', TypeError);
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    const bytes = await readOnce(file);
    if (bytes !== null) return bytes;
    // Give the writer a moment to finish.
    await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
  }
  throw codedError('ERR_IDENT_MAP_UNSAFE', `${file} kept changing while it was read (${READ_ATTEMPTS} times): refused, try again`);
}
