/**
 * The console's pure pieces: routes, the training form's request, and the
 * data its charts draw, checked against what the service itself computes
 * where it can be (confusion matrices, embeddings).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiErrorOf } from '../../console/src/api/errors.js';
import { withQuery } from '../../console/src/api/query.js';
import type { FineTuneReport, LayerSweepReport, MapPoint } from '../../console/src/api/responses.js';
import { confusionData, worstConfusion } from '../../console/src/charts/confusion-data.js';
import { epochSeries, fineTuneRows, heldOutText, stepText, tunedLayersText } from '../../console/src/charts/fine-tune-data.js';
import { groupByLabel, isMisclassified, mapSummary } from '../../console/src/charts/example-map-data.js';
import { sweepPoints } from '../../console/src/charts/layer-sweep-data.js';
import { cosine, layerCosines } from '../../console/src/charts/similarity-data.js';
import { escapeHtml, layersName, pct } from '../../console/src/format.js';
import { agreementRows, rankedProbabilities } from '../../console/src/predict-data.js';
import { href, parseRoute } from '../../console/src/route.js';
import { changedParams, defaultEntries, entryValue, paramInput } from '../../console/src/head-params.js';
import { defaultForm, fineTunes, headsFor, parseLayers, type TrainingForm, trainingRequest, withHead } from '../../console/src/training-request.js';
import { computeMetrics, DENSE_CONFUSION_LABELS } from '../../src/heads/evaluation.js';
import { HEADS } from '../../src/heads/registry.js';
import { headList } from '../../src/http/routes/heads.js';
import type { TaskKind } from '../../src/lib/task-kind.js';
import { normalizeRequest, trainingRequestSchema } from '../../src/training/request.js';

test('routes: every link the console builds parses back to its page; anything else is not found', () => {
  const id = 'task_a/b c';
  assert.deepEqual(parseRoute(href.tasks()), { page: 'tasks' });
  assert.deepEqual(parseRoute(''), { page: 'tasks' });
  assert.deepEqual(parseRoute(href.task(id)), { page: 'task', task: id });
  assert.deepEqual(parseRoute(href.job(id, 'job_1')), { page: 'job', task: id, job: 'job_1' });
  assert.deepEqual(parseRoute(href.version(id, 12)), { page: 'version', task: id, version: 12 });
  assert.deepEqual(parseRoute(href.map(id, 3)), { page: 'map', task: id, version: 3 });
  assert.deepEqual(parseRoute(href.label(id)), { page: 'label', task: id });
  assert.deepEqual(parseRoute(href.playground()), { page: 'playground' });
  for (const bad of [
    '#/nope',
    '#/tasks/x/label/more',
    '#/tasks/x/labels',
    '#/tasks/x/versions/0',
    '#/tasks/x/versions/1.5',
    '#/tasks/x/jobs',
    '#/tasks/x/versions/1/map/more',
    '#/tasks/%E0%A4%A',
  ]) {
    assert.equal(parseRoute(bad).page, 'not_found', bad);
  }
});

/** GET /v1/heads's answer, computed as the route computes it. */
const HEAD_LIST = headList(HEADS).data;

