"""bench:embed's PyTorch reference (./torch-reference.ts runs it with Debian's /usr/bin/python3).

A plain eager-PyTorch BERT forward, written with torch.nn.functional as
transformers' BertModel computes it (no `transformers` package here), on the
very checkpoint the importer reads. It takes token ids from the Node side, so
tokenisation is excluded as in the raw onnxruntime baseline, and times
length-sorted batches of 32.

    torch-reference.py CHECKPOINT_DIR IDS_JSON THREADS [CHECK_PREFIX]

IDS_JSON: a JSON array of token-id arrays (the texts to time). CHECK_PREFIX:
files written by the Node side from the ONNX fp32 graph on a few texts
(<prefix>.json: {"ids": [[...]], "layers": [3, 6]}, <prefix>.f32: those
layers' hidden states, [layers, texts, longest, hidden] little-endian float32,
padded). With it, the hidden states are compared first and the run fails when
they differ by more than TOLERANCE: the ratio must compare engines, not models.

Prints one JSON object: torch version, tokens/s, texts/s, and the agreement.
"""

import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

BATCH = 32
# Measured against the fp32 ONNX graph: 3-6e-6 (fp32 sums in another order).
# A different model is far above it: tanh GELU 4e-3, LayerNorm epsilon 1e-5
# 2e-3, token type 1 0.6, no position table 3.
TOLERANCE = 1e-4
DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}


def read_safetensors(path):
    """Every floating-point tensor of a safetensors file, as fp32 torch tensors (as the importer reads it)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_length,) = np.frombuffer(data, dtype="<u8", count=1)
    header = json.loads(data[8 : 8 + int(header_length)])
    start = 8 + int(header_length)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] not in DTYPES:
            continue
        begin, end = entry["data_offsets"]
        dtype = np.dtype(DTYPES[entry["dtype"]])
        raw = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=start + begin)
        # bfloat16 is the upper half of an IEEE single.
        values = (raw.astype(np.uint32) << 16).view(np.float32) if entry["dtype"] == "BF16" else raw.astype(np.float32)
        tensors[name.removeprefix("bert.")] = torch.from_numpy(values.reshape(entry["shape"]).copy())
    return tensors


def load_checkpoint(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        sys.exit(f"{folder}: only the exact erf GELU and absolute positions are supported, as in the importer")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    weights = next((f for f in ("model.safetensors", "model.fp16.safetensors") if f in files), files[0] if files else None)
    if weights is None:
        sys.exit(f"{folder}: no .safetensors file")
    return config, read_safetensors(os.path.join(folder, weights))


def forward(config, w, ids, mask, keep=()):
    """The last hidden state [B, T, H], and the hidden states of the layers in `keep` (0: the embeddings' output)."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_size = hidden // heads
    eps = config.get("layer_norm_eps", 1e-12)
    batch, length = ids.shape

    def linear(x, prefix):
        return F.linear(x, w[f"{prefix}.weight"], w[f"{prefix}.bias"])

    def layer_norm(x, prefix):
        return F.layer_norm(x, (hidden,), w[f"{prefix}.weight"], w[f"{prefix}.bias"], eps)

    def split_heads(x):
        return x.view(batch, length, heads, head_size).transpose(1, 2)

    # token_type_ids are all 0, as the service and the raw baseline send them.
    words = F.embedding(ids, w["embeddings.word_embeddings.weight"])
    embedded = words + w["embeddings.position_embeddings.weight"][:length] + w["embeddings.token_type_embeddings.weight"][0]
    h = layer_norm(embedded, "embeddings.LayerNorm")
    kept = {0: h} if 0 in keep else {}
    # transformers' additive mask: the most negative finite fp32 where padded.
    bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q, k, v = (split_heads(linear(h, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(head_size) + bias
        context = torch.matmul(F.softmax(scores, dim=-1), v).transpose(1, 2).reshape(batch, length, hidden)
        attended = layer_norm(linear(context, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
        # F.gelu's default is the exact erf GELU, the config's "gelu".
        feed_forward = linear(F.gelu(linear(attended, f"{p}.intermediate.dense")), f"{p}.output.dense")
        h = layer_norm(feed_forward + attended, f"{p}.output.LayerNorm")
        if i + 1 in keep:
            kept[i + 1] = h
    return h, kept


def padded(seqs):
    """[B, T] ids and mask, padded with 0 to the longest, as the Node side pads for onnxruntime."""
    length = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), length), dtype=torch.int64)
    mask = torch.zeros((len(seqs), length), dtype=torch.int64)
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = torch.tensor(s, dtype=torch.int64)
        mask[b, : len(s)] = 1
    return ids, mask


def agreement(config, w, prefix):
    """Max |Δ| between these hidden states and the ONNX graph's, per layer, over the real (unpadded) tokens."""
    with open(f"{prefix}.json") as f:
        spec = json.load(f)
    ids, mask = padded(spec["ids"])
    layers = spec["layers"]
    onnx = np.fromfile(f"{prefix}.f32", dtype="<f4").reshape(len(layers), *ids.shape, config["hidden_size"])
    onnx = torch.from_numpy(onnx)
    _, kept = forward(config, w, ids, mask, keep=layers)
    real = mask.bool()
    deltas = {str(layer): float((kept[layer] - onnx[j]).abs()[real].max()) for j, layer in enumerate(layers)}
    ok = all(d <= TOLERANCE for d in deltas.values())
    return {"texts": len(spec["ids"]), "max_abs_delta": deltas, "tolerance": TOLERANCE, "ok": ok}


def throughput(config, w, seqs):
    """Tokens/s and texts/s over length-sorted batches of BATCH, after one warm-up batch (the longest)."""
    ordered = sorted(seqs, key=len)
    # Padded before the clock starts (onnxruntime's baseline pads inside it): the favour goes to PyTorch.
    batches = [padded(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH)]
    forward(config, w, *batches[-1])
    started = time.perf_counter()
    for ids, mask in batches:
        forward(config, w, ids, mask)
    seconds = time.perf_counter() - started
    tokens = sum(len(s) for s in seqs)
    return {
        "tokens": tokens,
        "texts": len(seqs),
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "texts_per_s": len(seqs) / seconds,
    }


def main():
    folder, ids_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    check = sys.argv[4] if len(sys.argv) > 4 else None
    torch.set_num_threads(threads)
    config, w = load_checkpoint(folder)
    with open(ids_path) as f:
        seqs = json.load(f)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        if check:
            result["agreement"] = agreement(config, w, check)
            if not result["agreement"]["ok"]:
                print(json.dumps(result))
                sys.exit(f"PyTorch and the ONNX graph disagree: max |Δ| {result['agreement']['max_abs_delta']} > {TOLERANCE}")
        result.update(throughput(config, w, seqs))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
