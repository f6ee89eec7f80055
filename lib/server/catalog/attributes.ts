// An account's attributes: MySQL 8.0.21's user attributes (the "metadata" member of mysql.user's
// User_attributes column, sql/auth/acl_table_user.cc), a JSON object that CREATE USER and ALTER USER
// merge into as JSON_MERGE_PATCH() does (Json_object::merge_patch, sql-common/json_dom.cc). What
// makes a value acceptable (a JSON object, at most MySQL's 100 levels deep, at most 64 KiB as
// JSON), the merge, and the frozen copy an Account holds.

/** An account's attributes: a JSON object, never changed in place. */
export type Attributes = Readonly<Record<string, unknown>>;

/** MySQL's JSON_DOCUMENT_MAX_DEPTH: arrays and objects nest at most this deep. */
export const MAX_ATTRIBUTES_DEPTH = 100;

/**
 * Bytes of attributes as JSON text (UTF-8). MySQL's JSON column takes up to max_allowed_packet;
 * this bound keeps one account from growing the datadir without end.
 */
export const MAX_ATTRIBUTES_BYTES = 64 * 1024;

/** Why a value cannot be an account's attributes. */
export type AttributesProblem = 'not-object' | 'too-deep' | 'too-large';

// A plain object: what JSON.parse makes of {...} (or one without a prototype).
function isObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// JSON's values only, at most MAX_ATTRIBUTES_DEPTH deep and MAX_ATTRIBUTES_BYTES values in all
// (each takes a byte of JSON text at least): a cyclic value or one sharing its parts many times
// stops the walk there, so it never recurses deeper than that nor visits more than that.
function walk(value: unknown, depth: number, budget: { values: number }): AttributesProblem | null {
  if (--budget.values < 0) return 'too-large';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'not-object';
  const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : null;
  if (children === null) return 'not-object';
  if (depth >= MAX_ATTRIBUTES_DEPTH) return 'too-deep';
  for (const child of children) {
    const problem = walk(child, depth + 1, budget);
    if (problem !== null) return problem;
  }
  return null;
}

/** Why `value` cannot be an account's attributes, or null when it can. */
export function attributesProblem(value: unknown): AttributesProblem | null {
  if (!isObject(value)) return 'not-object';
  const problem = walk(value, 0, { values: MAX_ATTRIBUTES_BYTES });
  if (problem !== null) return problem;
  return Buffer.byteLength(JSON.stringify(value)) > MAX_ATTRIBUTES_BYTES ? 'too-large' : null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
}

/** A frozen copy of attributes that attributesProblem() accepted: nothing outside holds a part of it. */
export const frozenAttributes = (value: Attributes): Attributes => deepFreeze(JSON.parse(JSON.stringify(value)) as Attributes);

/**
 * RFC 7396 (JSON_MERGE_PATCH): a member of `patch` set to null is removed, an object merges
 * into an object, any other value replaces the member. Object.fromEntries defines each member,
 * so a "__proto__" key stays a member. Both are at most MAX_ATTRIBUTES_DEPTH deep.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const members = new Map(isObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) members.delete(key);
    else members.set(key, mergePatch(members.get(key), value));
  }
  return Object.fromEntries(members);
}
