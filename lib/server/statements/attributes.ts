// ATTRIBUTE and COMMENT of CREATE USER and ALTER USER, as sql/auth/sql_user.cc takes them: the
// statement's JSON parsed (ER_INVALID_USER_ATTRIBUTE_JSON unless an object) and merged into the
// account's own as JSON_MERGE_PATCH() does. And the attributes as SHOW CREATE USER and
// INFORMATION_SCHEMA.USER_ATTRIBUTES print them: MySQL's JSON text (Json_wrapper::to_string,
// sql-common/json_dom.cc: members ordered by key length then bytes, ", " and ": " between them),
// with the value of every secret member, at any depth, shown as "<secret>".
import { Attributes, AttributesProblem, attributesProblem, MAX_ATTRIBUTES_BYTES, mergePatch } from '../catalog/attributes';
import { sqlError } from '../sql-error';
import { SECRET } from './context';

/** Members whose value no statement shows: the password the proxy logs in upstream with. */
const SECRET_MEMBERS = new Set(['upstream_password']);

// MySQL's refusal of a value that cannot be an account's attributes.
function refuse(problem: AttributesProblem): never {
  if (problem === 'not-object') throw sqlError('ER_INVALID_USER_ATTRIBUTE_JSON');
  if (problem === 'too-deep') throw sqlError('ER_JSON_DOCUMENT_TOO_DEEP');
  throw sqlError('ER_NOT_SUPPORTED_YET', `user attributes over ${MAX_ATTRIBUTES_BYTES} bytes`);
}

function check(value: unknown): Attributes {
  const problem = attributesProblem(value);
  return problem === null ? (value as Attributes) : refuse(problem);
}

/** The attributes an account has once the statement's ATTRIBUTE `text` is merged into `current`. */
export function mergedAttributes(current: Attributes | null | undefined, text: string): Attributes {
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch {
    refuse('not-object');
  }
  return check(mergePatch(current ?? {}, check(patch)));
}

// MySQL orders an object's members by the length of their key, then by its bytes.
function keyOrder(a: string, b: string): number {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length - y.length || Buffer.compare(x, y);
}

function jsonText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonText).join(', ')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const members = value as Record<string, unknown>;
  const shown = Object.keys(members)
    .sort(keyOrder)
    .map((key) => `${JSON.stringify(key)}: ${SECRET_MEMBERS.has(key) ? JSON.stringify(SECRET) : jsonText(members[key])}`);
  return `{${shown.join(', ')}}`;
}

/** The attributes as MySQL prints them, secrets masked; null for an account without any. */
export function shownAttributes(attributes: Attributes | null | undefined): string | null {
  return attributes === null || attributes === undefined ? null : jsonText(attributes);
}
