"""Shared by the surgery tests: Caffe, NetSpec layers and random weights."""
import numpy as np

from caffe_fcn.backend import select_device

caffe = select_device()
L = caffe.layers


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
