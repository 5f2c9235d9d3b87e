/** Two clients on the embedded SQLite store: see helpers/isolation.ts (the same suite runs on PostgreSQL in the integration tests). */
import { testStore } from '../helpers/app.js';
import { isolationSuite, keysOnLimits } from '../helpers/isolation.js';

isolationSuite('sqlite', () => testStore(10_000, keysOnLimits()));