test('the training form makes a request the service accepts, and means what the form says', () => {
  const DEFAULT_FORM = defaultForm(HEAD_LIST, 'single_label');
  const parse = (form: TrainingForm, kind: TaskKind = 'single_label') => normalizeRequest(trainingRequestSchema.parse(trainingRequest(form, HEAD_LIST)), kind);
  const plain = parse(DEFAULT_FORM);
  assert.deepEqual(plain.head, normalizeRequest(trainingRequestSchema.parse({})).head, 'untouched, the form trains what a request that says nothing trains');
  assert.equal(plain.head.type, 'svm');
  assert.equal(plain.layerSweep, null);
  assert.deepEqual(plain.evaluation, { method: 'cv', folds: 5 });
  const multi = defaultForm(HEAD_LIST, 'multi_label');
  assert.deepEqual(parse(multi, 'multi_label').head, normalizeRequest(trainingRequestSchema.parse({}), 'multi_label').head);
  assert.deepEqual(
    parse({ ...multi, head: 'auto' }, 'multi_label').head,
    normalizeRequest(trainingRequestSchema.parse({ head: 'auto' }), 'multi_label').head,
    "auto's candidates start as the service's own",
  );
  assert.ok(!headsFor(HEAD_LIST, 'multi_label').some((h) => h.type === 'prototype'), 'a multi-label task is offered only the head types that train one');

  const swept = parse({ ...DEFAULT_FORM, layerSweep: true, sweepLayers: '1-3, 6', topConcat: 2, folds: 3 });
  assert.deepEqual(swept.layerSweep, { layers: [1, 2, 3, 6], topConcat: 2 });
  assert.deepEqual(swept.evaluation, { method: 'cv', folds: 3 });
  assert.deepEqual(parse({ ...DEFAULT_FORM, layerSweep: true }).layerSweep, { topConcat: 3 });

  const forest = withHead(DEFAULT_FORM, HEAD_LIST, 'random_forest');
  const searched = parse({ ...forest, search: true, evaluation: 'holdout', holdoutPercent: 25, activate: 'never' });
  assert.deepEqual([searched.head.type, 'search' in searched.head && searched.head.search], ['random_forest', true]);
  assert.deepEqual(searched.evaluation, { method: 'holdout', fraction: 0.25 });
  assert.equal(searched.activate, false);
  assert.equal(parse({ ...DEFAULT_FORM, activate: 'always' }).activate, true);
  assert.equal(parse(DEFAULT_FORM).activate, 'if_better', "the form starts at the service's default");
  const auto = withHead(DEFAULT_FORM, HEAD_LIST, 'auto');
  assert.deepEqual(parse({ ...auto, candidates: ['mlp', 'prototype'] }).head, { type: 'auto', candidates: ['mlp', 'prototype'] });
  assert.equal(plain.learningCurve, null);
  assert.deepEqual(parse({ ...DEFAULT_FORM, learningCurve: true }).learningCurve, [0.1, 0.25, 0.5]);
  assert.equal(parse(withHead(DEFAULT_FORM, HEAD_LIST, 'mlp')).head.type, 'mlp');

  assert.equal(parseLayers('  '), undefined);
  assert.deepEqual(parseLayers('-1, 0-2'), [-1, 0, 1, 2]);
  assert.throws(() => parseLayers('3-1'), /runs backwards/);
  assert.throws(() => parseLayers('1,two'), /"two" is not a layer number/);
});

