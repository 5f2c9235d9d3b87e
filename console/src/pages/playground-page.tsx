/**
 * Two texts' cosine similarity at every hidden state of a model. One
 * embeddings call asks for every layer, concatenated and not normalised, so
 * the encoder runs once and each layer's block of the vector is that layer's
 * pooled state.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Embeddings, Model, ModelList } from '../api/responses.js';
import { SimilarityChart } from '../charts/similarity-chart.js';
import { layerCosines } from '../charts/similarity-data.js';
import { ErrorBox, Pending } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';
import { useApi } from '../ui/use-api.js';

type Pooling = 'mean' | 'cls' | 'max';

const layerName = (k: number) => (k === 0 ? '0 (embeddings)' : `layer ${k}`);

async function similarities(model: Model, pooling: Pooling, a: string, b: string): Promise<number[]> {
  const layers = Array.from({ length: model.layers + 1 }, (_, k) => k);
  const res = await api.post<Embeddings>('/v1/embeddings', { model: model.id, input: [a, b], layers, layer_combine: 'concat', pooling, normalize: false });
  const [first, second] = res.data;
  if (!first || !second) throw new Error('the service answered fewer embeddings than texts sent');
  // Numbers: the request asks for no base64.
  return layerCosines(first.embedding as number[], second.embedding as number[], model.hidden_size);
}

export function PlaygroundPage() {
  const models = useApi((signal) => api.get<ModelList>('/v1/models', undefined, signal), []);
  const [modelId, setModelId] = useState<string | null>(null);
  const [pooling, setPooling] = useState<Pooling>('mean');
  const [a, setA] = useState('How do I reset my password?');
  const [b, setB] = useState('I forgot the password to my account');
  const [cosines, setCosines] = useState<number[] | null>(null);
  const compare = useAction();

  if (!models.data) return <Pending error={models.error} />;
  const model = models.data.data.find((m) => m.id === modelId) ?? models.data.data.find((m) => m.default) ?? models.data.data[0];
  return (
    <section data-testid="playground">
      <h1>Embeddings playground</h1>
      <p class="muted">
        How alike two texts are at every hidden state of the encoder: the embedding output (0) holds little more than the words, upper layers more of their
        meaning. A task's layer sweep measures the same layers for classification.
      </p>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          if (model) void compare.run(async () => setCosines(await similarities(model, pooling, a, b)));
        }}
      >
        <label>
          Model{' '}
          <select value={model?.id} onChange={(e) => setModelId(e.currentTarget.value)}>
            {models.data.data.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} ({m.layers} layers)
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Pooling{' '}
          <select value={pooling} onChange={(e) => setPooling(e.currentTarget.value as Pooling)}>
            <option value="mean">mean</option>
            <option value="cls">CLS token</option>
            <option value="max">max</option>
          </select>
        </label>
        <label class="block">
          First text <textarea rows={2} data-testid="playground-a" value={a} onInput={(e) => setA(e.currentTarget.value)} />
        </label>
        <label class="block">
          Second text <textarea rows={2} data-testid="playground-b" value={b} onInput={(e) => setB(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={compare.busy || !a.trim() || !b.trim()} data-testid="playground-submit">
          Compare
        </button>
        <ErrorBox error={compare.error} testId="playground-error" />
      </form>
      {cosines && (
        <div class="card">
          <SimilarityChart cosines={cosines} />
          <table class="compact" data-testid="similarity-table">
            <thead>
              <tr>
                {cosines.map((_, k) => (
                  <th key={layerName(k)} class="num">
                    {layerName(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                {cosines.map((c, k) => (
                  <td key={layerName(k)} class="num">
                    {c.toFixed(3)}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
