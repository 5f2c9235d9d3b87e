/**
 * The console in headless Chromium (Debian's, driven by playwright-core),
 * against the whole service in-process: the real encoder, SQLite, the
 * training runner. A person's path through it: create a task, upload a TREC
 * subset, train with a layer sweep and watch the job to 100 %, read the
 * version (heatmap, layer chart, the examples behind a cell), the 2-D map,
 * roll back, predict, the embeddings playground and the API reference; and,
 * with keys on, the key asked for once. Charts are checked on the data their
 * ECharts instances hold, compared with what the API served, not on pixels.
 *
 * A fine-tuning job trained through the form is followed by step and epoch,
 * and its version shows the loss and hold-out accuracy of each epoch; auto
 * with fine_tune shows the frozen and fine-tuned candidates side by side.
 *
 * On failure a screenshot of the page goes to test-output/screenshots/; with
 * UPDATE_SCREENSHOTS=1 the version view and the map are saved as the
 * README's docs/screenshots/version.png and map.png, and a fine-tuned
 * version as docs/screenshots/fine-tune.png (docs/fine-tuning.md).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { confusionData, worstConfusion } from '../../console/src/charts/confusion-data.js';
import { mapSummary } from '../../console/src/charts/example-map-data.js';
import { layerCosines } from '../../console/src/charts/similarity-data.js';
import { layersName, pct } from '../../console/src/format.js';
import type { ExampleMap, HeadType, Job, Version } from '../../console/src/api/responses.js';
import { fineTuneRows } from '../../console/src/charts/fine-tune-data.js';
import { HEADS } from '../../src/heads/registry.js';
import { listen, testService } from '../helpers/app.js';
import { session, withScreenshot } from '../helpers/browser.js';
import { call } from '../helpers/http.js';
import { client, KEYS_ON } from '../helpers/isolation.js';
import { waitForJob } from '../helpers/jobs.js';
import { intents, jsonl } from '../helpers/fixtures.js';
import { WITH_THROWAWAY } from '../helpers/throwaway-head.js';
import { trecSubset } from '../helpers/trec-subset.js';

/** 300 TREC questions, 50 per label, from ../shared/datasets. */
const TREC = trecSubset(50);
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
/** Long enough for ECharts' entry animations to finish before a screenshot for the README. */
const SETTLE_MS = 1500;

/** What a chart's element holds (console/src/charts/chart.tsx keeps the ECharts instance on it). */
interface ChartHost {
  echarts: {
    getOption(): ChartOption;
    convertToPixel(finder: object, value: unknown[]): number[];
  };
}
interface ChartOption {
  xAxis: Array<{ data?: string[] }>;
  yAxis: Array<{ data?: string[] }>;
  series: Array<{ name: string; type: string; data: unknown[]; markPoint?: { data: Array<{ coord: [number, number] }> } }>;
}

const chartOption = (page: Page, testId: string) =>
  page.getByTestId(testId).evaluate((el) => {
    const o = (el as unknown as ChartHost).echarts.getOption();
    // Only what the assertions read: the whole option holds functions, which do not cross to Node.
    return {
      xAxis: o.xAxis.map((a) => ({ data: a.data })),
      yAxis: o.yAxis.map((a) => ({ data: a.data })),
      series: o.series.map((s) => ({ name: s.name, type: s.type, data: s.data, markPoint: s.markPoint && { data: s.markPoint.data } })),
    } as ChartOption;
  });

/** Waits until a chart has drawn `points` data items in all (the element's data-points, read back from ECharts). */
const chartDrawn = (page: Page, testId: string, points: number) => page.locator(`[data-testid="${testId}"][data-points="${points}"]`).waitFor();

/** Where data values are drawn on the page, as ECharts places them: for a person's clicks and hovers. */
async function pixelsOf(page: Page, testId: string, finder: object, values: unknown[][]): Promise<Array<{ x: number; y: number }>> {
  const chart = page.getByTestId(testId);
  await chart.scrollIntoViewIfNeeded();
  const box = (await chart.boundingBox())!;
  const pixels = await chart.evaluate((el, [f, vs]) => (vs as unknown[][]).map((v) => (el as unknown as ChartHost).echarts.convertToPixel(f as object, v)), [
    finder,
    values,
  ] as const);
  return pixels.map(([x, y]) => ({ x: box.x + x!, y: box.y + y! }));
}

