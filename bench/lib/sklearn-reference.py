"""Reference for bench:heads: a scikit-learn classifier on the same features as
the service's head. Reads <prefix>.{train,test}.f32 (row-major float32) and
<prefix>.json ({dim, ytrain, ytest}); `kind` is svc (SVC C=10, rbf,
gamma='scale'), logreg (LogisticRegression C=1) or mlp (MLPClassifier with
the given hidden layers, early stopping, Adam; one fit per seed). Prints one
JSON line: the mean test accuracy, each seed's, and the median fit time."""
import json, statistics, sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

prefix, kind = sys.argv[1], sys.argv[2]
seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
hidden = tuple(json.loads(sys.argv[4])) if len(sys.argv) > 4 else (256,)
meta = json.load(open(prefix + '.json'))
xtr = np.fromfile(prefix + '.train.f32', dtype=np.float32).reshape(-1, meta['dim'])
xte = np.fromfile(prefix + '.test.f32', dtype=np.float32).reshape(-1, meta['dim'])
ytr, yte = np.array(meta['ytrain']), np.array(meta['ytest'])


def make(seed):
    if kind == 'svc':
        return SVC(C=10, kernel='rbf', gamma='scale')
    if kind == 'logreg':
        return LogisticRegression(C=1, max_iter=1000)
    if kind == 'mlp':
        return MLPClassifier(hidden_layer_sizes=hidden, early_stopping=True, max_iter=200, random_state=seed)
    raise SystemExit(f'unknown reference {kind}')


accuracies, fits = [], []
for seed in range(seeds):
    clf = make(seed)
    t = time.perf_counter()
    clf.fit(xtr, ytr)
    fits.append(time.perf_counter() - t)
    accuracies.append(float((clf.predict(xte) == yte).mean()))
print(json.dumps({'fit_s': statistics.median(fits), 'accuracy': statistics.mean(accuracies), 'accuracies': accuracies}))
