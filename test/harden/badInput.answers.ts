import { inspect, isDeepStrictEqual } from 'node:util';
import { ErrorCode } from 'procwire';
import { MAX_MSGID, MessageType } from 'procwire/link';
import type { Answer } from './badInput.case.js';

/** Any value, briefly (BigInt and Buffers included, which JSON cannot show). */
export const show = (value: unknown): string => inspect(value, { depth: 3, maxArrayLength: 8, maxStringLength: 80, breakLength: Infinity });

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
const CODE_PREFIX = /^([A-Z][A-Z0-9_]*): /;

/** The code of an error as it crossed the wire (a map to procwire peers, "CODE: message" to plain ones). */
function wireCode(error: unknown): string | undefined {
  if (typeof error === 'string') return CODE_PREFIX.exec(error)?.[1];
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') return code;
  }
  return undefined;
}

function typedProblem(error: unknown): string | undefined {
  const code = wireCode(error);
  if (code === undefined) return `an error in no known shape: ${show(error)}`;
  if (!KNOWN_CODES.has(code)) return `an error with an unknown code ${code}`;
  return undefined;
}

const isMsgid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_MSGID;

/**
 * What the server sent back on one connection, indexed as it arrives (a
 * case may expect a thousand answers, and is checked after each delivery).
 */
export class Replies {
  readonly all: unknown[] = [];
  /** The first response to each id, and how many responses came in all. */
  readonly responses = new Map<unknown, unknown[]>();
  responseCount = 0;
  readonly streamFrames = new Map<unknown, unknown[][]>();
  readonly streamEnds = new Set<unknown>();
  hellos = 0;

  add(message: unknown): void {
    this.all.push(message);
    if (!Array.isArray(message)) return;
    const [type, id] = message;
    if (type === MessageType.RESPONSE) {
      this.responseCount++;
      if (!this.responses.has(id)) this.responses.set(id, message);
    } else if (type === MessageType.STREAM_ITEM || type === MessageType.STREAM_END) {
      const frames = this.streamFrames.get(id) ?? [];
      frames.push(message);
      this.streamFrames.set(id, frames);
      if (type === MessageType.STREAM_END) this.streamEnds.add(id);
    } else if (type === MessageType.HELLO) {
      this.hellos++;
    }
  }
}

/** What the hostile peer sent, as the server reads it: only well-formed messages can be answered. */
export class Asked {
  readonly requests = new Map<number, unknown[]>();
  readonly streams = new Set<number>();
  /** Stream opens that carry credit: each is owed an item or its end. */
  readonly creditedStreams: number[] = [];
  /** Hello messages of any shape, and the well-formed ones (each is owed the server's hello). */
  hellos = 0;
  wellFormedHellos = 0;

  constructor(sent: readonly unknown[]) {
    for (const m of sent) {
      if (!Array.isArray(m)) continue;
      const id = m[1];
      if (m[0] === MessageType.REQUEST && m.length === 4 && isMsgid(id)) this.requests.set(id, m);
      if (m[0] === MessageType.STREAM_OPEN && m.length === 5 && isMsgid(id)) {
        this.streams.add(id);
        if (isMsgid(m[4]) && m[4] > 0) this.creditedStreams.push(id);
      }
      if (m[0] === MessageType.HELLO) {
        this.hellos++;
        const hello = m[1] as { procwire?: unknown } | null;
        if (m.length === 2 && typeof hello === 'object' && hello !== null && typeof hello.procwire === 'number') this.wellFormedHellos++;
      }
    }
  }

  /** What the server still owes: a response to every request, something to every credited stream, a hello to every hello. */
  owed(replies: Replies): string[] {
    const missing: string[] = [];
    for (const id of this.requests.keys()) if (!replies.responses.has(id)) missing.push(`no answer to request ${id}`);
    for (const id of this.creditedStreams) if (!replies.streamFrames.has(id)) missing.push(`no answer to stream open ${id}`);
    if (replies.hellos < this.wellFormedHellos) missing.push(`${this.wellFormedHellos - replies.hellos} hello(s) not answered`);
    return missing;
  }
}

/** For `add` the answer is predictable from what was sent: a + b. */
function addProblem(request: unknown[], result: unknown): string | undefined {
  if (request[2] !== 'harden.add') return undefined;
  const input = Array.isArray(request[3]) ? (request[3][0] as { a?: unknown; b?: unknown } | undefined) : undefined;
  const { a, b } = input ?? {};
  if (typeof a !== 'number' || typeof b !== 'number') return `add of ${show(input)} answered ${show(result)} instead of an error`;
  if (result !== a + b) return `add(${a}, ${b}) answered ${show(result)}`;
  return undefined;
}

/**
 * Checks every message the server sent back: it must be a reply procwire
 * sends (RESPONSE, HELLO, STREAM_ITEM, STREAM_END) to something the peer
 * really asked, well-formed, with errors typed by a known code, and `add`
 * must have added. Returns what is wrong.
 */
