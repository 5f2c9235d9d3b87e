/**
 * The labelling page in headless Chromium, against the whole service
 * in-process. A person with a TREC task that declares its six labels with a
 * line each (so version 0 guesses from the start) opens the page from the
 * task's, finds the pool empty and fills it from the page, sets the task to
 * retrain after 10 new labels, labels 20 suggested questions by keyboard
 * (each with its true TREC label), sees the retrained version's score beside
 * the one it was compared with, undoes a labelling and skips a text. Typing
 * in the page's fields labels nothing. A multi-label task's labels are
 * toggled by their keys and given with Enter. With UPDATE_SCREENSHOTS=1 the page,
 * once retrained, is saved as the README's docs/screenshots/labelling.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import type { Job, Task, Version, VersionList } from '../../console/src/api/responses.js';
import { retrainComparison } from '../../console/src/label-session.js';
import { listen, testService } from '../helpers/app.js';
import { session, withScreenshot } from '../helpers/browser.js';
import { labelSets } from '../helpers/fixtures.js';
import { call } from '../helpers/http.js';
import { waitForJob } from '../helpers/jobs.js';
import { trecSubset } from '../helpers/trec-subset.js';

/** 60 TREC questions, 10 per label, from ../shared/datasets: the pool. */
const TREC = trecSubset(10, 40);
const TRUTH = new Map(TREC.rows.map((r) => [r.text, r.label]));
/** One line per label, written from the TREC coarse classes' definitions (Li & Roth, 2002). */
const LABELS = [
  { name: 'ABBR', description: 'An abbreviation: what a short form stands for, or the short form of something.' },
  { name: 'DESC', description: 'A description: a definition, a manner or a reason; what something is, how or why.' },
  { name: 'ENTY', description: 'An entity: an animal, colour, food, product, event, language, substance or other thing.' },
  { name: 'HUM', description: 'A human: a person, a group or an organisation; who someone is.' },
  { name: 'LOC', description: 'A location: a city, country, state, mountain or other place.' },
  { name: 'NUM', description: 'A number: a count, date, amount of money, distance, size, speed or percentage.' },
];
const LABEL_COUNT = 20;
const RETRAIN_AFTER = 10;
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

