/**
 * A small labelled text set for API tests: four everyday intents written from
 * templates. Real sentences for the real encoder, small enough that a
 * training job takes seconds, and self-contained (no files outside the repo).
 */
const CITIES = ['Paris', 'Tokyo', 'Berlin', 'Lima', 'Oslo', 'Cairo', 'Denver', 'Madrid', 'Seoul', 'Dublin'];
const WHEN = ['tomorrow', 'tonight', 'this weekend', 'on Monday', 'next week'];

const TEMPLATES: Record<string, Array<(i: number) => string>> = {
  weather: [
    (i) => `Will it rain in ${CITIES[i % 10]} ${WHEN[i % 5]}?`,
    (i) => `What is the temperature in ${CITIES[(i + 3) % 10]} right now`,
    (i) => `Do I need an umbrella ${WHEN[(i + 1) % 5]} in ${CITIES[(i + 7) % 10]}`,
    (i) => `How windy will ${CITIES[(i + 5) % 10]} be ${WHEN[(i + 2) % 5]}`,
  ],
  music: [
    (i) => `Play some ${['jazz', 'rock', 'classical', 'hip hop', 'folk'][i % 5]} music`,
    (i) => `Put on my ${['workout', 'sleep', 'party', 'study', 'road trip'][i % 5]} playlist ${['please', 'now', 'loud', 'quietly', ''][(i + 2) % 5]}`.trim(),
    (i) => `Skip this song and play the next ${['track', 'album', 'song', 'tune', 'record'][i % 5]}`,
    (i) => `Turn the volume ${['up', 'down'][i % 2]} on the ${['speaker', 'stereo', 'headphones', 'radio', 'music'][(i + 1) % 5]}`,
  ],
  banking: [
    (i) => `Transfer ${(i + 1) * 25} dollars to my savings account`,
    (i) => `What is the balance of my ${['checking', 'savings', 'credit card', 'joint', 'business'][i % 5]} account`,
    (i) => `My card was ${['declined', 'stolen', 'lost', 'charged twice', 'blocked'][i % 5]} ${WHEN[(i + 3) % 5]}`,
    (i) => `How do I pay my ${['rent', 'loan', 'mortgage', 'credit card bill', 'taxes'][i % 5]} from the bank app`,
  ],
  sports: [
    (i) =>
      `Who won the ${['football', 'basketball', 'tennis', 'hockey', 'baseball'][i % 5]} game ${['yesterday', 'last night', 'on Sunday', 'this afternoon', 'today'][(i + 1) % 5]}`,
    (i) => `When does ${CITIES[i % 10]} play their next match`,
    (i) => `Show me the score of the ${['final', 'semifinal', 'derby', 'qualifier', 'friendly'][i % 5]} in ${CITIES[(i + 4) % 10]}`,
    (i) => `How many goals did the ${['striker', 'captain', 'goalkeeper', 'rookie', 'midfielder'][i % 5]} score this season`,
  ],
};

export interface LabelledText {
  text: string;
  label: string;
}

/** `perLabel` examples for each of the four labels (up to 40 distinct per label). */
export function intents(perLabel = 30, offset = 0): LabelledText[] {
  const out: LabelledText[] = [];
  for (const [label, templates] of Object.entries(TEMPLATES)) {
    const seen = new Set<string>();
    for (let i = offset; seen.size < perLabel && i < offset + 400; i++) {
      const text = templates[i % templates.length]!(Math.floor(i / templates.length));
      if (!seen.has(text)) {
        seen.add(text);
        out.push({ text, label });
      }
    }
  }
  return out;
}

export const jsonl = (rows: LabelledText[]) => rows.map((r) => JSON.stringify(r)).join('\n');

/**
 * A multi-label set from the same intents: texts with one or two intents
 * each, a text of label a, or "a-text. b-text" with both labels, so the
 * right set is known and learnable.
 */
export function labelSets(perLabel: number, offset: number): Array<{ text: string; labels: string[] }> {
  const one = intents(perLabel, offset);
  const byLabel = new Map<string, string[]>();
  for (const r of one) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r.text]);
  const labels = [...byLabel.keys()];
  const out: Array<{ text: string; labels: string[] }> = [];
  for (let i = 0; i < perLabel; i++) {
    for (const [j, a] of labels.entries()) {
      const b = labels[(j + 1 + (i % (labels.length - 1))) % labels.length]!;
      out.push(i % 2 === 0 ? { text: byLabel.get(a)![i]!, labels: [a] } : { text: `${byLabel.get(a)![i]!}. ${byLabel.get(b)![i]!}`, labels: [a, b] });
    }
  }
  return out;
}

/**
 * A training request that keeps a job busy for many seconds on the fixture
 * (a 2,000-tree forest under 10-fold cross-validation: CPU-bound, with many
 * points between fits where a cancellation or a shutdown is noticed), for tests
 * that must act while a job runs.
 */
export const LONG_JOB = { head: { type: 'random_forest', params: { n_estimators: 2000 } }, evaluation: { method: 'cv', folds: 10 } } as const;
