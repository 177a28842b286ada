/**
 * process.send() server, started by fork() with the serialization the case
 * chose: echoes each message; answers a burst request with one send() per
 * message.
 */
import { sendBurst } from '../lib/burst.js';
import { exitWithParent } from '../lib/children.js';
import { isBurstRequest } from '../lib/payload.js';

exitWithParent();
const send = process.send!.bind(process);
process.on('message', (message) => {
  if (isBurstRequest(message)) void sendBurst(message.count, message.size, (payload) => send(payload));
  else send(message);
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
