"""Reference for bench:heads' multi-label table: scikit-learn's
OneVsRestClassifier(LogisticRegression(C=1)) on the same features, every
label predicted at probability >= 0.5. Reads <prefix>.{train,test}.f32
(row-major float32), <prefix>.{train,test}.u8 (multi-hot labels, row-major)
and <prefix>.json ({dim, labels}); prints one JSON line."""
import json, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, hamming_loss
from sklearn.multiclass import OneVsRestClassifier

prefix = sys.argv[1]
meta = json.load(open(prefix + '.json'))
dim, k = meta['dim'], meta['labels']
xtr = np.fromfile(prefix + '.train.f32', dtype=np.float32).reshape(-1, dim)
xte = np.fromfile(prefix + '.test.f32', dtype=np.float32).reshape(-1, dim)
ytr = np.fromfile(prefix + '.train.u8', dtype=np.uint8).reshape(-1, k)
yte = np.fromfile(prefix + '.test.u8', dtype=np.uint8).reshape(-1, k)
clf = OneVsRestClassifier(LogisticRegression(C=1, max_iter=1000))
t = time.perf_counter()
clf.fit(xtr, ytr)
fit = time.perf_counter() - t
pred = (clf.predict_proba(xte) >= 0.5).astype(np.uint8)
print(json.dumps({
    'fit_s': fit,
    'micro_f1': float(f1_score(yte, pred, average='micro', zero_division=0)),
    'macro_f1': float(f1_score(yte, pred, average='macro', zero_division=0)),
    'subset_accuracy': float((pred == yte).all(axis=1).mean()),
    'hamming_loss': float(hamming_loss(yte, pred)),
}))
