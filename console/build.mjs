// Builds the console into dist/console: index.html (the console), docs/index.html (the API
// reference), and under assets/ the bundles and styles with a content hash in their names, and
// swagger-ui's files under a folder named by its version, so the server can let browsers keep
// every asset for a year (src/http/console.ts). Run by `npm run build`, after tsc has type-checked
// console/ (tsc -p console/tsconfig.json).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');
const assets = join(out, 'assets');
// Only what this script writes: tsc also compiles the console's pure modules into dist/console/src for the unit tests.
for (const path of [assets, join(out, 'docs'), join(out, 'index.html')]) rmSync(path, { recursive: true, force: true });

const entries = { app: 'console/src/main.tsx', docs: 'console/src/docs/docs.tsx' };
const result = await build({
  absWorkingDir: root,
  entryPoints: entries,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  minify: true,
  sourcemap: 'linked',
  tsconfig: 'console/tsconfig.json',
  metafile: true,
  logLevel: 'warning',
});

/** `/assets/…` of an entry's script and stylesheet, from esbuild's record of what it wrote. */
const urls = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const name = Object.entries(entries).find(([, source]) => source === output.entryPoint)?.[0];
  if (!name) continue;
  urls[`${name}.js`] = `/${relative(out, join(root, file)).split('\\').join('/')}`;
  if (output.cssBundle) urls[`${name}.css`] = `/${relative(out, join(root, output.cssBundle)).split('\\').join('/')}`;
}

const require = createRequire(import.meta.url);
const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const swaggerVersion = JSON.parse(readFileSync(join(swaggerDir, 'package.json'), 'utf8')).version;
const swaggerOut = join(assets, `swagger-ui-${swaggerVersion}`);
mkdirSync(swaggerOut, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
  copyFileSync(join(swaggerDir, file), join(swaggerOut, file));
  urls[file] = `/assets/swagger-ui-${swaggerVersion}/${file}`;
}

/** Fills a page's {{name}} placeholders; a name without a URL is a build error, not a broken page. */
function page(template, target) {
  const html = readFileSync(join(root, 'console', template), 'utf8').replace(/\{\{([\w.-]+)\}\}/g, (_m, name) => {
    if (!urls[name]) throw new Error(`console/${template}: nothing was built for {{${name}}}`);
    return urls[name];
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, html);
}
page('index.html', join(out, 'index.html'));
page('docs.html', join(out, 'docs', 'index.html'));

// Every script and stylesheet also as .gz (level 9, once, here): the service sends it to browsers that accept
// gzip, so the console's 700 KB script (mostly ECharts) travels as about a third of that without compressing
// per request.
for (const dir of [assets, swaggerOut]) {
  for (const name of readdirSync(dir)) {
    if (!/\.(js|css)$/.test(name)) continue;
    writeFileSync(join(dir, `${name}.gz`), gzipSync(readFileSync(join(dir, name)), { level: 9 }));
  }
}
