import { endpointKinds } from './endpoints.js';
import { conformanceSuite } from './suite.js';

for (const kind of endpointKinds) conformanceSuite(kind);
