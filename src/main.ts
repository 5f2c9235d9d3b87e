/** Process entry: configuration, start, graceful shutdown on SIGTERM/SIGINT. */
import { type Config, loadConfig } from './config.js';
import { createLogger, errorFields } from './log.js';
import { startService } from './service.js';

const log = createLogger();
let config: Config;
try {
  config = loadConfig();
} catch (err) {
  log('error', (err as Error).message);
  process.exit(2);
}

const service = await startService(config, log);
service.ready.catch((err) => {
  log('error', 'start failed', errorFields(err));
  process.exit(1);
});

let signals = 0;
const shutdown = (signal: string) => {
  if (++signals > 1) {
    log('warn', 'second signal: exiting now', { signal });
    process.exit(1);
  }
  log('info', 'shutting down: draining in-flight requests', { signal });
  service.stop().then(
    () => {
      log('info', 'stopped');
      process.exit(0);
    },
    (err) => {
      log('error', 'shutdown failed', errorFields(err));
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('unhandledRejection', (err) => log('error', 'unhandled rejection', errorFields(err)));
