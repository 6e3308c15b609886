"""Small nets for the surgery tests, built with Caffe's NetSpec and loaded into real Caffe."""
import os
import tempfile

import numpy as np

from caffe_fcn.backend import select_device

caffe = select_device()
L = caffe.layers


def load(proto, weights=None):
    """A caffe.Net (TEST phase) from a NetParameter or NetSpec, via a temporary prototxt file."""
    proto = proto.to_proto() if hasattr(proto, 'to_proto') else proto
    with tempfile.NamedTemporaryFile('w', suffix='.prototxt', delete=False) as f:
        f.write(str(proto))
    try:
        return caffe.Net(f.name, caffe.TEST) if weights is None else caffe.Net(f.name, weights, caffe.TEST)
    finally:
        os.remove(f.name)


def randomize(net, seed):
    """Fill every parameter with He-scaled Gaussian noise (biases small), so activations stay O(1) with depth."""
    rng = np.random.default_rng(seed)
    for blobs in net.params.values():
        weights = blobs[0].data
        fan_in = int(np.prod(weights.shape[1:]))
        rng.standard_normal(weights.shape, dtype=np.float32, out=weights)
        weights *= np.float32(np.sqrt(2.0 / fan_in))
        for blob in blobs[1:]:
            rng.standard_normal(blob.data.shape, dtype=np.float32, out=blob.data)
            blob.data[...] *= np.float32(0.1)