/** The head types the training form offers, in its order. */
const headOptions = (page: Page) =>
  page
    .getByTestId('train-head')
    .locator('option')
    .evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));

/** The parameters the training form has an input for, in its order. */
const paramNames = (page: Page) =>
  page.locator('[data-testid^="train-param-"]').evaluateAll((inputs) => inputs.map((i) => i.getAttribute('data-testid')!.replace('train-param-', '')));

test('a person creates a task, uploads TREC, trains with a layer sweep, reads the version and its map, rolls back, predicts, compares layers and reads the API reference', async (t) => {
  const { app } = await testService();
  const { url } = await listen(app.app);
  const { page, context, foreign, pageErrors } = await session(url);
  // Every value the job's progress bar shows, from the first page load on: the job view's updates are observed, not polled for.
  await context.addInitScript({
    content: `window.jobPercents = [];
      new MutationObserver(() => {
        const p = document.querySelector('[data-testid="job-progress"]')?.getAttribute('data-percent');
        if (p !== null && p !== undefined && window.jobPercents.at(-1) !== p) window.jobPercents.push(p);
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] });`,
  });

  await withScreenshot(page, 'console', async () => {
    // Tasks: none yet; create one.
    await page.goto(`${url}/`);
    await page.getByTestId('no-tasks').waitFor();
    await page.getByTestId('task-name').fill('trec');
    await page.getByTestId('task-create').click();
    const taskPage = page.getByTestId('task-page');
    await taskPage.waitFor();
    const taskId = (await taskPage.getAttribute('data-task-id'))!;

    // Upload: the progress bar reaches 100 %, the answer is shown, labels are counted.
    await page.getByTestId('upload-file').setInputFiles(TREC.path);
    await page.getByTestId('upload-submit').click();
    await page.getByTestId('upload-result').waitFor();
    assert.equal(await page.getByTestId('upload-result').getAttribute('data-inserted'), '300');
    assert.equal(await page.getByTestId('upload-progress').getAttribute('data-percent'), '100');
    await page.locator('[data-testid="label-count"][data-count="50"]').nth(5).waitFor();
    assert.deepEqual(await page.getByTestId('label-count').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-label'))), [
      'ABBR',
      'DESC',
      'ENTY',
      'HUM',
      'LOC',
      'NUM',
    ]);
    await page.getByTestId('example-row').nth(49).waitFor();
    assert.equal(await page.getByTestId('example-row').count(), 50, 'the first page of examples');

    // Train: the head types GET /v1/heads lists; an SVM with C = 5 set in its parameter inputs, a sweep over the six
    // encoder layers (and the top three concatenated), 3-fold CV.
    const heads = (await call(url, 'GET', '/v1/heads')).body.data as HeadType[];
    assert.deepEqual(await headOptions(page), [...heads.map((h) => h.type), 'auto']);
    await page.getByTestId('train-head').selectOption('svm');
    const svm = heads.find((h) => h.type === 'svm')!;
    assert.deepEqual(await paramNames(page), Object.keys(svm.params.properties), 'an input per parameter the service declares');
    assert.equal(await page.getByTestId('train-param-C').inputValue(), String(svm.defaults.C));
    await page.getByTestId('train-param-C').fill('5');
    await page.getByTestId('train-sweep').check();
    await page.getByTestId('train-sweep-layers').fill('1-6');
    await page.getByTestId('train-folds').fill('3');
    await page.getByTestId('train-submit').click();
    await page.getByTestId('job-page').waitFor();
    await page.locator('[data-testid="job-progress"][data-state="succeeded"]').waitFor({ timeout: 120_000 });
    assert.equal(await page.getByTestId('job-progress').getAttribute('data-percent'), '100');
    const percents = (await page.evaluate('window.jobPercents')) as string[];
    t.diagnostic(`the job's progress bar showed ${percents.join(' → ')} %`);
    const seen = percents.map(Number);
    assert.ok(seen.length >= 2 && seen[0]! < 100, `the bar moved while the page watched: ${percents.join(' → ')}`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      `progress never goes back: ${percents.join(' → ')}`,
    );

    // The version: metrics, heatmap, layer chart, per-label bars, as the API serves them.
    await page.getByTestId('job-version-link').click();
    await page.getByTestId('version-page').waitFor();
    const version = (await call(url, 'GET', `/v1/tasks/${taskId}/versions/1`)).body as Version;
    assert.deepEqual(version.params, { ...svm.defaults, C: 5 }, 'the parameter set in the form, the others at their defaults');
    const metrics = version.metrics;
    assert.ok('confusion_matrix' in metrics, 'a single-label version: accuracy and a confusion matrix');
    assert.equal(await page.getByTestId('metric-accuracy').locator('.metric-value').textContent(), pct(metrics.accuracy));

    await chartDrawn(page, 'confusion-heatmap', 36);
    const heatmap = await chartOption(page, 'confusion-heatmap');
    assert.equal(heatmap.xAxis[0]!.data!.length, 6);
    assert.equal(heatmap.yAxis[0]!.data!.length, 6);
    assert.equal(heatmap.series[0]!.data.length, 36, '6×6 cells');
    assert.equal(
      (heatmap.series[0]!.data as Array<{ value: number[] }>).reduce((n, cell) => n + cell.value[3]!, 0),
      300,
      'every example counted once, out of fold',
    );

    const sweep = version.report.layer_sweep!;
    assert.equal(sweep.results.length, 7, 'layers 1..6 and the top three concatenated');
    await chartDrawn(page, 'layer-sweep-chart', 14);
    const layers = await chartOption(page, 'layer-sweep-chart');
    const f1 = layers.series.find((s) => s.name === 'macro-F1')!;
    assert.equal(f1.data.length, sweep.results.length, 'one point per candidate');
    const byValue = (a: number, b: number) => a - b;
    assert.deepEqual(f1.data.map((d) => (d as { value: number }).value).sort(byValue), sweep.results.map((r) => r.macro_f1).sort(byValue));
    const marked = f1.markPoint?.data.map((d) => layers.xAxis[0]!.data![d.coord[0]]);
    assert.deepEqual(marked, [layersName(sweep.chosen).replace(/^layers? /, '')], 'the chosen candidate is marked');
    await chartDrawn(page, 'per-label-chart', 18);

    // A click on the most confused cell lists its examples, each predicted out of fold as that cell says.
    const matrix = metrics.confusion_matrix;
    const cell = worstConfusion(confusionData(matrix))!;
    const labels = matrix.labels;
    const [at] = await pixelsOf(page, 'confusion-heatmap', { seriesIndex: 0 }, [[cell.predicted, cell.actual]]);
    await page.mouse.click(at!.x, at!.y);
    const list = page.locator(`[data-testid="misclassified"][data-true="${labels[cell.actual]}"][data-predicted="${labels[cell.predicted]}"]`);
    await list
      .getByTestId('misclassified-item')
      .nth(Math.min(cell.count, 50) - 1)
      .waitFor();
    const items = await list
      .getByTestId('misclassified-item')
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]));
    assert.equal(items.length, Math.min(cell.count, 50));
    assert.ok(items.every(([l, p]) => l === labels[cell.actual] && p === labels[cell.predicted]));
    if (UPDATE_SCREENSHOTS) {
      mkdirSync('docs/screenshots', { recursive: true });
      await page.waitForTimeout(SETTLE_MS);
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: 'docs/screenshots/version.png', fullPage: true });
    }

    // The 2-D map: every point served is drawn, misclassified ones as triangles; hovering a point shows its text.
    await page.getByRole('link', { name: /2-D map/ }).click();
    await page.getByTestId('map-page').waitFor();
    const map = (await call(url, 'GET', `/v1/tasks/${taskId}/versions/1/map`)).body as ExampleMap;
    assert.equal(map.points.length, 300);
    await chartDrawn(page, 'example-map', map.points.length);
    const drawn = await chartOption(page, 'example-map');
    assert.equal(drawn.series.length, 6, 'one series per label');
    for (const s of drawn.series) assert.equal(s.data.length, map.points.filter((p) => p.label === s.name).length, s.name);
    const triangles = drawn.series.flatMap((s) => s.data).filter((d) => (d as { symbol: string }).symbol === 'triangle').length;
    assert.equal(triangles, mapSummary(map.points).misclassified);
    // The most isolated point, so that the pointer is over it alone.
    const distance = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
    const pixels = await pixelsOf(
      page,
      'example-map',
      { gridIndex: 0 },
      map.points.map((p) => [p.x, p.y]),
    );
    const lonely = pixels
      .map((px, i) => ({ i, gap: Math.min(...pixels.filter((_, j) => j !== i).map((q) => distance(px, q))) }))
      .reduce((a, b) => (b.gap > a.gap ? b : a));
    await page.mouse.move(pixels[lonely.i]!.x, pixels[lonely.i]!.y);
    await page.locator('.map-tip', { hasText: map.points[lonely.i]!.text! }).waitFor();
    if (UPDATE_SCREENSHOTS) {
      await page.waitForTimeout(SETTLE_MS);
      await page.screenshot({ path: 'docs/screenshots/map.png', fullPage: true });
    }

    // Roll back: a second version (trained through the API, made active whatever it scores) is active; the page activates the first again.
    const second = await call(url, 'POST', `/v1/tasks/${taskId}/jobs`, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.2 }, activate: true });
    assert.equal((await waitForJob(url, taskId, second.body.id)).state, 'succeeded');
    await page.goto(`${url}/#/tasks/${taskId}`);
    await page.locator('[data-testid="version-row"][data-version="2"][data-active="true"]').waitFor();
    await page.getByTestId('activate-1').click();
    await page.locator('[data-testid="version-row"][data-version="1"][data-active="true"]').waitFor();
    assert.equal((await call(url, 'GET', `/v1/tasks/${taskId}`)).body.active_version, 1);

    // Try it: a question about a person is HUM; every label has its probability; both versions are asked.
    await page.getByTestId('try-text').fill('Who was the first president of the United States ?');
    await page.getByTestId('try-submit').click();
    assert.equal(await page.getByTestId('try-label').textContent(), 'HUM');
    assert.equal(await page.getByTestId('try-probability').count(), 6);
    const probabilities = await page.getByTestId('try-probability').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-probability'))));
    assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    await page.getByTestId('agreement-row').nth(1).waitFor();
    assert.equal(await page.getByTestId('agreement-row').count(), 2, 'versions 1 and 2');

    // An API error is shown, not swallowed: a second task with a taken name.
    await page.getByTestId('nav-tasks').click();
    await page.getByTestId('task-name').fill('trec');
    await page.getByTestId('task-create').click();
    assert.equal(await page.getByTestId('create-task-error').getAttribute('data-code'), 'name_taken');

    // The playground: the cosine at every hidden state; the last one is what /v1/embeddings says by default.
    await page.getByTestId('nav-playground').click();
    await page.getByTestId('playground-submit').click();
    await chartDrawn(page, 'similarity-chart', 7);
    const cosines = (await chartOption(page, 'similarity-chart')).series[0]!.data as number[];
    const a = await page.getByTestId('playground-a').inputValue();
    const b = await page.getByTestId('playground-b').inputValue();
    const embedded = (await call(url, 'POST', '/v1/embeddings', { input: [a, b] })).body.data as Array<{ embedding: number[] }>;
    const [lastLayer] = layerCosines(embedded[0]!.embedding, embedded[1]!.embedding, embedded[0]!.embedding.length);
    assert.ok(Math.abs(cosines[6]! - lastLayer!) < 1e-4, `layer 6: ${cosines[6]} vs ${lastLayer}`);

    // The API reference renders every operation of /openapi.json.
    await page.getByTestId('nav-docs').click();
    const operations = Object.values((await call(url, 'GET', '/openapi.json')).body.paths as Record<string, object>).reduce(
      (n: number, ops) => n + Object.keys(ops).length,
      0,
    );
    await page
      .locator('.opblock')
      .nth(operations - 1)
      .waitFor();
    assert.equal(await page.locator('.opblock').count(), operations);

    assert.deepEqual(foreign, [], 'the pages load and call nothing but the service');
    assert.deepEqual(pageErrors, []);
  });
});

