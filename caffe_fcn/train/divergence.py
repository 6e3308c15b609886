"""The divergence guard: training stops at the first NaN or infinite loss, before its backward pass,
and at the end of a round whose weights or test loss are not finite (`check_round`), before the
round is snapshotted: every snapshot the driver takes holds finite weights and a finite scored round.

Checking the loss after `solver.step(1)` comes too late: by then Caffe has run the backward pass
on the non-finite forward, and its max pooling, which finds no maximum among NaNs, scatters
gradients to index -1, outside its buffer, corrupting the heap. So the driver adds this small
Python layer after the loss layers of the training net: it reads the loss blobs at the end of
each forward pass and raises `Diverged`, which unwinds out of `solver.step` before any backward.
"""
import ast
import math

import numpy as np

from caffe_fcn.backend import import_caffe

caffe = import_caffe()

LAYER_NAME = 'divergence_guard'


class Diverged(RuntimeError):
    """Training went non-finite: `what` says which number, `value` it is, `output` the head (if any),
    `during` whether it was seen in a training step (before its backward) or at the end of a round."""

    def __init__(self, what, value, output=None, during='step'):
        super().__init__('%s is %s' % (what, value))
        self.output, self.value, self.during = output, value, during


def check_round(net, scores):
    """Raise Diverged when a parameter of `net` (the trained weights) or a test loss in `scores`
    (caffe_fcn.evaluate.score) is NaN or infinite."""
    for layer, blobs in net.params.items():
        for index, blob in enumerate(blobs):
            bad = ~np.isfinite(blob.data)
            if bad.any():
                raise Diverged('blob %d of layer %r holds %d non-finite weights; one' % (index, layer, bad.sum()),
                               float(blob.data[bad].flat[0]), during='round')
    for output, values in scores.items():
        if not math.isfinite(values['loss']):
            raise Diverged('the %s test loss' % output, values['loss'], output, during='round')


class DivergenceGuard(caffe.Layer):
    """Bottoms: the loss blobs; param_str: a literal list of their output names, in bottom order."""

    def setup(self, bottom, top):
        self.outputs = ast.literal_eval(self.param_str)
        if len(self.outputs) != len(bottom) or top:
            raise ValueError('%s: one output name per loss bottom and no tops, got %r for %d bottoms'
                             % (LAYER_NAME, self.outputs, len(bottom)))

    def reshape(self, bottom, top):
        pass

    def forward(self, bottom, top):
        for index in range(len(bottom)):  # a vector of blobs: indexable, not iterable
            value = float(bottom[index].data.flat[0])
            if not math.isfinite(value):
                output, loss = self.outputs[index]
                raise Diverged('the %s loss (blob %r)' % (output, loss), value, output)

    def backward(self, top, propagate_down, bottom):
        pass


def guarded(net_proto, outputs):
    """A copy of a training NetParameter with the guard reading the loss blob of every output.

    Each loss layer gets its (default) loss weight of 1 written out: only then does Caffe split a
    loss blob that another layer reads, so that the loss still reaches the backward pass. With an
    implicit weight, the guard, which contributes no loss, would switch the loss layer's backward off."""
    out = type(net_proto)()
    out.CopyFrom(net_proto)
    losses = {o.loss for o in outputs}
    for layer in out.layer:
        if set(layer.top) & losses and not layer.loss_weight:
            layer.loss_weight.extend([1.0] * len(layer.top))
    layer = out.layer.add(name=LAYER_NAME, type='Python')
    layer.bottom.extend(o.loss for o in outputs)
    layer.python_param.module = __name__
    layer.python_param.layer = DivergenceGuard.__name__
    layer.python_param.param_str = repr([(o.name, o.loss) for o in outputs])
    return out