test('a person labels 20 suggested TREC questions by keyboard, the task retrains by itself, the new score is shown beside the last; undo and skip', async (t) => {
  const { app } = await testService();
  const { url } = await listen(app.app);
  const { page, foreign, pageErrors } = await session(url);
  const task = (await call(url, 'POST', '/v1/tasks', { name: 'trec labelling', labels: LABELS })).body as Task;
  const taskPath = `/v1/tasks/${task.id}`;
  const getTask = async () => (await call(url, 'GET', taskPath)).body as Task;

  await withScreenshot(page, 'labelling', async () => {
    // From the task's page; the pool is empty, and the page says so.
    await page.goto(`${url}/#/tasks/${task.id}`);
    await page.getByTestId('label-link').click();
    await page.getByTestId('label-page').waitFor();
    await page.getByTestId('pool-empty').waitFor();

    // Fill the pool from the page, the last line typed key by key: keys typed in a field label nothing.
    const texts = TREC.rows.map((r) => r.text);
    await page.getByTestId('pool-text').fill(`${texts.slice(0, -1).join('\n')}\n`);
    await page.getByTestId('pool-text').pressSequentially(texts.at(-1)!);
    await page.getByTestId('pool-submit').click();
    await page.locator(`[data-testid="pool-result"][data-added="${texts.length}"]`).waitFor();
    assert.equal((await getTask()).pool_count, texts.length);

    // Version 0 guesses from the descriptions: the first suggestion shows every label's probability.
    await page.locator('[data-testid="label-item"][data-version="0"][data-busy="false"]').waitFor();
    const probabilities = await page.getByTestId('label-probability').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-probability'))));
    assert.equal(probabilities.length, LABELS.length, 'every label, not the top three');
    assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    assert.deepEqual(
      await page.getByTestId('label-button').evaluateAll((bs) => bs.map((b) => [b.getAttribute('data-label'), b.getAttribute('data-key')])),
      LABELS.map((l, i) => [l.name, String(i + 1)]),
      'a button per declared label, in their order, keys 1–6',
    );

    // Retrain after 10 new labels, typed into the setting.
    await page.getByTestId('retrain-after').fill('');
    await page.getByTestId('retrain-after').pressSequentially(String(RETRAIN_AFTER));
    await page.getByTestId('retrain-save').click();
    await page.locator(`[data-testid="retrain-setting"][data-value="${RETRAIN_AFTER}"]`).waitFor();
    assert.equal((await getTask()).retrain_after, RETRAIN_AFTER);
    assert.equal(await page.getByTestId('label-progress').getAttribute('data-session'), '0', 'typing in fields labelled nothing');
    assert.equal((await getTask()).example_count, 0);

    // Label 20 suggested questions by keyboard, each with its true label.
    const labelled: string[] = [];
    const guessedRight: boolean[] = [];
    for (let i = 0; i < LABEL_COUNT; i++) {
      await page.locator('[data-testid="label-item"][data-busy="false"]').waitFor();
      const text = (await page.getByTestId('label-text').textContent())!;
      const truth = TRUTH.get(text);
      assert.ok(truth, `the shown text is one of the pool's: ${text}`);
      assert.ok(!labelled.includes(text), `a labelled text is not shown again: ${text}`);
      guessedRight.push((await page.getByTestId('label-guess').textContent()) === truth);
      const key = (await page.locator(`[data-testid="label-button"][data-label="${truth}"]`).getAttribute('data-key'))!;
      await page.keyboard.press(key);
      await page.locator(`[data-testid="label-progress"][data-session="${i + 1}"]`).waitFor();
      labelled.push(text);
    }
    t.diagnostic(`the shown guess was right for ${guessedRight.filter(Boolean).length} of ${LABEL_COUNT}`);

    const after = await getTask();
    assert.equal(after.example_count, LABEL_COUNT);
    assert.equal(after.pool_count, texts.length - LABEL_COUNT);
    const examples = (await call(url, 'GET', `${taskPath}/examples?limit=100`)).body.data as Array<{ text: string; label: string }>;
    assert.deepEqual(new Set(examples.map((e) => e.text)), new Set(labelled));
    assert.ok(
      examples.every((e) => e.label === TRUTH.get(e.text)),
      'each with the label its key meant',
    );

    // retrain_after queued jobs; once they end, the page shows the latest one's version beside the one it was compared with.
    let jobs = (await call(url, 'GET', `${taskPath}/jobs`)).body.data as Job[];
    assert.ok(jobs.length >= 1 && jobs.every((j) => j.trigger === 'retrain_after'), `jobs: ${JSON.stringify(jobs.map((j) => j.trigger))}`);
    for (const j of jobs) assert.equal((await waitForJob(url, task.id, j.id)).state, 'succeeded');
    jobs = (await call(url, 'GET', `${taskPath}/jobs`)).body.data as Job[];
    const latest = jobs.at(-1)!;
    const version = (await call(url, 'GET', `${taskPath}/versions/${latest.version}`)).body as Version;
    const expected = retrainComparison(version, ((await call(url, 'GET', `${taskPath}/versions`)).body as VersionList).data);
    const result = page.locator(`[data-testid="retrain-result"][data-version="${latest.version}"]`);
    await result.waitFor({ timeout: 60_000 });
    assert.ok(expected.score !== null && expected.previous !== null, `a score and one to compare it with: ${JSON.stringify(expected)}`);
    assert.deepEqual(
      await result.evaluate((el) => [el.getAttribute('data-score'), el.getAttribute('data-previous-version'), el.getAttribute('data-previous-score')]),
      [String(expected.score), String(expected.previous!.version), String(expected.previous!.score)],
    );
    t.diagnostic(
      `version ${expected.version}: ${expected.score} beside version ${expected.previous!.version}: ${expected.previous!.score} (${expected.decision})`,
    );
    // The suggestions come from the head now active.
    const active = (await getTask()).active_version ?? 0;
    await page.locator(`[data-testid="label-item"][data-version="${active}"][data-busy="false"]`).waitFor();
    if (UPDATE_SCREENSHOTS) {
      mkdirSync('docs/screenshots', { recursive: true });
      await page.screenshot({ path: 'docs/screenshots/labelling.png', fullPage: true });
    }

    // Undo: label one more, with a click this time, then take it back by key; the example is gone and the text is
    // back in the pool, shown again.
    const text = (await page.getByTestId('label-text').textContent())!;
    await page.locator(`[data-testid="label-button"][data-label="${TRUTH.get(text)}"]`).click();
    await page.locator(`[data-testid="label-progress"][data-session="${LABEL_COUNT + 1}"]`).waitFor();
    assert.equal((await getTask()).example_count, LABEL_COUNT + 1);
    await page.keyboard.press('u');
    await page.locator(`[data-testid="label-progress"][data-session="${LABEL_COUNT}"]`).waitFor();
    await page.locator('[data-testid="label-item"][data-busy="false"]').waitFor();
    assert.equal(await page.getByTestId('label-text').textContent(), text, 'the undone text is shown again');
    const undone = await getTask();
    assert.deepEqual([undone.example_count, undone.pool_count], [LABEL_COUNT, texts.length - LABEL_COUNT]);
    const pool = (await call(url, 'GET', `${taskPath}/pool?limit=1000`)).body.data as Array<{ id: number; text: string }>;
    const back = pool.find((p) => p.text === text);
    assert.ok(back, 'the text is back in the pool');
    assert.equal(await page.getByTestId('label-item').getAttribute('data-pool-id'), String(back.id), 'under its new pool id');

    // Skip: another text is shown; nothing is labelled.
    await page.keyboard.press('s');
    await page.locator(`[data-testid="label-item"]:not([data-pool-id="${back.id}"])`).waitFor();
    assert.notEqual(await page.getByTestId('label-text').textContent(), text);
    assert.equal((await getTask()).example_count, LABEL_COUNT);

    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});

test("a multi-label task: a label's key toggles it, Enter gives the text the labels chosen", async () => {
  const { app } = await testService();
  const { url } = await listen(app.app);
  const { page, foreign, pageErrors } = await session(url);
  const task = (await call(url, 'POST', '/v1/tasks', { name: 'intents', kind: 'multi_label' })).body as Task;
  const taskPath = `/v1/tasks/${task.id}`;
  const rows = labelSets(6, 0);
  assert.equal((await call(url, 'POST', `${taskPath}/examples`, rows.map((r) => JSON.stringify(r)).join('\n'), 'application/x-ndjson')).status, 201);
  const job = (await call(url, 'POST', `${taskPath}/jobs`, { head: 'logistic_regression' })).body as Job;
  assert.equal((await waitForJob(url, task.id, job.id)).state, 'succeeded');
  const pooled = labelSets(2, 60).map((r) => r.text);
  assert.equal((await call(url, 'POST', `${taskPath}/pool`, { input: pooled })).status, 201);
  const labels = [...new Set(rows.flatMap((r) => r.labels))].sort();

  await withScreenshot(page, 'labelling-multi', async () => {
    await page.goto(`${url}/#/tasks/${task.id}/label`);
    await page.locator('[data-testid="label-item"][data-version="1"][data-busy="false"]').waitFor();
    assert.deepEqual(
      await page.getByTestId('label-button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-label'))),
      labels,
      "the examples' labels, by name",
    );
    const pressed = () => page.locator('[data-testid="label-button"][aria-pressed="true"]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-label')));
    await page.keyboard.press('1');
    await page.keyboard.press('2');
    await page.keyboard.press('3');
    await page.keyboard.press('2');
    assert.deepEqual(await pressed(), [labels[0], labels[2]], 'a second press takes a label off again');
    const text = (await page.getByTestId('label-text').textContent())!;
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="label-progress"][data-session="1"]').waitFor();
    const examples = (await call(url, 'GET', `${taskPath}/examples?limit=100`)).body.data as Array<{ text: string; labels: string[] }>;
    assert.deepEqual(examples.find((e) => e.text === text)?.labels, [labels[0], labels[2]]);
    assert.deepEqual(await pressed(), [], 'the next text starts with none chosen');
    assert.notEqual(await page.getByTestId('label-text').textContent(), text);

    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
});