export function judgeReplies(asked: Asked, replies: Replies): string[] {
  const problems: string[] = [];
  const responded = new Set<number>();
  let helloAnswers = 0;
  for (const m of replies.all) {
    if (!Array.isArray(m)) {
      problems.push(`a reply that is not an array: ${show(m)}`);
      continue;
    }
    const [type, id] = m;
    if (type === MessageType.RESPONSE) {
      const request = isMsgid(id) ? asked.requests.get(id) : undefined;
      if (m.length !== 4 || !request) problems.push(`a response to nothing asked: id ${show(id)}`);
      else if (responded.has(id)) problems.push(`two responses to id ${id}`);
      else {
        responded.add(id);
        const problem = m[2] === null ? addProblem(request, m[3]) : typedProblem(m[2]);
        if (problem) problems.push(problem);
      }
    } else if (type === MessageType.HELLO) {
      const hello = m[1] as { channel?: unknown; procwire?: unknown } | undefined;
      if (++helloAnswers > asked.hellos) problems.push('a hello answer to no hello');
      else if (m.length !== 2 || hello?.channel !== 'harden' || hello.procwire !== 1) problems.push(`a malformed hello answer ${show(m)}`);
    } else if (type === MessageType.STREAM_ITEM || type === MessageType.STREAM_END) {
      if (!asked.streams.has(id as number)) problems.push(`a stream frame for a stream never opened: id ${show(id)}`);
      else if (type === MessageType.STREAM_END && m[2] !== null) {
        const problem = typedProblem(m[2]);
        if (problem) problems.push(problem);
      }
    } else {
      problems.push(`an unexpected reply of type ${show(type)}`);
    }
  }
  return problems;
}

/** Whether an expected answer has fully arrived (for streams: their end). */
export function arrived(answer: Answer, replies: Replies): boolean {
  if ('hello' in answer) return replies.hellos > 0;
  if ('stream' in answer) return replies.streamEnds.has(answer.stream);
  return replies.responses.has(answer.id);
}

/** What is wrong with one expected answer (undefined: it came as required). */
export function answerProblem(answer: Answer, replies: Replies): string | undefined {
  if ('hello' in answer) return arrived(answer, replies) ? undefined : 'no hello answer';
  if ('stream' in answer) {
    const frames = replies.streamFrames.get(answer.stream) ?? [];
    const end = frames.find((m) => m[0] === MessageType.STREAM_END);
    if (!end) return `stream ${answer.stream} did not end`;
    if ('items' in answer) {
      const items = frames.filter((m) => m[0] === MessageType.STREAM_ITEM).map((m) => m[2]);
      if (end[2] !== null) return `stream ${answer.stream} failed: ${show(end[2])}`;
      return isDeepStrictEqual(items, answer.items) ? undefined : `stream ${answer.stream} gave ${show(items)}`;
    }
    const code = wireCode(end[2]);
    return code !== undefined && answer.error.includes(code)
      ? undefined
      : `stream ${answer.stream} ended with ${show(end[2])}, not ${answer.error.join(' or ')}`;
  }
  const response = replies.responses.get(answer.id);
  if (!response) return `no answer to id ${answer.id}`;
  const [, , error, result] = response;
  if ('error' in answer) {
    const code = wireCode(error);
    return code !== undefined && answer.error.includes(code)
      ? undefined
      : `id ${answer.id} answered ${show(error)}, not ${answer.error.join(' or ')}`;
  }
  if (error !== null) return `id ${answer.id} failed: ${show(error)}`;
  if ('check' in answer) return answer.check(result);
  return isDeepStrictEqual(result, answer.result) ? undefined : `id ${answer.id} answered ${show(result)}`;
}

/**
 * Replies no expected answer accounts for, leaving out the probe's
 * response (`ignoreId`) and, after a hello of the case's own, the server's hello.
 */
export function unexpectedReplies(expected: readonly Answer[], replies: Replies, ignoreId: number, ownHello: boolean): unknown[] {
  const ids = new Set<unknown>();
  const streams = new Set<unknown>();
  let hellosAllowed = ownHello ? 1 : 0;
  for (const a of expected) {
    if ('id' in a) ids.add(a.id);
    else if ('stream' in a) streams.add(a.stream);
    else hellosAllowed++;
  }
  return replies.all.filter((m) => {
    if (!Array.isArray(m)) return true;
    if (m[0] === MessageType.HELLO) return hellosAllowed-- <= 0;
    if (m[0] === MessageType.RESPONSE) return m[1] !== ignoreId && !ids.has(m[1]);
    if (m[0] === MessageType.STREAM_ITEM || m[0] === MessageType.STREAM_END) return !streams.has(m[1]);
    return true;
  });
}
