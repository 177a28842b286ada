import { setTimeout as sleep, setImmediate as nextTurn } from 'node:timers/promises';
import { decode } from 'procwire/link';
import { answerProblem, arrived, Asked, judgeReplies, show, unexpectedReplies } from './badInput.answers.js';
import type { BadInputCase, Expect } from './badInput.case.js';
import { messageFraming, streamFraming, type Framing } from './badInput.framing.js';
import { HostileSession } from './badInput.hostileSession.js';
import { HELLO, mp, request, type Bytes } from './badInput.bytes.js';
import type { Target } from './badInput.targets.js';

/** Every case must end (answer, hang-up, or release after the peer left) within this. */
const BOUND_MS = 2000;
/** Sent after whole frames: once it is answered, the server has acted on everything before it. */
const PROBE_ID = 0xffff_ff00;
const PROBE = request(PROBE_ID, 'harden.add', mp({ a: 20, b: 22 }));
const PROBE_MESSAGE = decode(PROBE);
/** How long an incomplete frame must be left waiting before the peer hangs up. */
const WAITING_MS = 10;

export interface CaseResult {
  readonly name: string;
  readonly passed: boolean;
  /** 'closed': the server hung up; 'released': it dropped the connection the peer left inside a frame; 'answered'; 'dropped': without answer, connection kept. */
  readonly how: 'closed' | 'released' | 'answered' | 'dropped';
  /** Time to that end from the last byte written (0: the server hung up before): to the hang-up, to the release after the peer left, or to the last answer. */
  readonly ms: number;
  readonly problems: readonly string[];
  /** Protocol errors the server should have counted for this case (undefined: not predicted). */
  readonly counted: number | undefined;
}

/** Whether a case can run over a transport (byte-per-write cases need a byte stream). */
export function applies(c: BadInputCase, target: Pick<Target, 'messageOriented'>): boolean {
  return !(target.messageOriented && c.writes === 'bytewise');
}

/** Why a catalogue case is not what it claims to be, by procwire's own frame checks. */
function claimProblem(expect: Expect, framing: Framing, messageOriented: boolean): string | undefined {
  if ('survives' in expect) return undefined;
  const { verdict, dropped } = framing;
  if ('framing' in expect) {
    if (!messageOriented && verdict !== expect.framing) return `claims ${expect.framing}, frame checks say ${verdict}`;
    if (messageOriented && verdict !== 'refused' && dropped === 0)
      return `claims ${expect.framing}, but every message passes the frame checks`;
    if (messageOriented && expect.framing === 'incomplete' && verdict === 'refused')
      return 'claims incomplete, but a message exceeds the frame limit';
    return undefined;
  }
  if (verdict !== 'complete' || dropped > 0)
    return `claims whole frames, frame checks say ${verdict}${dropped ? ` (${dropped} dropped)` : ''}`;
  return undefined;
}

async function sendUnits(session: HostileSession, units: readonly Bytes[], c: BadInputCase, messageOriented: boolean): Promise<void> {
  if (c.writes === 'bytewise') {
    for (const unit of units) await session.sendBytewise(unit);
  } else if (c.writes === 'together') {
    // One write on a byte stream; on mq: one turn, so the link packs them into shared messages.
    if (messageOriented) for (const unit of units) session.send(unit);
    else session.send(Buffer.concat(units));
  } else {
    for (const unit of units) {
      session.send(unit);
      // Each unit its own message: mq: packs what is sent in one turn.
      if (messageOriented) await nextTurn();
    }
  }
}

/**
 * Runs one case on a fresh hostile connection and judges how the server
 * ended it. `baseline` is the server's connection count without this one.
 */
export async function runCase(target: Target, c: BadInputCase, baseline: number): Promise<CaseResult> {
  const units = c.hello ? [HELLO, ...c.units] : c.units;
  const framing = target.messageOriented ? messageFraming(units) : streamFraming(units);
  const claim = claimProblem(c.expect, framing, target.messageOriented);
  const problems: string[] = [];
  const result = (how: CaseResult['how'], ms: number, counted: number | undefined): CaseResult => ({
    name: c.name,
    passed: problems.length === 0,
    how,
    ms: Math.round(ms),
    problems,
    counted,
  });
  if (claim) {
    problems.push(`the case is not what it claims: ${claim}`);
    return result('answered', 0, 0);
  }
  const session = new HostileSession(await target.openHostile(), target.messageOriented);
  try {
    await sendUnits(session, units, c, target.messageOriented);
    // Times run from the last byte written: sending a byte per turn is the peer's own pace, not the server's.
    const sent = performance.now();
    const asked = new Asked([...framing.messages, PROBE_MESSAGE]);
    const { replies } = session;
    if (framing.verdict === 'refused') {
      // A byte stream that broke the rules, or an mq: frame over the limit: the connection must end.
      if (!(await session.until(() => session.closed, BOUND_MS)))
        problems.push(`still connected ${BOUND_MS} ms after bytes that break the framing rules`);
      problems.push(...session.garbled, ...judgeReplies(asked, replies));
      const counted = 'survives' in c.expect ? undefined : 1 + framing.dropped;
      return result('closed', Math.max(0, (session.closed ? session.closedAt : performance.now()) - sent), counted);
    }
    if (framing.verdict === 'incomplete') {
      await sleep(WAITING_MS);
      if (session.closed) problems.push(`hung up on a valid beginning of a frame (${session.closeError?.message ?? 'no error'})`);
      problems.push(...session.garbled, ...judgeReplies(asked, replies));
      session.destroy();
      const left = performance.now();
      if (!(await released(target, baseline))) problems.push(`kept the connection ${BOUND_MS} ms after the peer left inside a frame`);
      return result('released', performance.now() - left, 'survives' in c.expect ? undefined : 0);
    }
    await nextTurn();
    session.send(PROBE);
    const expected = 'answers' in c.expect ? c.expect.answers : [];
    const settled = () => session.closed || (asked.owed(replies).length === 0 && expected.every((a) => arrived(a, replies)));
    if (!(await session.until(settled, BOUND_MS))) problems.push(`not settled within ${BOUND_MS} ms`);
    const ms = performance.now() - sent;
    if (session.closed) problems.push(`hung up on whole frames (${session.closeError?.message ?? 'no error'})`);
    problems.push(...asked.owed(replies), ...session.garbled, ...judgeReplies(asked, replies));
    if ('answers' in c.expect) {
      for (const answer of expected) {
        const problem = answerProblem(answer, replies);
        if (problem) problems.push(problem);
      }
      for (const extra of unexpectedReplies(expected, replies, PROBE_ID, c.hello === true))
        problems.push(`an answer the case did not expect: ${show(extra)}`);
    }
    const counted = 'survives' in c.expect ? undefined : framing.dropped + ('answers' in c.expect ? (c.expect.counted ?? 0) : 0);
    // Answered: something came back besides the probe's answer (and the hello answer the runner asked for).
    const how = replies.all.length > 1 + (c.hello ? 1 : 0) ? 'answered' : 'dropped';
    return result(how, ms, counted);
  } finally {
    session.destroy();
    // mq: queues count against a per-user limit of about nine (RLIMIT_MSGQUEUE):
    // each case's queues are let go before the next case makes its own.
    if (target.messageOriented) await released(target, baseline);
  }
}

/** Waits until the server counts no more than `baseline` connections. */
export async function released(target: Target, baseline: number): Promise<boolean> {
  const deadline = performance.now() + BOUND_MS;
  for (;;) {
    if ((await target.admin(false)).connections <= baseline) return true;
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
}
