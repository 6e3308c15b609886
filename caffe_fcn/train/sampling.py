"""Loss sampling (CVPR Section 4.3, Figure 5): each cell of the final score layer is left out of
the loss independently with probability 1 - p, and the images per batch are raised by 1/p
(iter_size) so that the effective batch stays the same.

A cell is left out by marking the label pixels it stands for as void (255), which the loss
ignores. Which pixels a cell stands for comes from the same coordinate maps as the crops: the
final layer (score_fr) sees input pixel x at the coarse coordinate y = scale * x + shift
(`caffe_fcn.nets.build.coarse_map`), and x belongs to the cell nearest to y, floor(y + 1/2).
For the VGG16 nets y = (x - 12.5) / 32: pixels 0..28 belong to cell 0, 29..60 to cell 1, and
so on, 32 pixels a cell; each dropped cell voids one such block of the label.

The driver (`caffe_fcn.train.solve`, option --loss-sampling P) inserts one LossSampling layer
before the loss layers of the training net; p = 1 means no sampling and inserts nothing.
"""
import ast
import math
from fractions import Fraction

import numpy as np

from caffe_fcn.backend import import_caffe
from caffe_fcn.errors import UserError

caffe = import_caffe()

LAYER_NAME = 'loss_sampling'
VOID = 255
SEED = 1337


class SamplingError(UserError, ValueError):
    pass


def cell_of(size, scale, shift):
    """For pixels 0..size-1 along one axis, the index of the final-layer cell each belongs to:
    the cell nearest to its coarse coordinate scale * x + shift (ties go to the next cell)."""
    return np.array([math.floor(scale * x + shift + Fraction(1, 2)) for x in range(size)])


class LossSampling(caffe.Layer):
    """Bottoms: label blobs (N x 1 x H x W); tops: the same labels with the pixels of every
    dropped cell set to void. One keep/drop draw per cell, shared by all bottoms (the heads of a
    net score on one grid). param_str: {'p': keep probability, 'scale': ..., 'shift': ...
    (fractions as strings), 'seed': int}."""

    def setup(self, bottom, top):
        params = ast.literal_eval(self.param_str)
        self.p = float(params['p'])
        self.scale, self.shift = Fraction(params['scale']), Fraction(params['shift'])
        self.rng = np.random.RandomState(params.get('seed', SEED))
        if len(bottom) != len(top) or not bottom:
            raise SamplingError('%s: one top per label bottom, got %d bottoms and %d tops'
                                % (LAYER_NAME, len(bottom), len(top)))
        self.cells = {}

    def reshape(self, bottom, top):
        for i in range(len(bottom)):
            top[i].reshape(*bottom[i].shape)

    def _cells(self, size):
        if size not in self.cells:
            self.cells[size] = cell_of(size, self.scale, self.shift)
        return self.cells[size]

    def forward(self, bottom, top):
        batch, _, height, width = bottom[0].shape
        rows, cols = self._cells(height), self._cells(width)
        rows, cols = rows - rows.min(), cols - cols.min()
        keep = self.rng.random_sample((batch, rows.max() + 1, cols.max() + 1)) < self.p
        kept = keep[:, rows][:, :, cols][:, None]  # N x 1 x H x W
        for i in range(len(bottom)):
            top[i].data[...] = np.where(kept, bottom[i].data, VOID)

    def backward(self, top, propagate_down, bottom):
        pass  # labels carry no gradient


def check_probability(p, iter_size):
    """The iter_size that keeps the effective batch at keep probability `p`: iter_size / p,
    which must be a whole number (p = 1, 0.5, 0.25, ... as in the paper)."""
    if not 0 < p <= 1:
        raise SamplingError('loss sampling: the keep probability p must be in (0, 1], got %r' % p)
    raised = iter_size / p
    if abs(raised - round(raised)) > 1e-9:
        raise SamplingError('loss sampling: iter_size %d / p %r = %g is not a whole number of '
                            'images; choose p = 1/k (1, 0.5, 0.25, ...)' % (iter_size, p, raised))
    return int(round(raised))


def sampled(net_proto, outputs, p, coarse, seed=SEED):
    """A copy of a training NetParameter whose loss layers read labels sampled by LossSampling:
    keep probability `p`, `coarse` the CoordMap of the final score layer (build.coarse_map)."""
    out = type(net_proto)()
    out.CopyFrom(net_proto)
    labels = {o.loss: o.label for o in outputs}
    first = min(i for i, layer in enumerate(out.layer) if set(layer.top) & set(labels))
    layers = list(out.layer)
    sampler = type(layers[0])(name=LAYER_NAME, type='Python')
    sampler.bottom.extend(o.label for o in outputs)
    sampler.top.extend(o.label + '_sampled' for o in outputs)
    sampler.python_param.module = __name__
    sampler.python_param.layer = LossSampling.__name__
    sampler.python_param.param_str = repr(dict(p=p, scale=str(coarse.scale),
                                               shift=str(coarse.shift), seed=seed))
    for layer in layers:
        loss = set(layer.top) & set(labels)
        if loss:
            label = labels[loss.pop()]
            layer.bottom[:] = [b + '_sampled' if b == label else b for b in layer.bottom]
    del out.layer[:]
    out.layer.extend(layers[:first] + [sampler] + layers[first:])
    return out
