"""Floating-point operations of a Caffe net's forward pass, computed from its layer shapes.

Counted: the multiply-adds of Convolution, Deconvolution and InnerProduct layers, two FLOPs each
(the convention BLAS rates are quoted in, so a count divided by a GFLOP/s rate is a time).
Deconvolutions are counted as Caffe computes them: a dense GEMM over every input position, zeros
of the bilinear kernels included. Not counted: bias additions, ReLU, pooling, LRN, crops,
element-wise sums, scales, dropout and softmax, a few operations per activation each (together
well under 1 % of an FCN forward).
"""
import math
from dataclasses import dataclass

COUNTED = ('Convolution', 'Deconvolution', 'InnerProduct')


@dataclass(frozen=True)
class LayerCost:
    name: str
    type: str
    macs: int

    @property
    def flops(self):
        return 2 * self.macs


def layer_macs(layer_type, weights, bottom, top):
    """Multiply-adds of one layer, from the blob counts and the weight shape only.

    Convolution weights are Cout x Cin/group x kh x kw: every output position of the top
    (top.count / Cout of them) applies all of them once. Deconvolution weights are
    Cin x Cout/group x kh x kw: every input position scatters all of them once. InnerProduct
    is a GEMM with bottom M x K, weights K x N (in either orientation) and top M x N, so the
    product of the three counts is (M K N) squared."""
    if layer_type == 'Convolution':
        return top.count // weights.shape[0] * weights.count
    if layer_type == 'Deconvolution':
        return bottom.count // weights.shape[0] * weights.count
    if layer_type == 'InnerProduct':
        return math.isqrt(bottom.count * weights.count * top.count)
    raise ValueError('layer type %r is not counted; counted types: %s' % (layer_type, ', '.join(COUNTED)))


def layer_costs(net):
    """A LayerCost for each counted layer of a caffe.Net, in net order, at the net's current shapes."""
    costs = []
    for name, layer in zip(net._layer_names, net.layers):
        if layer.type not in COUNTED:
            continue
        bottoms, tops = net.bottom_names[name], net.top_names[name]
        if len(bottoms) != 1 or len(tops) != 1:
            raise ValueError('layer %r (%s) has %d bottoms and %d tops; the count needs one of each'
                             % (name, layer.type, len(bottoms), len(tops)))
        macs = layer_macs(layer.type, layer.blobs[0], net.blobs[bottoms[0]], net.blobs[tops[0]])
        costs.append(LayerCost(name, layer.type, macs))
    return costs


def net_flops(net):
    """FLOPs of one forward pass of `net` at its current input shapes (see the module docstring)."""
    return sum(cost.flops for cost in layer_costs(net))