test("head parameters: inputs drawn from each head type's JSON Schema send nothing untouched, and what a person typed when changed", () => {
  const form = defaultForm(HEAD_LIST, 'single_label');
  const request = (f: TrainingForm) => trainingRequestSchema.safeParse(trainingRequest(f, HEAD_LIST));
  const paramsOf = (f: TrainingForm) => {
    const head = normalizeRequest(request(f).data!).head;
    return 'params' in head ? head.params : undefined;
  };
  for (const h of HEAD_LIST) {
    const entries = defaultEntries(h);
    assert.deepEqual(Object.keys(entries), Object.keys(h.params.properties), `${h.type}: an input per parameter`);
    for (const name of Object.keys(entries)) if (!(name in h.defaults)) assert.equal(entries[name], '', `${h.type}.${name}: no default, left empty`);
    assert.deepEqual(changedParams(h, entries), {}, `${h.type}: the defaults read back from their inputs as themselves`);
    assert.deepEqual(paramsOf(withHead(form, HEAD_LIST, h.type)), h.defaults, `${h.type}: untouched, the head trains with its defaults`);
  }
  const kinds = (type: string) => {
    const h = HEAD_LIST.find((x) => x.type === type)!;
    return Object.fromEntries(Object.entries(h.params.properties).map(([name, schema]) => [name, paramInput(schema).kind]));
  };
  assert.deepEqual(kinds('svm'), {
    kernel: 'choice',
    C: 'number',
    gamma: 'text',
    degree: 'number',
    coef0: 'number',
    class_weight: 'text',
    tolerance: 'number',
  });
  assert.equal(kinds('random_forest').bootstrap, 'toggle');
  assert.equal(kinds('mlp').hidden_layer_sizes, 'text');

  const set = (type: string, entries: Record<string, string | boolean>) => {
    const f = withHead(form, HEAD_LIST, type);
    return { ...f, params: { ...f.params, ...entries } };
  };
  const svm = HEAD_LIST.find((h) => h.type === 'svm')!.defaults;
  assert.deepEqual(paramsOf(set('svm', { kernel: 'linear', C: '5', gamma: 'auto', class_weight: 'balanced' })), {
    ...svm,
    kernel: 'linear',
    C: 5,
    gamma: 'auto',
    class_weight: 'balanced',
  });
  assert.equal(paramsOf(set('svm', { gamma: '0.5' }))!.gamma, 0.5, 'a number where a number or a word will do');
  assert.deepEqual(paramsOf(set('mlp', { hidden_layer_sizes: '[128, 64]' }))!.hidden_layer_sizes, [128, 64]);
  const forest = paramsOf(set('random_forest', { max_depth: '12', max_features: '0.3', bootstrap: false }))!;
  assert.deepEqual([forest.max_depth, forest.max_features, forest.bootstrap], [12, 0.3, false]);
  assert.deepEqual(
    trainingRequest(set('prototype', { scale: '20' }), HEAD_LIST).head,
    { type: 'prototype', params: { scale: 20 } },
    'only what changed is sent',
  );

  // What the service refuses, it refuses at the parameter (inside the head's union, where the message names it).
  assert.equal(entryValue({ kind: 'number', integer: false }, ''), Number.NaN);
  type Issue = { path: PropertyKey[]; errors?: Issue[][] };
  const paths = (issues: Issue[], at: PropertyKey[] = []): string[] =>
    issues.flatMap((i) => [[...at, ...i.path].join('.'), ...(i.errors ?? []).flatMap((e) => paths(e, [...at, ...i.path]))]);
  for (const [type, name, entry] of [
    ['svm', 'C', ''],
    ['svm', 'C', '-1'],
    ['mlp', 'hidden_layer_sizes', '[1, 2, 3]'],
  ] as const) {
    const refused = request(set(type, { [name]: entry }));
    assert.ok(refused.error, `${type} ${name}=${entry} is refused`);
    assert.ok(paths(refused.error.issues as Issue[]).includes(`head.params.${name}`), `${type} ${name}=${entry}: ${paths(refused.error.issues as Issue[])}`);
  }
});

test('confusion cells: every cell of a dense matrix, the non-zero ones of a sparse one, coloured by their share of the row', () => {
  const labels = ['a', 'b', 'c'];
  const dense = confusionData(computeMetrics(Int32Array.from([0, 0, 0, 1, 1, 2]), Int32Array.from([0, 0, 1, 1, 2, 2]), labels).confusion_matrix);
  assert.equal(dense.cells.length, 9);
  assert.deepEqual(dense.rowTotals, [3, 2, 1]);
  assert.equal(dense.errors, 2);
  assert.deepEqual(
    dense.cells.find((c) => c.actual === 0 && c.predicted === 1),
    { actual: 0, predicted: 1, count: 1, share: 1 / 3 },
  );
  assert.deepEqual(worstConfusion(dense), { actual: 0, predicted: 1, count: 1, share: 1 / 3 });

  // Past DENSE_CONFUSION_LABELS the service sends only the non-zero cells: the heatmap draws the same ones.
  const k = DENSE_CONFUSION_LABELS + 1;
  const truth = Int32Array.from({ length: 2 * k }, (_, i) => i % k);
  const predicted = Int32Array.from(truth, (t, i) => (i < k ? t : (t + 1) % k));
  const m = computeMetrics(
    truth,
    predicted,
    Array.from({ length: k }, (_, i) => `label ${i}`),
  );
  assert.ok('format' in m.confusion_matrix);
  const sparse = confusionData(m.confusion_matrix);
  assert.equal(sparse.cells.length, 2 * k);
  assert.ok(sparse.cells.every((c) => c.count === 1 && c.share === 0.5));
  assert.equal(sparse.errors, k);
});

