"""bench:finetune's PyTorch reference (bench/finetune.ts runs it with Debian's /usr/bin/python3).

The service's recipe in eager PyTorch on the checkpoint the importer reads:
the top k layers of the BERT (./torch-reference.py's reader and layer math,
with dropout), mean pooling over the real tokens, dropout, a linear
classifier; softmax cross-entropy, or for multi-label tasks the binary
cross-entropy of each label's sigmoid averaged over labels; AdamW (β 0.9 and
0.999, ε 1e-8, decoupled weight decay except on biases and LayerNorm
parameters), the learning rate rising linearly over the warm-up steps (step s
at (s + 1)/warm of the peak) then falling linearly to 0, gradients clipped
to a global norm. The frozen layers' output is computed once per text and
kept as fp16, as the service keeps it.

Node hands over everything that can be shared: the token ids (cut at the
token limit), labels, each epoch's order of the training texts, the recipe
and the thread count. Dropout masks and the classifier's initial weights are
drawn by torch's own generator, seeded with the same seed (not the same
draws). Each batch is padded to its longest text.

    torch-finetune.py ARGS_JSON

ARGS_JSON: {"checkpoint", "threads", "k", "lr", "epochs", "batch", "warmup", "weight_decay", "dropout",
"clip_norm", "seed", "classes", "multi_label", "train": {"ids", "y" | "targets"}, "test": {"ids"},
"orders": [[...] per epoch], "probabilities": path, "classifier"?: {"weights" (C × H), "bias"}: where the
classifier starts, else random}. Prints a JSON line per epoch, then the run's figures;
writes the last epoch's test probabilities (float32, texts × classes) to "probabilities".
"""

import importlib.util
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("torch_reference", os.path.join(os.path.dirname(__file__), "torch-reference.py"))
tref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tref)

NAMES = (
    [f"attention.self.{x}.{y}" for x in ("query", "key", "value") for y in ("weight", "bias")]
    + [f"attention.output.dense.{y}" for y in ("weight", "bias")]
    + [f"attention.output.LayerNorm.{y}" for y in ("weight", "bias")]
    + [f"intermediate.dense.{y}" for y in ("weight", "bias")]
    + [f"output.dense.{y}" for y in ("weight", "bias")]
    + [f"output.LayerNorm.{y}" for y in ("weight", "bias")]
)


def optimised_blas():
    """The BLAS torch loaded, if an optimised one: Debian's python3-torch links libblas.so.3, and without
    libopenblas0 (a Recommends) that is netlib's reference BLAS, some 35 times slower here: no fair reference."""
    with open("/proc/self/maps") as f:
        paths = {os.path.realpath(line.split()[-1]) for line in f if "blas" in line.lower() and "/" in line}
    return next((p for p in sorted(paths) if any(n in p for n in ("openblas", "mkl", "blis"))), None)


