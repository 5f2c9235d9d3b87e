/**
 * The web console (`/`) and the API reference page (`/docs/`): static files
 * that `npm run build` writes to dist/console (console/build.mjs). They are
 * public: the pages hold no data, and every call they make goes through the
 * API and its keys. Static middleware, not declared routes: nothing here is
 * part of the API or its OpenAPI document.
 */
import { existsSync, readdirSync } from 'node:fs';
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

/** The type a pre-compressed asset is sent as: that of the file it compresses. */
const GZIPPED_TYPES: Record<string, string> = { '.js.gz': 'text/javascript; charset=utf-8', '.css.gz': 'text/css; charset=utf-8' };

/** `/assets/…` paths that the build also wrote gzip-compressed (console/build.mjs), read once: a build never changes under a running service. */
function gzippedAssets(dir: string): Set<string> {
  const root = join(dir, 'assets');
  if (!existsSync(root)) return new Set();
  const names = readdirSync(root, { recursive: true, encoding: 'utf8' }).map((n) => n.split(sep).join('/'));
  return new Set(names.filter((n) => n.endsWith('.gz')).map((n) => `/assets/${n.slice(0, -3)}`));
}

export function consoleFiles(dir: string = CONSOLE_DIR): { handler: RequestHandler; built: boolean } {
  const gzipped = gzippedAssets(dir);
  const files = express.static(dir, {
    index: 'index.html',
    dotfiles: 'ignore',
    setHeaders: (res, path) => {
      // Asset names carry a content hash or a version: a new build writes new names, so browsers may keep these for good.
      // The pages are revalidated every time (ETag), so a new build is seen at once.
      res.setHeader('Cache-Control', path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      const gzipType = Object.entries(GZIPPED_TYPES).find(([ending]) => path.endsWith(ending))?.[1];
      if (gzipType) {
        res.setHeader('Content-Type', gzipType);
        res.setHeader('Content-Encoding', 'gzip');
      }
      if (path.endsWith('.html')) res.setHeader('Content-Security-Policy', CSP);
    },
  });
  const handler: RequestHandler = (req, res, next) => {
    if (!((req.method === 'GET' || req.method === 'HEAD') && SERVED.test(req.path))) return next();
    if (gzipped.has(req.path)) {
      // The same asset either way, so caches must key it by what the browser accepts.
      res.setHeader('Vary', 'Accept-Encoding');
      if (req.acceptsEncodings('gzip', 'identity') === 'gzip') req.url = `${req.path}.gz`;
    }
    files(req, res, next);
  };
  return { handler, built: existsSync(join(dir, 'index.html')) };
}
