// Loaded with --import through NODE_OPTIONS (set by run.mjs), so the fixture
// processes the suite starts load it too: registers hooks.mjs. run.mjs, which
// asked the addon whether this is Wine, sets PROCWIRE_TEST_DEDUPE_PACKAGES=1
// under Wine; the addon is not loaded here, before the hooks are in place.
import { register } from 'node:module';

register('./hooks.mjs', {
  parentURL: import.meta.url,
  data: { dedupe: process.env.PROCWIRE_TEST_DEDUPE_PACKAGES === '1' },
});
