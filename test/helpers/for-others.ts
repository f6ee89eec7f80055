// What tests run as other OS users (nobody, daemon, a uid without passwd entry, ...) cannot come
// from the checkout: a checkout in /root or a mode-0700 temp dir is unreadable to them, and a
// symlink would not help (its target stays unreadable). So jest's globalSetup copies those
// fixtures, the npm packages they require, and the built package itself (for a server run as
// another user), once per run into a temp dir everyone can read and only we can write (dirs
// 0755, files 0644), and passes its path to the workers in FOR_OTHERS_ENV; globalTeardown removes
// it. Layout mirrors the checkout: <dir>/fixtures/<script>, <dir>/dist, <dir>/prebuilds,
// <dir>/package.json, <dir>/node_modules/...
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** Fixture scripts that other OS users run, with the npm packages each of them requires. */
const FIXTURES_FOR_OTHERS = {
  'connect-and-wait.js': [],
  'sql-client.js': ['mysql2', 'mariadb'],
} as const;

export type FixtureForOthers = keyof typeof FIXTURES_FOR_OTHERS;

export const FOR_OTHERS_ENV = 'AUTH_SOCKET_TEST_FOR_OTHERS';

function forOthersDir(): string {
  const dir = process.env[FOR_OTHERS_ENV];
  if (dir === undefined) throw new Error(`${FOR_OTHERS_ENV} is not set: run the tests through jest's config (globalSetup: test/global-setup.ts)`);
  return dir;
}

/** Path of the world-readable copy of `fixture`; run this, never test/fixtures/, as another user. */
export function fixtureForOthers(fixture: FixtureForOthers): string {
  return path.join(forOthersDir(), 'fixtures', fixture);
}

/** The world-readable copy of the built package's file `relative` (e.g. dist/cli/main.js). */
export function packageFileForOthers(relative: string): string {
  return path.join(forOthersDir(), relative);
}

// The built package as its users get it: what package.json's `files` ship, less the sources, and
// its runtime dependencies (npm test builds dist/ before jest starts).
function copyBuiltPackage(dest: string, copied: Set<string>): void {
  if (!fs.existsSync(path.join(ROOT, 'dist'))) return;
  for (const part of ['dist', 'prebuilds']) copyReadable(path.join(ROOT, part), path.join(dest, part));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dest, 'package.json'));
  fs.chmodSync(path.join(dest, 'package.json'), 0o644);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copyPackage(dependency, ROOT, dest, copied);
}

// Copies dirs as 0755 and files as 0644 whatever the source modes and umask; follows symlinks
// (their targets may lie where others cannot read). node_modules inside a package is left out:
// its dependencies are copied one by one, only those it declares.
function copyReadable(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  fs.chmodSync(to, 0o755);
  for (const entry of fs.readdirSync(from)) {
    if (entry === 'node_modules') continue;
    const source = path.join(from, entry);
    const target = path.join(to, entry);
    if (fs.statSync(source).isDirectory()) {
      copyReadable(source, target);
    } else {
      fs.copyFileSync(source, target);
      fs.chmodSync(target, 0o644);
    }
  }
}

// Where Node would find `name` from package dir `from`: the nearest node_modules/<name> up to ROOT.
function findPackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || path.dirname(dir) === dir) return null;
  }
}

// Copies `name` as resolved from `from`, then its dependency closure from each package.json, to
// the same place relative to ROOT, so Node resolves every require() in the copy as in the checkout.
// @types/* packages hold declarations only and are never require()d.
function copyPackage(name: string, from: string, dest: string, copied: Set<string>, optional = false): void {
  if (name.startsWith('@types/')) return;
  const dir = findPackage(name, from);
  if (dir === null) {
    if (optional) return;
    throw new Error(`cannot find package ${name} from ${from}: run npm ci`);
  }
  if (copied.has(dir)) return;
  copied.add(dir);
  copyReadable(dir, path.join(dest, path.relative(ROOT, dir)));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copyPackage(dependency, dir, dest, copied);
  for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) copyPackage(dependency, dir, dest, copied, true);
}

const PREFIX = 'auth-socket-for-others-';

// A run killed before its globalTeardown (a timeout, ^C) leaves its copy behind: removes ours
// whose jest process (the pid in the name) is gone. Live runs' copies stay.
function removeLeftovers(): void {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const pid = Number(/^auth-socket-for-others-(\d+)-/.exec(entry)?.[1]);
    if (!pid) continue;
    const dir = path.join(os.tmpdir(), entry);
    try {
      if (fs.lstatSync(dir).uid !== process.getuid!()) continue;
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** globalSetup: creates the world-readable copy and returns its path. */
export function prepareForOthers(): string {
  removeLeftovers();
  // Others must traverse every ancestor of the copy (TMPDIR inside /root would defeat it).
  for (let dir = os.tmpdir(); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) throw new Error(`${dir} is not searchable by other users: point TMPDIR elsewhere`);
    if (path.dirname(dir) === dir) break;
  }
  // mkdtemp creates 0700, owned by us: chmod opens it for reading only.
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  try {
    fs.chmodSync(dest, 0o755);
    fs.mkdirSync(path.join(dest, 'fixtures'), { mode: 0o755 });
    fs.chmodSync(path.join(dest, 'fixtures'), 0o755);
    const copied = new Set<string>();
    for (const [fixture, packages] of Object.entries(FIXTURES_FOR_OTHERS)) {
      const target = path.join(dest, 'fixtures', fixture);
      fs.copyFileSync(path.join(FIXTURES, fixture), target);
      fs.chmodSync(target, 0o644);
      for (const name of packages) copyPackage(name, ROOT, dest, copied);
    }
    copyBuiltPackage(dest, copied);
    return dest;
  } catch (error) {
    fs.rmSync(dest, { recursive: true, force: true });
    throw error;
  }
}

/** globalTeardown: removes the copy. */
export function removeForOthers(dir: string | undefined): void {
  if (dir !== undefined && path.basename(dir).startsWith(PREFIX)) fs.rmSync(dir, { recursive: true, force: true });
}