test('fine-tuning in the form: a hold-out whatever the form says, no search, sweep or learning curve; layers takes a number or "all"', () => {
  const form = defaultForm(HEAD_LIST, 'single_label');
  const tuned = withHead(form, HEAD_LIST, 'fine_tune');
  const parse = (f: TrainingForm) => normalizeRequest(trainingRequestSchema.parse(trainingRequest(f, HEAD_LIST)));
  assert.equal(fineTunes(tuned), true);
  assert.equal(fineTunes(form), false);
  assert.equal(fineTunes({ head: 'auto', candidates: ['svm', 'fine_tune'] }), true);
  assert.equal(fineTunes({ head: 'svm', candidates: ['svm', 'fine_tune'] }), false, "auto's candidates count only when auto is the head");

  // The brief's small job, as typed in the form: every field the person set, the evaluation a hold-out though the form said cv.
  const typed = {
    ...tuned,
    search: true,
    layerSweep: true,
    learningCurve: true,
    evaluation: 'cv' as const,
    params: { ...tuned.params, layers: '1', epochs: '2', batch_size: '8', learning_rate: '0.0003', max_tokens: '32' },
  };
  const body = trainingRequest(typed, HEAD_LIST);
  assert.deepEqual(body.head, { type: 'fine_tune', params: { layers: 1, epochs: 2, batch_size: 8, learning_rate: 0.0003, max_tokens: 32 } });
  assert.deepEqual([body.layer_sweep, body.learning_curve], [false, false]);
  const parsed = parse(typed);
  assert.deepEqual(parsed.evaluation, { method: 'holdout', fraction: 0.2 });
  const layersInput = paramInput(HEAD_LIST.find((h) => h.type === 'fine_tune')!.params.properties.layers!);
  assert.equal(layersInput.kind, 'text', 'an integer or "all": a text input');
  assert.equal(entryValue(layersInput, 'all'), 'all');
  assert.equal(entryValue(layersInput, '3'), 3);
  const all = parse({ ...tuned, params: { ...tuned.params, layers: 'all' } }).head;
  assert.equal('params' in all && all.params.layers, 'all');
  assert.throws(() => parse({ ...tuned, params: { ...tuned.params, layers: 'two' } }), /layers/, 'anything else is refused at the parameter');

  // auto with fine_tune: a hold-out too, but the frozen candidates may still be swept.
  const auto = { ...withHead(form, HEAD_LIST, 'auto'), candidates: ['logistic_regression', 'fine_tune'], layerSweep: true, holdoutPercent: 25 };
  const autoParsed = parse(auto);
  assert.deepEqual(autoParsed.evaluation, { method: 'holdout', fraction: 0.25 });
  assert.deepEqual(autoParsed.head, { type: 'auto', candidates: ['logistic_regression', 'fine_tune'] });
  assert.notEqual(autoParsed.layerSweep, null);
});

