// MySQL option files (my.cnf) read as MySQL reads them: mirrors mysys/my_default.cc
// (search_default_file_with_ext, remove_end_comment, get_argument). Text in, an ordered list of
// [group] name[=value] entries out, each remembering its file and line, includes resolved.
//
// Our own parser, not a package: `ini` (and multi-ini, js-ini) keep only the last of a repeated
// key (so plugin-load-add cannot repeat), know nothing of !include/!includedir, keep the quotes of
// `"a b" # note`, end values at any `;`, and have no \s-style escapes; js-ini refuses bare flags.
// What options mean (and my_getopt's `-`/`_` equivalence, `loose-`) is serve-options.ts's business.
import fs from 'fs';
import path from 'path';

import { codedError } from '../errors';

export interface OptionEntry {
  /** The [group] as written; MySQL matches group names without regard to case. */
  group: string;
  name: string;
  /** null for a bare flag (`skip-networking`); '' for `name=`. */
  value: string | null;
  file: string;
  line: number;
}

// my_default.cc's max_recursion_level: MySQL warns and skips deeper includes; we refuse them,
// as a cycle is the usual cause and a skipped file would go unnoticed.
const MAX_INCLUDE_DEPTH = 10;

// my_isspace over latin1 for the characters a text file holds.
const SPACE = /[ \t\n\r\v\f]/;
const isSpace = (c: string | undefined) => c !== undefined && SPACE.test(c);

function fileError(file: string, line: number, message: string): Error {
  return codedError('ERR_OPTION_FILE', `${message} in config file ${file} at line ${line}`);
}

/**
 * The option file at `file` and everything it includes, in the order MySQL reads them. A file
 * that cannot be read is an error, as MySQL's "Could not open required defaults file".
 */
export function readOptionFile(file: string): OptionEntry[] {
  return readFile(path.resolve(file), 0, null);
}

function readFile(file: string, depth: number, from: { file: string; line: number } | null): OptionEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (from === null) throw codedError('ERR_OPTION_FILE', `Could not open required defaults file: ${file} (${reason})`);
    throw fileError(from.file, from.line, `Could not open included file ${file} (${reason})`);
  }
  return parseOptionText(text, file, depth);
}

/** Parses option-file text; `file` names it in errors and resolves nothing (include paths are as written). */
export function parseOptionText(text: string, file: string, depth = 0): OptionEntry[] {
  const entries: OptionEntry[] = [];
  // Each file starts outside any group, and an include does not change the includer's group.
  let group: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = lines[i].replace(/^[ \t\n\r\v\f]+/, '');
    if (content === '' || content[0] === '#' || content[0] === ';') continue;
    if (content[0] === '!') {
      entries.push(...directive(content.slice(1), file, line, depth));
      continue;
    }
    if (content[0] === '[') {
      const close = content.indexOf(']');
      if (close < 0) throw fileError(file, line, 'Wrong group definition');
      // MySQL ignores whatever follows the ']'.
      group = content.slice(1, close).trim();
      continue;
    }
    if (group === null) throw fileError(file, line, 'Found option without preceding group');
    entries.push({ group, ...option(removeEndComment(content), file, line), file, line });
  }
  return entries;
}

/** `!include FILE` and `!includedir DIR` (its *.cnf files, sorted by name, as my_dir lists them on Unix). */
function directive(rest: string, file: string, line: number, depth: number): OptionEntry[] {
  const match = /^[ \t\v\f]*(includedir|include)([ \t\v\f]+(.*?))?[ \t\n\r\v\f]*$/s.exec(rest);
  if (!match) throw fileError(file, line, `Unknown directive '!${rest.trim()}'`);
  const [, keyword, , argument] = match;
  if (!argument) throw fileError(file, line, `Wrong '!${keyword}' directive`);
  if (depth + 1 > MAX_INCLUDE_DEPTH) {
    throw fileError(file, line, `'!${keyword} ${argument}' nests deeper than ${MAX_INCLUDE_DEPTH} files (an include cycle?)`);
  }
  // Relative paths are relative to the working directory, as MySQL opens them.
  const target = path.resolve(argument);
  if (keyword === 'include') return readFile(target, depth + 1, { file, line });
  let names: string[];
  try {
    names = fs.readdirSync(target);
  } catch (error) {
    throw fileError(file, line, `Can't read dir of '${target}' (${(error as NodeJS.ErrnoException).code})`);
  }
  return names
    .filter((name) => path.extname(name) === '.cnf')
    .sort()
    .map((name) => path.join(target, name))
    .filter((candidate) => fs.statSync(candidate, { throwIfNoEntry: false })?.isFile())
    .flatMap((candidate) => readFile(candidate, depth + 1, { file, line }));
}

/**
 * remove_end_comment(): a `#` outside quotes ends the line, wherever it stands (`a=b#c` is `b`).
 * Quotes are tracked over the whole line; a backslash escapes a quote only inside quotes.
 */
function removeEndComment(content: string): string {
  let quote = '';
  let escape = false;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if ((c === "'" || c === '"') && !escape) {
      if (quote === '') quote = c;
      else if (quote === c) quote = '';
    }
    if (quote === '' && c === '#') return content.slice(0, i);
    escape = quote !== '' && c === '\\' && !escape;
  }
  return content;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', s: ' ', '"': '"', "'": "'", '\\': '\\' };

/** `name`, or `name = value` with spaces trimmed, one pair of matching quotes removed and escapes read. */
function option(content: string, file: string, line: number): { name: string; value: string | null } {
  const eq = content.indexOf('=');
  const name = (eq < 0 ? content : content.slice(0, eq)).replace(/[ \t\n\r\v\f]+$/, '');
  if (name === '') throw fileError(file, line, 'Option without a name');
  if (eq < 0) return { name, value: null };
  let value = content.slice(eq + 1).replace(/^[ \t\n\r\v\f]+/, '');
  while (value !== '' && isSpace(value[value.length - 1])) value = value.slice(0, -1);
  if (value.length > 1 && (value[0] === '"' || value[0] === "'") && value[0] === value[value.length - 1]) {
    value = value.slice(1, -1);
  }
  // Escapes apply quoted or not; an unknown one keeps its backslash, a trailing one stays.
  let out = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\' && i < value.length - 1) {
      const next = value[++i];
      out += ESCAPES[next] ?? `\\${next}`;
    } else {
      out += value[i];
    }
  }
  return { name, value: out };
}

/** The entries of the given groups (matched without regard to case), in file order: later ones win. */
export function entriesOf(entries: OptionEntry[], groups: string[]): OptionEntry[] {
  const wanted = new Set(groups.map((group) => group.toLowerCase()));
  return entries.filter((entry) => wanted.has(entry.group.toLowerCase()));
}
