"""Reference for bench:heads: scikit-learn SVC(C=10, rbf, gamma='scale') on the
same features. Reads <prefix>.{train,test}.f32 (row-major float32) and
<prefix>.json ({dim, ytrain, ytest}); prints one JSON line."""
import json, sys, time
import numpy as np
from sklearn.svm import SVC

prefix = sys.argv[1]
meta = json.load(open(prefix + '.json'))
xtr = np.fromfile(prefix + '.train.f32', dtype=np.float32).reshape(-1, meta['dim'])
xte = np.fromfile(prefix + '.test.f32', dtype=np.float32).reshape(-1, meta['dim'])
ytr, yte = np.array(meta['ytrain']), np.array(meta['ytest'])
clf = SVC(C=10, kernel='rbf', gamma='scale')
t = time.perf_counter()
clf.fit(xtr, ytr)
fit = time.perf_counter() - t
print(json.dumps({'fit_s': fit, 'accuracy': float((clf.predict(xte) == yte).mean())}))
