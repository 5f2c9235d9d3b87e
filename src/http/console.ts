/**
 * The web console (`/`) and the API reference page (`/docs/`): static files
 * that `npm run build` writes to dist/console (console/build.mjs). They are
 * public: the pages hold no data, and every call they make goes through the
 * API and its keys. Static middleware, not declared routes: nothing here is
 * part of the API or its OpenAPI document.
 */
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';

/** dist/console, from this file's place in dist/src/http. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

/**
 * The paths served: the two pages and the assets they load. dist/console also
 * holds the console's pure modules compiled for the unit tests; they are not
 * served, nor any name starting with a dot.
 */
const SERVED = /^\/(?:index\.html|docs\/?|docs\/index\.html|assets\/\w[\w.-]*(?:\/\w[\w.-]*)?)?$/;

/**
 * The pages may load and call only this service: no CDN, no analytics, no
 * framing. ECharts and swagger-ui set inline styles.
 */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function consoleFiles(dir: string = CONSOLE_DIR): { handler: RequestHandler; built: boolean } {
  const files = express.static(dir, {
    index: 'index.html',
    dotfiles: 'ignore',
    setHeaders: (res, path) => {
      // Asset names carry a content hash or a version: a new build writes new names, so browsers may keep these for good.
      // The pages are revalidated every time (ETag), so a new build is seen at once.
      res.setHeader('Cache-Control', path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (path.endsWith('.html')) res.setHeader('Content-Security-Policy', CSP);
    },
  });
  const handler: RequestHandler = (req, res, next) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && SERVED.test(req.path)) files(req, res, next);
    else next();
  };
  return { handler, built: existsSync(join(dir, 'index.html')) };
}
