"""Random initialisation of a trunk, as a classifier is started before ILSVRC training.

The project's nets carry no fillers (their weights come from surgery), so a net trained from
scratch is filled here: He et al.'s scheme (zero-mean Gaussian, variance 2 / fan-in) for every
Convolution and InnerProduct weight, zero biases. The nets eat raw pixel values minus the mean
(standard deviation about PIXEL_STD, not 1), so the first layer's weights are divided by
PIXEL_STD: activations then start near unit scale in every layer, and so do the class scores. Only the layers named are touched, so the
ablation's FCN keeps zero score layers and bilinear deconvolutions exactly as surgery leaves them.
"""
import numpy as np

from caffe_fcn.surgery.params import layer_types

FILLED_TYPES = ('Convolution', 'InnerProduct')
PIXEL_STD = 64.0


def trunk_layers(net, stop_before='score'):
    """Names of the Convolution/InnerProduct layers of `net` before its first score layer."""
    names = []
    for name, kind in layer_types(net).items():
        if name.startswith(stop_before):
            break
        if kind in FILLED_TYPES and name in net.params:
            names.append(name)
    return names


def he_init(net, layers, seed):
    """Fill `layers` of `net` (first layer first) with He-normal weights and zero biases, from
    RandomState(seed)."""
    rng = np.random.RandomState(seed)
    for i, name in enumerate(layers):
        weights = net.params[name][0].data
        fan_in = int(np.prod(weights.shape[1:]))
        std = np.sqrt(2.0 / fan_in) / (PIXEL_STD if i == 0 else 1.0)
        weights[...] = rng.normal(0, std, size=weights.shape)
        for extra in net.params[name][1:]:
            extra.data[...] = 0
