/** Token ids of a job's texts, cut as the encoder worker cuts an over-long text: its head, ending in [SEP]. */
import { basename, dirname } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

/** The model's tokenizer as a function of a text (ids with [CLS] and [SEP], at most `maxTokens`). */
export async function tokenizerOf(modelDir: string, maxTokens: number): Promise<(text: string) => number[]> {
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(modelDir)}/`;
  const tokenizer = await AutoTokenizer.from_pretrained(basename(modelDir), { local_files_only: true });
  const sep = tokenizer.sep_token_id as number;
  return (text) => {
    const ids = tokenizer.encode(text) as number[];
    if (ids.length <= maxTokens) return ids;
    const cut = ids.slice(0, maxTokens - 1);
    cut.push(sep);
    return cut;
  };
}
