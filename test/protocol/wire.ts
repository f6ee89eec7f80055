// Expected bytes for the protocol tests, written independently of lib/protocol's builders: hex
// literals laid out one field per string (each with its comment at the call site).

/** Concatenates hex strings (spaces allowed) into one Buffer; refuses anything that is not hex. */
export function hex(...fields: string[]): Buffer {
  const digits = fields.join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex bytes: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** The bytes of an ASCII text written as hex (for long runs of text inside a literal). */
export function asciiHex(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error('asciiHex takes printable ASCII only');
  return Buffer.from(text, 'latin1').toString('hex');
}

/** The code of what `fn` throws (fails the test if it does not throw). */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected a throw');
}
