// Every mailslot and pipe the addon creates admits only the current user:
// GetSecurityInfo on the live object reports that user as owner and a
// protected DACL with a single ACE for that user's SID.
import assert from 'node:assert/strict';
import { assertOwnerOnly, native, run, uniqueName } from './lib/support.mjs';

const sid = native.currentUserSid();

await run(import.meta.url, [
  [
    'currentUserSid() is the SID of the process token user',
    () => {
      assert.match(sid, /^S-1-5-\d+(-\d+)*$/);
      return sid;
    },
  ],
  [
    "a mailslot's descriptor: owned by the user, protected DACL, one ACE for the user",
    () => {
      const reader = new native.MailslotReader(uniqueName('sd'), 64, () => {});
      try {
        const sddl = reader.securityDescriptor();
        assertOwnerOnly(sddl, sid);
        return sddl;
      } finally {
        reader.close();
      }
    },
  ],
  [
    "a pipe listener's first instance: the same descriptor",
    () => {
      const listener = new native.PipeListener(uniqueName('sd'), () => {});
      try {
        const sddl = listener.securityDescriptor();
        assertOwnerOnly(sddl, sid);
        return sddl;
      } finally {
        listener.close();
      }
    },
  ],
]);
