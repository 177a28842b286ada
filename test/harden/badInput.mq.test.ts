/**
 * The bad-input catalogue (badInput.cases.ts) and the mutation sweep
 * (badInput.mutations.ts) over mq, in one file so that they run one after
 * the other: POSIX queues count against a per-user memory limit of about
 * nine default queues (RLIMIT_MSGQUEUE), which two mq: servers with their
 * clients at once would nearly use up. mq: keeps message boundaries, so a
 * message that breaks the framing rules is dropped and counted and the
 * connection goes on (a frame over the size limit ends it); everything else
 * is held to the same rules as over the other transports (see the sockets
 * files).
 */
import { catalogue } from './badInput.cases.js';
import { mutationKinds } from './badInput.mutations.js';
import { attackSuite } from './badInput.suites.js';

attackSuite('bad input: the catalogue', ['mq'], catalogue, 1, 400);
attackSuite('bad input: the mutation sweep', ['mq'], mutationKinds, 8, 800);
