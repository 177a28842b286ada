/**
 * The mutation sweep (badInput.mutations.ts) over shm (spin) and shm
 * (sleep): a hello, a request, a stream open and a cancel with every byte
 * flipped, every length field changed and cut at every offset, one fresh
 * hostile connection each. What each mutant must come to is worked out by
 * procwire's own frame checks: a hang-up within 2 s for one that breaks the
 * framing rules, a release once the peer leaves for an unfinished one, and
 * for whole frames well-formed answers (typed errors, `add` adding right) to
 * everything well-formed, with the connection kept. A healthy client calls
 * all along; RSS must grow less than 2 MB per attack (each kind measured
 * after a warm-up run of every eighth mutant).
 */
import { mutationKinds } from './badInput.mutations.js';
import { attackSuite } from './badInput.suites.js';

attackSuite('bad input: the mutation sweep', ['shm (spin)', 'shm (sleep)'], mutationKinds, 8, 800);
