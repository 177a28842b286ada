/**
 * The bad-input catalogue (badInput.cases.ts) against a real server process
 * over unix (path), unix (abstract), tcp and fifo, one fresh hostile
 * connection per case, while a healthy client calls all along. Each case
 * must end as its kind says within 2 s: a typed error answer, the right
 * answer, a drop the server counts, or a hang-up (a frame that breaks the
 * framing rules on a byte stream; a peer that leaves inside a frame is let
 * go). The server must not die, must answer every healthy call, must keep
 * its prototypes untouched, and its RSS must grow less than 2 MB per attack
 * (each kind measured after a warm-up run of it, after full collections).
 */
import { catalogue } from './badInput.cases.js';
import { attackSuite } from './badInput.suites.js';

attackSuite('bad input: the catalogue', ['unix (path)', 'unix (abstract)', 'tcp', 'fifo'], catalogue, 1, 400);