test("fine-tuning's epochs: one point per epoch, gaps for those not done, the hold-out's metric named; the run's facts as rows", () => {
  const report: FineTuneReport = {
    tuned_layers: { first: 5, last: 5 },
    history: [
      { epoch: 2, loss: 0.9, seconds: 3.25, held_out: { accuracy: 0.75 } },
      { epoch: 1, loss: 1.6, seconds: 3.5, held_out: { accuracy: 0.5 } },
    ],
    trained_rows: 38,
    held_out_rows: 10,
    stats: {
      steps: 10,
      trained_tokens: 800,
      tokens_per_second: 123.456,
      frozen_seconds: 0.4,
      train_seconds: 6.5,
      evaluate_seconds: 0.3,
      frozen_bytes: 2 * 1024 * 1024,
      spilled: false,
    },
  };
  const s = epochSeries(report.history);
  assert.deepEqual(s, { epochs: [1, 2], loss: [1.6, 0.9], heldOut: [0.5, 0.75], metric: 'accuracy' });
  // A running job: three epochs, the first done; the axis already holds all three.
  assert.deepEqual(epochSeries([report.history[1]!], 3), { epochs: [1, 2, 3], loss: [1.6, null, null], heldOut: [0.5, null, null], metric: 'accuracy' });
  // A resumed job reports only the epochs after the one it resumed after.
  assert.deepEqual(epochSeries([{ epoch: 3, loss: 0.4, seconds: 1 }], 3), {
    epochs: [1, 2, 3],
    loss: [null, null, 0.4],
    heldOut: [null, null, null],
    metric: null,
  });
  assert.equal(epochSeries([{ epoch: 1, loss: 1, seconds: 1, held_out: { macro_f1: 0.41 } }]).metric, 'macro_f1');
  assert.deepEqual(epochSeries([], 2).loss, [null, null], 'before the first epoch ends');
  assert.equal(heldOutText('accuracy', 0.75), '75.0 %');
  assert.equal(heldOutText('macro_f1', 0.41), '0.410');
  assert.equal(heldOutText(null, null), '—');

  assert.equal(tunedLayersText({ first: 5, last: 5 }), 'layer 6 (the top one)');
  assert.equal(tunedLayersText({ first: 0, last: 5 }), 'layers 1–6 (the top 6)');
  const rows = Object.fromEntries(fineTuneRows(report));
  assert.equal(rows['tuned layers'], 'layer 6 (the top one)');
  assert.equal(rows['rows trained'], '38');
  assert.equal(rows['rows held out'], '10');
  assert.equal(rows.epochs, '2');
  assert.equal(rows.steps, '10');
  assert.equal(rows['tokens / s'], '123');
  assert.equal(rows['trained in'], '6.5 s');
  assert.equal(rows['frozen states'], '2.0 MiB');
  assert.equal(rows.resumed, undefined);
  assert.equal(Object.fromEntries(fineTuneRows({ ...report, resumed_after_epoch: 1 })).resumed, 'after epoch 1');

  assert.equal(
    stepText({ step: 7, steps: 10, epoch: 2, epochs: 2, loss: 0.5, running_loss: 0.61234, epochs_done: [] }),
    'step 7/10 · epoch 2/2 · running loss 0.612',
  );
});

test('layer sweep points: one per candidate, single layers by depth then combinations, the chosen one found by its spec', () => {
  const spec = (layers: number[]) => ({ layers, layer_combine: 'concat' as const, pooling: 'mean' as const, normalize: true });
  const result = (layers: number[], f1: number, close: boolean) => ({
    ...spec(layers),
    dimensions: 384 * layers.length,
    accuracy: f1 + 0.01,
    macro_f1: f1,
    within_one_se: close,
    ms: 10,
  });
  const report: LayerSweepReport = {
    probe: { head_type: 'svm', params: {} },
    rule: 'best macro-F1',
    // As a job reports them: the task's own layer first.
    results: [result([6], 0.81, true), result([0], 0.5, false), result([4, 5, 6], 0.82, true), result([5], 0.8, true)],
    chosen: spec([5]),
  };
  const s = sweepPoints(report);
  assert.deepEqual(s.names, ['0 (embeddings)', '5', '6', '4+5+6 (concat)']);
  assert.deepEqual(s.macroF1, [0.5, 0.8, 0.81, 0.82]);
  assert.deepEqual(s.withinOneSe, [false, true, true, true]);
  assert.equal(s.chosen, 1);
  assert.equal(sweepPoints({ ...report, chosen: spec([3]) }).chosen, -1);
  assert.equal(layersName(spec([4, 5, 6])), 'layers 4+5+6 (concat)');
});

