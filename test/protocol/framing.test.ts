// The native packet decoder and the encoder: against frames written by hand around bytes MariaDB
// really sent, then properties over any payloads and any chunking (round-trips through encodePacket,
// whose own layout the hand-framed tests pin), and the decoder's memory as V8 sees it.
import { execFileSync } from 'child_process';
import path from 'path';

import fc from 'fast-check';

import { errorCode } from '../../lib/errors';
import { encodePacket, MAX_PHYSICAL_PAYLOAD, PacketDecoder, takeWholePackets, type MysqlPacket, type PacketDecodeError } from '../../lib/protocol/framing';
import { MARIADB_GREETING, MARIADB_OK } from './fixtures/captured';
import { hex } from './wire';

// Encodes payloads as consecutive packets of one exchange, the first carrying `sequenceId`.
function encodeAll(payloads: Buffer[], sequenceId: number): { stream: Buffer; ids: number[] } {
  const frames: Buffer[] = [];
  const ids: number[] = [];
  let next = sequenceId;
  for (const payload of payloads) {
    ids.push(next);
    const { frame, nextSequenceId } = encodePacket(payload, next);
    frames.push(frame);
    next = nextSequenceId;
  }
  return { stream: Buffer.concat(frames), ids };
}

// Splits `stream` at the given offsets (taken modulo its length, any order, duplicates allowed).
function chunk(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => (stream.length === 0 ? 0 : cut % (stream.length + 1))))];
  points.sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  return chunks;
}

interface Outcome {
  packets: MysqlPacket[];
  code?: string;
  /** Bytes pushed up to and including the chunk that failed (all of them without a failure). */
  consumed: Buffer;
}

function decodeChunks(decoder: PacketDecoder, chunks: Buffer[]): Outcome {
  const packets: MysqlPacket[] = [];
  const pushed: Buffer[] = [];
  for (const piece of chunks) {
    pushed.push(piece);
    try {
      packets.push(...decoder.push(piece));
    } catch (error) {
      packets.push(...(error as PacketDecodeError).packets);
      return { packets, code: errorCode(error), consumed: Buffer.concat(pushed) };
    }
  }
  return { packets, consumed: Buffer.concat(pushed) };
}

// Framing is canonical: the packets handed out, re-encoded, plus what the decoder still holds
// must give back exactly the bytes that went in.
function reencode(packets: MysqlPacket[], buffered: Buffer): Buffer {
  return Buffer.concat([...packets.map((p) => encodePacket(p.payload, p.sequenceId).frame), buffered]);
}

function catchError(fn: () => unknown): PacketDecodeError {
  try {
    fn();
  } catch (error) {
    return error as PacketDecodeError;
  }
  throw new Error('expected a throw');
}

