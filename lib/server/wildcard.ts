// MySQL's % and _ wildcards, matched the way a wildcard walk matches them (backtracking only to
// the last %): used by LIKE and by account host patterns ('%.example.com', '192.168.1._').
// Case-insensitive, as MySQL's default collation and host names are; O(n·m) at worst, so callers
// bound what they hand it.

/**
 * Whether `value` matches `pattern`: % any run, _ one character, and, with `escapes`, \ making
 * the next character literal (LIKE's default escape).
 */
export function wildcardMatch(value: string, pattern: string, escapes: boolean): boolean {
  const text = [...value.toLowerCase()];
  // The pattern as tokens: '%', '_' or '=' and a literal character.
  const chars = [...pattern.toLowerCase()];
  const tokens: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (escapes && c === '\\' && i + 1 < chars.length) tokens.push(`=${chars[++i]}`);
    // A run of % is one %.
    else if (c === '%' && tokens[tokens.length - 1] === '%') continue;
    else tokens.push(c === '%' || c === '_' ? c : `=${c}`);
  }
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < tokens.length && (tokens[p] === '_' || tokens[p] === `=${text[t]}`)) {
      t++;
      p++;
    } else if (p < tokens.length && tokens[p] === '%') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < tokens.length && tokens[p] === '%') p++;
  return p === tokens.length;
}