test('map points: one group per label in alphabetical order; misclassified only when held out and predicted otherwise', () => {
  const point = (id: number, label: string, predicted: string | null): MapPoint => ({ example_id: id, x: id, y: -id, label, predicted, text: `text ${id}` });
  const points = [point(1, 'b', 'b'), point(2, 'a', 'b'), point(3, 'b', null), point(4, 'a', 'a'), point(5, '__proto__', 'a')];
  const groups = groupByLabel(points);
  assert.deepEqual(
    groups.map((g) => [g.label, g.points.map((p) => p.example_id)]),
    [
      ['__proto__', [5]],
      ['a', [2, 4]],
      ['b', [1, 3]],
    ],
  );
  assert.equal(
    groups.reduce((n, g) => n + g.points.length, 0),
    points.length,
    'every point is drawn once',
  );
  assert.deepEqual(points.map(isMisclassified), [false, true, false, false, true]);
  assert.deepEqual(mapSummary(points), { shown: 5, misclassified: 2, notHeldOut: 1 });
});

test('per-layer cosines: each block of a concatenated vector is compared on its own', () => {
  const a = [1, 0, 3, 4, 0, 2];
  const b = [2, 0, -3, -4, 0, 5];
  assert.deepEqual(layerCosines(a, b, 2), [1, -1, 1]);
  assert.ok(Math.abs(cosine([1, 2, 3], [3, 2, 1]) - 10 / 14) < 1e-12);
  assert.equal(cosine([0, 0], [1, 2]), 0);
  assert.throws(() => layerCosines([1, 2, 3], [1, 2, 3], 2), /not whole layers/);
});

test('try-it: probabilities most probable first; each head compared with the reference label', () => {
  assert.deepEqual(rankedProbabilities({ b: 0.2, a: 0.2, c: 0.6 }), [
    { label: 'c', probability: 0.6 },
    { label: 'a', probability: 0.2 },
    { label: 'b', probability: 0.2 },
  ]);
  const prediction = (label: string, score: number) => ({ index: 0, label, score, probabilities: { [label]: score } });
  const rows = agreementRows(
    {
      object: 'list',
      data: [
        { task: 't1', kind: 'single_label', version: 1, predictions: [prediction('HUM', 0.9)] },
        { task: 't2', kind: 'single_label', version: 4, predictions: [prediction('LOC', 0.5)] },
      ],
      usage: { prompt_tokens: 9, encoded_texts: 1 },
    },
    'HUM',
  );
  assert.deepEqual(
    rows.map((r) => [r.task, r.version, r.label, r.agrees]),
    [
      ['t1', 1, 'HUM', true],
      ['t2', 4, 'LOC', false],
    ],
  );
});

test('API errors: the service body becomes message, code, field and details; any other body still says its status', () => {
  const body = JSON.stringify({
    error: {
      message: '2 invalid examples',
      type: 'invalid_request_error',
      param: 'examples',
      code: 'invalid_examples',
      errors: [{ at: 'line 3', message: 'x' }],
    },
  });
  const e = apiErrorOf(400, 'Bad Request', body);
  assert.deepEqual([e.status, e.code, e.message, e.param], [400, 'invalid_examples', '2 invalid examples', 'examples']);
  assert.deepEqual(e.details, { errors: [{ at: 'line 3', message: 'x' }] });
  const proxy = apiErrorOf(502, 'Bad Gateway', '<html>bad gateway</html>');
  assert.deepEqual([proxy.code, proxy.message], ['http_error', 'HTTP 502 Bad Gateway']);
});

test('formatting: queries leave out what is unset; tooltip text is escaped', () => {
  assert.equal(withQuery('/v1/x', { a: 1, b: undefined, c: 'a b&c', d: false }), '/v1/x?a=1&c=a+b%26c&d=false');
  assert.equal(withQuery('/v1/x', {}), '/v1/x');
  assert.equal(escapeHtml(`<img src=x onerror="alert('1')">&`), '&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
  assert.equal(pct(0.934), '93.4 %');
});