def main():
    with open(sys.argv[1]) as f:
        args = json.load(f)
    if optimised_blas() is None:
        sys.exit("PyTorch runs on the reference BLAS: install libopenblas0-pthread (apt-get) for a fair reference")
    started = time.perf_counter()
    torch.set_num_threads(args["threads"])
    torch.manual_seed(args["seed"])
    config, w = tref.load_checkpoint(args["checkpoint"])
    H, heads = config["hidden_size"], config["num_attention_heads"]
    hs = H // heads
    L = config["num_hidden_layers"]
    k = args["k"]
    eps = config.get("layer_norm_eps", 1e-12)
    P = args["dropout"]
    C = args["classes"]
    multi = args["multi_label"]

    def layer(h, bias, p, training):
        batch, length, _ = h.shape
        lin = lambda x, n: F.linear(x, p[f"{n}.weight"], p[f"{n}.bias"])
        ln = lambda x, n: F.layer_norm(x, (H,), p[f"{n}.weight"], p[f"{n}.bias"], eps)
        sh = lambda x: x.view(batch, length, heads, hs).transpose(1, 2)
        q, kk, v = (sh(lin(h, f"attention.self.{x}")) for x in ("query", "key", "value"))
        scores = torch.matmul(q, kk.transpose(-1, -2)) / math.sqrt(hs) + bias
        probs = F.dropout(F.softmax(scores, dim=-1), P, training)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(batch, length, H)
        a = ln(F.dropout(lin(ctx, "attention.output.dense"), P, training) + h, "attention.output.LayerNorm")
        ff = F.dropout(lin(F.gelu(lin(a, "intermediate.dense")), "output.dense"), P, training)
        return ln(ff + a, "output.LayerNorm")

    def additive(mask):
        return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def frozen_all(seqs):
        """Hidden state L - k of every text, its real tokens as fp16: sorted padded batches of 64."""
        res = [None] * len(seqs)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        with torch.inference_mode():
            for b in range(0, len(order), 64):
                bi = order[b : b + 64]
                ids, mask = tref.padded([seqs[i] for i in bi])
                length = ids.shape[1]
                e = F.embedding(ids, w["embeddings.word_embeddings.weight"]) + w["embeddings.position_embeddings.weight"][:length] + w["embeddings.token_type_embeddings.weight"][0]
                h = F.layer_norm(e, (H,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
                bias = additive(mask)
                for i in range(L - k):
                    h = layer(h, bias, {n: w[f"encoder.layer.{i}.{n}"] for n in NAMES}, False)
                for j, i in enumerate(bi):
                    res[i] = h[j, : len(seqs[i])].to(torch.float16)
        return res

    t0 = time.perf_counter()
    train_states = frozen_all(args["train"]["ids"])
    test_states = frozen_all(args["test"]["ids"])
    frozen_s = time.perf_counter() - t0

    params = {}
    for i in range(L - k, L):
        for n in NAMES:
            params[f"{i}.{n}"] = torch.nn.Parameter(w[f"encoder.layer.{i}.{n}"].clone())
    start = args.get("classifier")
    params["cls.weight"] = torch.nn.Parameter(torch.tensor(start["weights"], dtype=torch.float32).view(C, H) if start else torch.randn(C, H) * 0.02)
    params["cls.bias"] = torch.nn.Parameter(torch.tensor(start["bias"], dtype=torch.float32) if start else torch.zeros(C))
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
    groups = [
        {"params": [p for n, p in params.items() if not no_decay(n)], "weight_decay": args["weight_decay"]},
        {"params": [p for n, p in params.items() if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args["lr"], betas=(0.9, 0.999), eps=1e-8)
    n_train = len(train_states)
    B = args["batch"]
    E = args["epochs"]
    steps = E * math.ceil(n_train / B)
    warm = int(args["warmup"] * steps)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    if multi:
        targets = torch.tensor(args["train"]["targets"], dtype=torch.float32).view(n_train, C)
    else:
        labels = torch.tensor(args["train"]["y"], dtype=torch.int64)

    def run(states, idx, training):
        seqs = [states[i] for i in idx]
        T = max(s.shape[0] for s in seqs)
        h = torch.zeros(len(seqs), T, H)
        mask = torch.zeros(len(seqs), T)
        for j, s in enumerate(seqs):
            h[j, : s.shape[0]] = s.float()
            mask[j, : s.shape[0]] = 1
        bias = additive(mask)
        for i in range(L - k, L):
            h = layer(h, bias, {n: params[f"{i}.{n}"] for n in NAMES}, training)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        pooled = F.dropout(pooled, P, training)
        return F.linear(pooled, params["cls.weight"], params["cls.bias"])

    tokens = 0
    train_s = 0.0
    probabilities = None
    for epoch in range(E):
        order = args["orders"][epoch]
        t1 = time.perf_counter()
        losses = []
        for b in range(0, len(order), B):
            idx = order[b : b + B]
            logits = run(train_states, idx, True)
            loss = F.binary_cross_entropy_with_logits(logits, targets[idx]) if multi else F.cross_entropy(logits, labels[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), args["clip_norm"])
            opt.step()
            sched.step()
            tokens += sum(train_states[i].shape[0] for i in idx)
            losses.append(loss.item())
        seconds = time.perf_counter() - t1
        train_s += seconds
        with torch.inference_mode():
            order_t = sorted(range(len(test_states)), key=lambda i: test_states[i].shape[0])
            out = torch.zeros(len(test_states), C)
            for b in range(0, len(order_t), 128):
                idx = order_t[b : b + 128]
                logits = run(test_states, idx, False)
                out[idx] = torch.sigmoid(logits) if multi else torch.softmax(logits, -1)
            probabilities = out
        print(json.dumps({"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds}), flush=True)
    probabilities.numpy().astype("<f4").tofile(args["probabilities"])
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "frozen_s": frozen_s,
                "train_s": train_s,
                "total_s": time.perf_counter() - started,
                "tokens": tokens,
                "tokens_per_s": tokens / train_s,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