test('with keys on, the console asks for a key once, keeps it for the tab, follows a job with it, and the API reference uses it', async () => {
  const { app } = await testService({ env: KEYS_ON });
  const { url } = await listen(app.app);
  const { key } = await client(app.app, 'console-user');
  const auth = { authorization: `Bearer ${key}` };
  const { page, foreign, pageErrors } = await session(url);

  await withScreenshot(page, 'console-keys', async () => {
    await page.goto(`${url}/`);
    await page.getByTestId('key-dialog').waitFor();
    await page.getByTestId('key-input').fill('tfd.nobody.wrong');
    await page.getByTestId('key-submit').click();
    await page.getByText('The key was refused').waitFor();
    await page.getByTestId('key-input').fill(key);
    await page.getByTestId('key-submit').click();
    await page.getByTestId('no-tasks').waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('transferd.apiKey')"), key);

    // A job started elsewhere, followed live through the events stream, which needs the key too.
    const rows = TREC.rows.map((r) => JSON.stringify(r));
    const task = (await call(url, 'POST', '/v1/tasks', { name: 'keyed' }, 'application/json', auth)).body;
    const perLabel = new Map<string, number>();
    const few = rows.filter((r) => {
      const label = JSON.parse(r).label as string;
      perLabel.set(label, (perLabel.get(label) ?? 0) + 1);
      return perLabel.get(label)! <= 10;
    });
    assert.equal((await call(url, 'POST', `/v1/tasks/${task.id}/examples`, few.join('\n'), 'application/x-ndjson', auth)).status, 201);
    const job = (await call(url, 'POST', `/v1/tasks/${task.id}/jobs`, { evaluation: { method: 'holdout', fraction: 0.2 } }, 'application/json', auth)).body;
    await page.goto(`${url}/#/tasks/${task.id}/jobs/${job.id}`);
    await page.locator('[data-testid="job-progress"][data-state="succeeded"][data-percent="100"]').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('key-dialog').count(), 0, 'the key is asked for once per tab');

    await page.goto(`${url}/docs/`);
    await page.locator('.opblock').first().waitFor();
    assert.equal(await page.getByTestId('key-dialog').count(), 0);
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});

test('a head type added to the registry is in the training form, its parameters drawn from its schema; the job asks for what was set', async () => {
  const { app } = await testService({ heads: WITH_THROWAWAY, train: false });
  const { url } = await listen(app.app);
  const { page, foreign, pageErrors } = await session(url);

  await withScreenshot(page, 'console-new-head', async () => {
    const task = (await call(url, 'POST', '/v1/tasks', { name: 'new head' })).body;
    assert.equal((await call(url, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(intents(6)), 'application/x-ndjson')).status, 201);
    await page.goto(`${url}/#/tasks/${task.id}`);
    await page.getByTestId('train-form').waitFor();
    assert.deepEqual(await headOptions(page), [...HEADS.map((h) => h.type), 'throwaway', 'fine_tune', 'auto']);

    await page.getByTestId('train-head').selectOption('throwaway');
    assert.equal(await page.getByTestId('train-head-description').textContent(), 'A head type that exists only in the tests.');
    assert.deepEqual(await paramNames(page), ['depth', 'style', 'tags']);
    assert.deepEqual(
      [
        await page.getByTestId('train-param-depth').inputValue(),
        await page.getByTestId('train-param-style').inputValue(),
        await page.getByTestId('train-param-tags').inputValue(),
      ],
      ['3', 'plain', '[]'],
    );
    // Bounds the schema declares hold in the browser; what else it refuses, the service refuses, naming the parameter.
    await page.getByTestId('train-param-depth').fill('12');
    assert.equal(await page.getByTestId('train-param-depth').evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid), false);
    await page.getByTestId('train-param-depth').fill('7');
    await page.getByTestId('train-param-tags').fill('["a", "b", "c"]');
    await page.getByTestId('train-submit').click();
    assert.equal(await page.getByTestId('train-error').getAttribute('data-code'), 'invalid_request');
    assert.match((await page.getByTestId('train-error').textContent())!, /head\.params\.tags/);
    assert.equal((await call(url, 'GET', `/v1/tasks/${task.id}/jobs`)).body.data.length, 0);

    // auto offers every head type, ticked as GET /v1/heads says auto searches them.
    await page.getByTestId('train-head').selectOption('auto');
    const heads = (await call(url, 'GET', '/v1/heads')).body.data as HeadType[];
    for (const h of heads) assert.equal(await page.getByTestId(`train-candidate-${h.type}`).isChecked(), h.auto.includes('single_label'), h.type);

    await page.getByTestId('train-head').selectOption('throwaway');
    await page.getByTestId('train-param-depth').fill('7');
    await page.getByTestId('train-param-style').selectOption('fancy');
    await page.getByTestId('train-param-tags').fill('["a", "b"]');
    await page.getByTestId('train-submit').click();
    await page.getByTestId('job-page').waitFor();
    const jobs = (await call(url, 'GET', `/v1/tasks/${task.id}/jobs`)).body.data;
    assert.deepEqual(jobs.at(-1).request.head, { type: 'throwaway', params: { depth: 7, style: 'fancy', tags: ['a', 'b'] }, search: false });

    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});

test('a person fine-tunes the top layer through the form, follows it by epoch, reads its epochs on the version, and compares it with a frozen head', async () => {
  const { app } = await testService();
  const { url } = await listen(app.app);
  const { page, foreign, pageErrors } = await session(url);
  // 8 TREC questions a label: a small task, enough for a hold-out of every label.
  const few = trecSubset(8);

  await withScreenshot(page, 'console-fine-tune', async () => {
    const task = (await call(url, 'POST', '/v1/tasks', { name: 'fine-tuned questions' })).body;
    assert.equal((await call(url, 'POST', `/v1/tasks/${task.id}/examples`, jsonl(few.rows), 'application/x-ndjson')).status, 201);
    await page.goto(`${url}/#/tasks/${task.id}`);
    await page.getByTestId('train-form').waitFor();

    // The fine_tune head: its parameters from GET /v1/heads; no grid search, sweep or learning curve; a hold-out, not cross-validation.
    await page.getByTestId('train-head').selectOption('fine_tune');
    const heads = (await call(url, 'GET', '/v1/heads')).body.data as HeadType[];
    const fineTune = heads.find((h) => h.type === 'fine_tune')!;
    assert.deepEqual(await paramNames(page), Object.keys(fineTune.params.properties));
    for (const gone of ['train-search', 'train-sweep', 'train-learning-curve', 'train-cv', 'train-folds'])
      assert.equal(await page.getByTestId(gone).count(), 0, gone);
    await page.getByTestId('train-holdout-note').waitFor();
    assert.equal(await page.getByTestId('train-holdout').isChecked(), true);
    const small = { layers: '1', epochs: '2', batch_size: '8', learning_rate: '0.0003', max_tokens: '32' };
    for (const [name, value] of Object.entries(small)) await page.getByTestId(`train-param-${name}`).fill(value);
    await page.getByTestId('train-submit').click();
    await page.getByTestId('job-page').waitFor();

    // The job page: step x/y and epoch e/E as the run goes, the epochs' chart filled in by the end.
    await page.getByTestId('fine-tune-progress').waitFor({ timeout: 120_000 });
    await page.locator('[data-testid="job-progress"][data-state="succeeded"]').waitFor({ timeout: 300_000 });
    const jobId = page.url().split('/').at(-1)!;
    const job = (await call(url, 'GET', `/v1/tasks/${task.id}/jobs/${jobId}`)).body as Job;
    assert.deepEqual(job.request.head, {
      type: 'fine_tune',
      // The objective left to the service: a task without descriptions gets the default.
      params: { ...fineTune.defaults, layers: 1, epochs: 2, batch_size: 8, learning_rate: 0.0003, max_tokens: 32, objective: 'classification' },
      search: false,
    });
    assert.deepEqual(job.request.evaluation, { method: 'holdout', fraction: 0.2 });
    const progress = job.progress.fine_tune!;
    await page.locator('[data-testid="fine-tune-progress"][data-epochs-done="2"]').waitFor();
    assert.match(
      (await page.getByTestId('fine-tune-step').textContent())!,
      new RegExp(`^step ${progress.steps}/${progress.steps} · epoch 2/2 · running loss `),
    );
    await chartDrawn(page, 'fine-tune-live-chart', 4);
    const live = await chartOption(page, 'fine-tune-live-chart');
    assert.deepEqual(live.xAxis[0]!.data, ['1', '2']);
    assert.deepEqual(
      live.series.find((x) => x.name === 'training loss')!.data,
      progress.epochs_done.map((e) => e.loss),
    );

    // The version: loss and hold-out accuracy by epoch on two axes, the epochs and the run's facts as the report says.
    await page.getByTestId('job-version-link').click();
    await page.locator('[data-testid="fine-tune"][data-epochs="2"]').waitFor();
    const version = (await call(url, 'GET', `/v1/tasks/${task.id}/versions/${job.version}`)).body as Version;
    assert.equal(version.head_type, 'fine_tune');
    const report = version.report.fine_tune!;
    assert.equal(report.history.length, 2);
    await chartDrawn(page, 'fine-tune-chart', 4);
    const chart = await chartOption(page, 'fine-tune-chart');
    assert.deepEqual(chart.xAxis[0]!.data, ['1', '2']);
    assert.equal(chart.yAxis.length, 2, 'loss and accuracy on their own axes');
    assert.deepEqual(
      chart.series.find((x) => x.name === 'training loss')!.data,
      report.history.map((e) => e.loss),
    );
    assert.deepEqual(
      chart.series.find((x) => x.name === 'hold-out accuracy')!.data,
      report.history.map((e) => (e.held_out && 'accuracy' in e.held_out ? e.held_out.accuracy : null)),
    );
    assert.equal(await page.getByTestId('fine-tune-epoch').count(), 2);
    const facts = await page
      .getByTestId('fine-tune-facts')
      .locator('tr')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-fact'), r.querySelector('.num')!.textContent]));
    assert.deepEqual(facts, fineTuneRows(report));
    const fact = Object.fromEntries(facts);
    assert.deepEqual([fact.epochs, fact['tuned layers'], fact['rows held out']], ['2', 'layer 6 (the top one)', String(report.held_out_rows)]);
    assert.equal(await page.getByTestId('metric-accuracy').locator('.metric-value').textContent(), pct((version.metrics as { accuracy: number }).accuracy));
    if (UPDATE_SCREENSHOTS) {
      mkdirSync('docs/screenshots', { recursive: true });
      await page.getByTestId('fine-tune').scrollIntoViewIfNeeded();
      await page.waitForTimeout(SETTLE_MS);
      await page.getByTestId('fine-tune').screenshot({ path: 'docs/screenshots/fine-tune.png' });
    }

    // auto with logistic regression and fine_tune, through the form: both scored on the same held-out rows, the better chosen.
    await page.goto(`${url}/#/tasks/${task.id}`);
    await page.getByTestId('train-head').selectOption('auto');
    for (const h of heads) await page.getByTestId(`train-candidate-${h.type}`).setChecked(h.type === 'logistic_regression' || h.type === 'fine_tune');
    await page.getByTestId('train-holdout-note').waitFor();
    assert.equal(await page.getByTestId('train-sweep').count(), 1, 'the frozen candidates can still be swept');
    await page.getByTestId('train-submit').click();
    await page.getByTestId('job-page').waitFor();
    await page.locator('[data-testid="job-progress"][data-state="succeeded"]').waitFor({ timeout: 300_000 });
    await page.getByTestId('job-version-link').click();
    const auto = page.getByTestId('candidates');
    await auto.waitFor();
    const autoJob = (await call(url, 'GET', `/v1/tasks/${task.id}/jobs`)).body.data.at(-1) as Job;
    const compared = ((await call(url, 'GET', `/v1/tasks/${task.id}/versions/${autoJob.version}`)).body as Version).report.candidates!;
    assert.equal(compared.frozen.head, 'logistic_regression');
    assert.equal(await auto.getAttribute('data-chosen'), compared.chosen);
    const shown = await auto
      .getByTestId('candidate-row')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-head'), Number(r.getAttribute('data-score'))]));
    assert.deepEqual(shown, [
      ['logistic_regression', compared.frozen.score],
      ['fine_tune', compared.fine_tune.score],
    ]);
    assert.match((await auto.textContent())!, new RegExp(`same ${compared.rows} held-out rows`));
    assert.match((await page.getByTestId('candidates-reason').textContent())!, new RegExp(compared.reason));
    // The fine-tuned candidate's epochs are there whichever was chosen.
    await page.locator('[data-testid="fine-tune"][data-epochs]').waitFor();

    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});