const payloadArb = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes));
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });
const sequenceArb = fc.integer({ min: 0, max: 255 });
// Arbitrary bytes, and well-formed streams (ids from 0) with one byte overwritten.
const hostileArb = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(fc.array(payloadArb, { maxLength: 6 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([payloads, at, value]) => {
      const { stream } = encodeAll(payloads, 0);
      if (stream.length > 0) stream[at % stream.length] = value;
      return stream;
    }),
);

describe('encodePacket', () => {
  it('frames a short payload behind a 4-byte header', () => {
    const { frame, nextSequenceId } = encodePacket(Buffer.from('abc'), 7);
    expect([...frame]).toEqual([3, 0, 0, 7, 0x61, 0x62, 0x63]);
    expect(nextSequenceId).toBe(8);
  });

  it('wraps the sequence id at 256', () => {
    expect(encodePacket(Buffer.alloc(0), 255)).toEqual({ frame: Buffer.from([0, 0, 0, 255]), nextSequenceId: 0 });
  });

  it.each([
    [MAX_PHYSICAL_PAYLOAD - 1, [MAX_PHYSICAL_PAYLOAD - 1]],
    [MAX_PHYSICAL_PAYLOAD, [MAX_PHYSICAL_PAYLOAD, 0]],
    [MAX_PHYSICAL_PAYLOAD + 1, [MAX_PHYSICAL_PAYLOAD, 1]],
    [2 * MAX_PHYSICAL_PAYLOAD, [MAX_PHYSICAL_PAYLOAD, MAX_PHYSICAL_PAYLOAD, 0]],
  ])('splits a %i-byte payload into physical packets of %j bytes', (size, lengths) => {
    const { frame, nextSequenceId } = encodePacket(Buffer.alloc(size), 254);
    let offset = 0;
    const seen: number[][] = [];
    while (offset < frame.length) {
      const length = frame.readUIntLE(offset, 3);
      seen.push([length, frame[offset + 3]]);
      offset += 4 + length;
    }
    expect(offset).toBe(frame.length);
    expect(seen).toEqual(lengths.map((length, i) => [length, (254 + i) & 0xff]));
    expect(nextSequenceId).toBe((254 + lengths.length) & 0xff);
  });

  it('rejects what is not a payload or a sequence id', () => {
    expect(() => encodePacket('text' as unknown as Buffer, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    for (const id of [-1, 256, 1.5, Number.NaN]) {
      expect(() => encodePacket(Buffer.alloc(1), id)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });
});

// MariaDB's opening exchange as it crossed the socket (fixtures/captured.ts), framed by hand:
// int<3> payload length, int<1> sequence id, payload.
const MARIADB_STREAM = Buffer.concat([
  hex('640000', '00'), // greeting: 100 bytes, sequence id 0
  MARIADB_GREETING,
  hex('070000', '02'), // OK: 7 bytes, sequence id 2 (the client's response was 1)
  MARIADB_OK,
]);

describe('framing against bytes framed by hand', () => {
  it("encodePacket frames MariaDB's greeting and OK as MariaDB did", () => {
    expect(encodePacket(MARIADB_GREETING, 0)).toEqual({ frame: MARIADB_STREAM.subarray(0, 104), nextSequenceId: 1 });
    expect(encodePacket(MARIADB_OK, 2)).toEqual({ frame: MARIADB_STREAM.subarray(104), nextSequenceId: 3 });
  });

  it('PacketDecoder cuts a stream framed by hand into its packets, under any chunking', () => {
    fc.assert(
      fc.property(cutsArb, (cuts) => {
        const decoder = new PacketDecoder({ strictSequence: false });
        const outcome = decodeChunks(decoder, chunk(MARIADB_STREAM, cuts));
        expect(outcome.code).toBeUndefined();
        expect(outcome.packets).toEqual([
          { sequenceId: 0, payload: MARIADB_GREETING },
          { sequenceId: 2, payload: MARIADB_OK },
        ]);
      }),
      { numRuns: 100 },
    );
    // In strict mode the OK's id 2 is refused where 1 is expected.
    const strict = new PacketDecoder();
    expect(catchError(() => strict.push(MARIADB_STREAM)).code).toBe('ERR_PACKET_SEQUENCE');
  });

  it('PacketDecoder joins a payload split by hand into 0xFFFFFF + 1 bytes, ids 250 and 251', () => {
    const payload = Buffer.alloc(MAX_PHYSICAL_PAYLOAD + 1, 0x61);
    const stream = Buffer.concat([
      hex('ffffff', 'fa'), // 16777215 bytes, id 250: more follows
      payload.subarray(0, MAX_PHYSICAL_PAYLOAD),
      hex('010000', 'fb'), // 1 byte, id 251: the last piece
      payload.subarray(MAX_PHYSICAL_PAYLOAD),
      hex('000000', 'fc'), // an empty packet, id 252: a logical packet of its own
    ]);
    const decoder = new PacketDecoder({ sequenceId: 250, maxPayloadSize: 2 * MAX_PHYSICAL_PAYLOAD });
    const packets = decoder.push(stream);
    expect(packets.map((p) => [p.sequenceId, p.payload.length])).toEqual([
      [250, MAX_PHYSICAL_PAYLOAD + 1],
      [252, 0],
    ]);
    expect(packets[0].payload.equals(payload)).toBe(true);
    expect(decoder.nextSequenceId).toBe(253);
  });
});

describe('takeWholePackets', () => {
  const framed = (...packets: [string, number][]) => Buffer.concat(packets.map(([text, id]) => encodePacket(Buffer.from(text), id).frame));
  const shape = ({ packets, rest }: ReturnType<typeof takeWholePackets>) => ({ packets: packets.map((p) => [p.payload.toString(), p.sequenceId]), rest });

  it('takes every whole packet of a chunk, as views of it', () => {
    const chunk = framed(['one', 0], ['', 1], ['three', 2]);
    const taken = takeWholePackets(chunk, 1024);
    expect(shape(taken)).toEqual({ packets: [['one', 0], ['', 1], ['three', 2]], rest: chunk.length });
    expect(taken.packets[0].payload.buffer).toBe(chunk.buffer);
  });

  it('stops where a packet is incomplete, over the limit, or a full physical packet to be continued', () => {
    const head = framed(['ok', 3]);
    expect(shape(takeWholePackets(Buffer.concat([head, framed(['cut short', 4]).subarray(0, 7)]), 1024))).toEqual({ packets: [['ok', 3]], rest: head.length });
    expect(shape(takeWholePackets(Buffer.concat([head, Buffer.from([1, 0])]), 1024))).toEqual({ packets: [['ok', 3]], rest: head.length });
    expect(shape(takeWholePackets(Buffer.concat([head, framed(['too long', 4])]), 7))).toEqual({ packets: [['ok', 3]], rest: head.length });
    const full = Buffer.concat([head, Buffer.from([0xff, 0xff, 0xff, 4]), Buffer.alloc(MAX_PHYSICAL_PAYLOAD)]);
    expect(shape(takeWholePackets(full, 2 * MAX_PHYSICAL_PAYLOAD))).toEqual({ packets: [['ok', 3]], rest: head.length });
  });

  it('with the native decoder for what it leaves, gives what the decoder alone gives (any chunking)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), fc.array(fc.nat(300), { maxLength: 8 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((payload, i) => encodePacket(payload, i & 0xff).frame));
        const bounds = [...new Set([0, ...cuts.map((cut) => cut % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
        const alone = new PacketDecoder({ strictSequence: false });
        const decoder = new PacketDecoder({ strictSequence: false });
        const expected: MysqlPacket[] = [];
        const combined: MysqlPacket[] = [];
        for (let i = 1; i < bounds.length; i++) {
          const chunk = stream.subarray(bounds[i - 1], bounds[i]);
          expected.push(...alone.push(chunk));
          // As PacketChannel does: whole packets here while the decoder holds nothing.
          if (decoder.bufferedBytes === 0) {
            const { packets, rest } = takeWholePackets(chunk, 16 * 1024 * 1024);
            combined.push(...packets, ...decoder.push(chunk.subarray(rest)));
          } else {
            combined.push(...decoder.push(chunk));
          }
        }
        const plain = (packets: MysqlPacket[]) => packets.map((p) => [p.sequenceId, p.payload.toString('hex')]);
        expect(plain(combined)).toEqual(plain(expected));
        expect(plain(expected)).toEqual(payloads.map((payload, i) => [i & 0xff, Buffer.from(payload).toString('hex')]));
      }),
    );
  });
});

describe('PacketDecoder', () => {
  it('gives back any payloads, under any chunking, with their sequence ids', () => {
    fc.assert(
      fc.property(fc.array(payloadArb, { maxLength: 20 }), sequenceArb, cutsArb, (payloads, first, cuts) => {
        const { stream, ids } = encodeAll(payloads, first);
        const decoder = new PacketDecoder({ sequenceId: first });
        const outcome = decodeChunks(decoder, chunk(stream, cuts));
        expect(outcome.code).toBeUndefined();
        expect(outcome.packets.map((p) => p.sequenceId)).toEqual(ids);
        expect(outcome.packets.map((p) => p.payload)).toEqual(payloads);
        expect(decoder.bufferedBytes).toBe(0);
        expect(decoder.nextSequenceId).toBe((first + payloads.length) & 0xff);
      }),
      { numRuns: 300 },
    );
  });

  it('returns every packet of a chunk in one push, and keeps exactly the unparsed tail', () => {
    fc.assert(
      fc.property(fc.array(payloadArb, { minLength: 1, maxLength: 10 }), fc.nat(), (payloads, cut) => {
        const { stream } = encodeAll(payloads, 0);
        const prefix = stream.subarray(0, cut % (stream.length + 1));
        const decoder = new PacketDecoder();
        const packets = decoder.push(prefix);
        expect(decoder.bufferedBytes).toBe(prefix.length - reencode(packets, Buffer.alloc(0)).length);
        expect(reencode(packets, decoder.takeBuffered()).equals(prefix)).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never loses or invents a byte on arbitrary input: packets plus leftovers reproduce it', () => {
    fc.assert(
      fc.property(
        hostileArb,
        cutsArb,
        fc.oneof(fc.constant(0), sequenceArb),
        fc.integer({ min: 0, max: 400 }),
        (input, cuts, first, maxPayloadSize) => {
          const decoder = new PacketDecoder({ sequenceId: first, maxPayloadSize });
          const outcome = decodeChunks(decoder, chunk(input, cuts));
          expect([undefined, 'ERR_PACKET_SEQUENCE', 'ERR_PACKET_TOO_LARGE']).toContain(outcome.code);
          for (const packet of outcome.packets) expect(packet.payload.length).toBeLessThanOrEqual(maxPayloadSize);
          expect(reencode(outcome.packets, decoder.takeBuffered()).equals(outcome.consumed)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a packet with an unexpected sequence id, keeping the ones before it', () => {
    fc.assert(
      fc.property(
        fc.array(payloadArb, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (payloads, which, shift) => {
          const bad = which % payloads.length;
          const { stream: good } = encodeAll(payloads.slice(0, bad), 0);
          const wrong = encodePacket(payloads[bad], (bad + shift) & 0xff).frame;
          const decoder = new PacketDecoder();
          const error = catchError(() => decoder.push(Buffer.concat([good, wrong])));
          expect(error.code).toBe('ERR_PACKET_SEQUENCE');
          expect(error.packets.map((p) => p.payload)).toEqual(payloads.slice(0, bad));
          expect(decoder.takeBuffered().equals(wrong)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with strictSequence false, lets each packet start with any id and reports it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(payloadArb, sequenceArb), { minLength: 1, maxLength: 10 }), cutsArb, (packets, cuts) => {
        const stream = Buffer.concat(packets.map(([payload, id]) => encodePacket(payload, id).frame));
        const decoder = new PacketDecoder({ strictSequence: false });
        const outcome = decodeChunks(decoder, chunk(stream, cuts));
        expect(outcome.code).toBeUndefined();
        expect(outcome.packets).toEqual(packets.map(([payload, id]) => ({ sequenceId: id, payload })));
        expect(decoder.nextSequenceId).toBe((packets[packets.length - 1][1] + 1) & 0xff);
      }),
      { numRuns: 200 },
    );
  });

  it('with strictSequence false, still wants the continuation packets in sequence', () => {
    const { frame } = encodePacket(Buffer.alloc(MAX_PHYSICAL_PAYLOAD + 1), 7);
    frame[frame.length - 2] = 9; // the second physical packet's id: 9 instead of 8
    const decoder = new PacketDecoder({ strictSequence: false });
    const error = catchError(() => decoder.push(frame));
    expect(error.code).toBe('ERR_PACKET_SEQUENCE');
    expect(decoder.takeBuffered().equals(frame)).toBe(true);
  });

  it('stays failed: every later push throws the same code, whatever it is given', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(payloadArb, { maxLength: 4 }), (tooLarge, later) => {
        const decoder = new PacketDecoder({ maxPayloadSize: 8 });
        const failing = tooLarge ? Buffer.from([9, 0, 0, 0]) : Buffer.from([0, 0, 0, 1]);
        const code = tooLarge ? 'ERR_PACKET_TOO_LARGE' : 'ERR_PACKET_SEQUENCE';
        expect(catchError(() => decoder.push(failing)).code).toBe(code);
        decoder.resetSequence(0);
        for (const payload of later) {
          const error = catchError(() => decoder.push(encodePacket(payload, 0).frame));
          expect(error.code).toBe(code);
          expect(error.packets).toEqual([]);
        }
        expect(catchError(() => decoder.push(Buffer.alloc(0))).code).toBe(code);
      }),
    );
  });

  it('refuses an oversized payload from its header, before any of the payload arrives', () => {
    const decoder = new PacketDecoder({ maxPayloadSize: 1000 });
    expect(decoder.push(encodePacket(Buffer.alloc(1000), 0).frame)[0].payload.length).toBe(1000);
    const error = catchError(() => decoder.push(Buffer.from([0xe9, 0x03, 0, 1])));
    expect(error.code).toBe('ERR_PACKET_TOO_LARGE');
    // A continued header past the limit is refused the same way.
    const small = new PacketDecoder({ maxPayloadSize: 0xfffe });
    expect(catchError(() => small.push(Buffer.from([0xff, 0xff, 0xff, 0]))).code).toBe('ERR_PACKET_TOO_LARGE');
  });

  it('counts the continuation packets of one logical payload against the limit', () => {
    const decoder = new PacketDecoder({ maxPayloadSize: MAX_PHYSICAL_PAYLOAD + 2 });
    const { frame } = encodePacket(Buffer.alloc(MAX_PHYSICAL_PAYLOAD + 3), 0);
    const error = catchError(() => decoder.push(frame));
    expect(error.code).toBe('ERR_PACKET_TOO_LARGE');
    expect(error.packets).toEqual([]);
    expect(decoder.takeBuffered().equals(frame)).toBe(true);
  });

  it.each([MAX_PHYSICAL_PAYLOAD - 1, MAX_PHYSICAL_PAYLOAD, MAX_PHYSICAL_PAYLOAD + 1, 2 * MAX_PHYSICAL_PAYLOAD])(
    'reassembles a %i-byte payload under any chunking',
    (size) => {
      const payload = Buffer.alloc(size, 0x5a);
      payload[0] = 1;
      payload[size - 1] = 2;
      const after = Buffer.from('next');
      const { stream } = encodeAll([payload, after], 250);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 4 }), (cuts) => {
          const decoder = new PacketDecoder({ sequenceId: 250, maxPayloadSize: 2 * MAX_PHYSICAL_PAYLOAD });
          const outcome = decodeChunks(decoder, chunk(stream, cuts));
          expect(outcome.code).toBeUndefined();
          expect(outcome.packets).toHaveLength(2);
          expect(outcome.packets[0].sequenceId).toBe(250);
          expect(outcome.packets[0].payload.equals(payload)).toBe(true);
          expect(outcome.packets[1].payload.equals(after)).toBe(true);
          expect(decoder.bufferedBytes).toBe(0);
        }),
        { numRuns: 3 },
      );
    },
  );

  it('waits for the empty packet that ends a payload of exactly 0xFFFFFF bytes', () => {
    const { frame } = encodePacket(Buffer.alloc(MAX_PHYSICAL_PAYLOAD, 1), 3);
    expect(frame.subarray(frame.length - 4)).toEqual(Buffer.from([0, 0, 0, 4]));
    const decoder = new PacketDecoder({ sequenceId: 3 });
    expect(decoder.push(frame.subarray(0, frame.length - 4))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(frame.length - 4);
    const [packet] = decoder.push(frame.subarray(frame.length - 4));
    expect(packet.sequenceId).toBe(3);
    expect(packet.payload.length).toBe(MAX_PHYSICAL_PAYLOAD);
    expect(decoder.nextSequenceId).toBe(5);
  });

  it('wraps sequence ids at 256', () => {
    const payloads = Array.from({ length: 300 }, (_, i) => Buffer.from([i & 0xff]));
    const { stream } = encodeAll(payloads, 200);
    const decoder = new PacketDecoder({ sequenceId: 200 });
    const packets = decoder.push(stream);
    expect(packets.map((p) => p.sequenceId)).toEqual(payloads.map((_, i) => (200 + i) & 0xff));
    expect(decoder.nextSequenceId).toBe((200 + 300) & 0xff);
  });

  it('checks a partly received packet again under the id given to resetSequence', () => {
    const frame = encodePacket(Buffer.from('command'), 0).frame;
    const decoder = new PacketDecoder({ sequenceId: 0 });
    expect(decoder.push(frame.subarray(0, 6))).toEqual([]);
    decoder.resetSequence(3);
    expect(decoder.nextSequenceId).toBe(3);
    expect(catchError(() => decoder.push(frame.subarray(6))).code).toBe('ERR_PACKET_SEQUENCE');
    expect(decoder.takeBuffered().equals(frame)).toBe(true);

    const again = new PacketDecoder({ sequenceId: 9 });
    expect(again.push(frame.subarray(0, 2))).toEqual([]);
    again.resetSequence();
    expect(again.push(frame.subarray(2))).toEqual([{ sequenceId: 0, payload: Buffer.from('command') }]);
  });

  it('starts clean after takeBuffered, expecting the id the taken packet had', () => {
    const decoder = new PacketDecoder({ sequenceId: 4 });
    const frame = encodePacket(Buffer.from('abc'), 4).frame;
    decoder.push(frame.subarray(0, 5));
    expect(decoder.takeBuffered().equals(frame.subarray(0, 5))).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.nextSequenceId).toBe(4);
    expect(decoder.push(frame)).toEqual([{ sequenceId: 4, payload: Buffer.from('abc') }]);
  });

  it('accepts a plain Uint8Array', () => {
    const decoder = new PacketDecoder();
    expect(decoder.push(new Uint8Array([1, 0, 0, 0, 0x41]))).toEqual([{ sequenceId: 0, payload: Buffer.from('A') }]);
  });

  it('rejects bad arguments with a code', () => {
    const bad: [() => unknown, string][] = [
      [() => new PacketDecoder('big' as unknown as object), 'ERR_INVALID_ARG_TYPE'],
      [() => new PacketDecoder({ maxPayloadSize: '1' as unknown as number }), 'ERR_INVALID_ARG_TYPE'],
      [() => new PacketDecoder({ maxPayloadSize: -1 }), 'ERR_INVALID_ARG_VALUE'],
      [() => new PacketDecoder({ maxPayloadSize: 2 ** 30 + 1 }), 'ERR_INVALID_ARG_VALUE'],
      [() => new PacketDecoder({ maxPayloadSize: Number.NaN }), 'ERR_INVALID_ARG_VALUE'],
      [() => new PacketDecoder({ sequenceId: 256 }), 'ERR_INVALID_ARG_VALUE'],
      [() => new PacketDecoder({ sequenceId: 0.5 }), 'ERR_INVALID_ARG_VALUE'],
      [() => new PacketDecoder({ strictSequence: 1 as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
      [() => new PacketDecoder().push('bytes' as unknown as Buffer), 'ERR_INVALID_ARG_TYPE'],
      [() => new PacketDecoder().push(new Uint16Array(2) as unknown as Buffer), 'ERR_INVALID_ARG_TYPE'],
      [() => new PacketDecoder().resetSequence(-1), 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [fn, code] of bad) expect(catchError(fn).code).toBe(code);
  });
});

describe('PacketDecoder memory', () => {
  // What V8 counts as external memory is what drives its collections, but Node 20's memoryUsage()
  // and getHeapStatistics() show only ArrayBuffer backing stores, not what addons report; V8's own
  // count is printed by --trace-gc-verbose ("External memory reported"). So a process of its own
  // turns that trace on around each explicit gc() only: one reading per call, in order. Every
  // Buffer stays referenced, so the readings differ only by what the decoder reports.
  const script = `
    const v8 = require('v8');
    const { PacketDecoder } = require('node-gyp-build')(${JSON.stringify(path.join(__dirname, '..', '..'))});
    const reading = () => {
      v8.setFlagsFromString('--trace-gc-verbose');
      gc();
      v8.setFlagsFromString('--no-trace-gc-verbose');
    };
    const size = 8 * 1024 * 1024;
    const frame = Buffer.alloc(4 + size);
    frame.writeUIntLE(size, 0, 3);
    const partial = frame.subarray(0, frame.length - 1);
    const kept = [];
    const exercise = () => {
      const decoder = new PacketDecoder({ strictSequence: false });
      reading(); // base
      decoder.push(partial);
      reading(); // partial packet held
      kept.push(decoder.push(frame.subarray(frame.length - 1))[0].payload);
      reading(); // completed
      decoder.push(partial);
      kept.push(decoder.takeBuffered());
      reading(); // taken
      decoder.push(partial); // and dropped holding it
    };
    exercise();
    // Collected once exercise's frame is gone (a live frame's registers may still point at it);
    // Node runs the finalizer from an immediate.
    setImmediate(() => {
      gc();
      setImmediate(() => {
        reading(); // collected
        console.log('kept ' + kept.map((buffer) => buffer.length).join(' '));
      });
    });
  `;

  it('reports a partial packet to V8, and gives it back when the packet completes, is taken or the decoder is collected', () => {
    const size = 8 * 1024 * 1024;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    const reported = [...out.matchAll(/External memory reported:\s+(\d+) KB/g)].map((match) => Number(match[1]) * 1024);
    expect(reported).toHaveLength(5);
    expect(/^kept (\d+) (\d+)$/m.exec(out)?.slice(1).map(Number)).toEqual([size, size + 3]);
    const [base, partial, completed, taken, collected] = reported;
    const near = (value: number, expected: number) => expect(Math.abs(value - expected)).toBeLessThan(64 * 1024);
    near(partial - base, size);
    near(completed - base, size); // the payload Buffer only
    near(taken - base, 2 * size); // the payload and the taken bytes
    near(collected - base, 2 * size);
  });
});
