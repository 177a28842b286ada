import { defineChannel } from 'procwire';
import { z } from 'zod';

/**
 * The procwire contract of the benchmark. Validation is on in every case
 * (procwire's default) except the `/novalidate` ones, so each round trip
 * pays for two zod parses (the server checks the input, the client checks
 * the output) and every event is parsed by the client before the listener
 * sees it.
 */
const payload = z.object({ i: z.number().int(), s: z.string() });
const burstRequest = z.object({ count: z.number().int().positive(), size: z.number().int().positive() });
/** Binary data arrives as a Buffer, which is a Uint8Array: checked without looking at the bytes. */
const blob = z.object({ i: z.number().int(), b: z.instanceof(Uint8Array) });

export const benchChannel = defineChannel({
  name: 'bench',
  version: 1,
  rpc: {
    /** The latency probe: returns its input. */
    echo: { input: payload, output: payload },
    /** Starts a burst of `tick` events and answers at once. */
    burst: { input: burstRequest, output: z.number().int() },
    /** Starts a burst of `blob` events (binary payloads of `size` bytes) and answers at once. */
    blobBurst: { input: burstRequest, output: z.number().int() },
  },
  events: {
    /** The one-way message of the throughput test. */
    tick: payload,
    /** The one-way message of the GB/s test. */
    blob,
  },
  streams: {
    /**
     * `count` binary payloads of `size` bytes: how the GB/s test moves them.
     * A stream is procwire's API for bulk data (credit-based backpressure;
     * large payloads go from the producer's buffer into the transport
     * without the encoder's copy, whereas `emit` copies, since it returns at
     * once and the caller may reuse its buffer).
     */
    blobs: { input: burstRequest, output: blob },
  },
});
