"""The divergence guard: training stops at the first NaN or infinite loss, before its backward pass.

Checking the loss after `solver.step(1)` comes too late: by then Caffe has run the backward pass
on the non-finite forward, and its max pooling, which finds no maximum among NaNs, scatters
gradients to index -1, outside its buffer, corrupting the heap. So the driver adds this small
Python layer after the loss layers of the training net: it reads the loss blobs at the end of
each forward pass and raises `Diverged`, which unwinds out of `solver.step` before any backward.
"""
import ast
import math

from caffe_fcn.backend import import_caffe

caffe = import_caffe()

LAYER_NAME = 'divergence_guard'


class Diverged(RuntimeError):
    """A loss became NaN or infinite; `output` and `loss` name the head and its blob, `value` the loss."""

    def __init__(self, output, loss, value):
        super().__init__('the %s loss (blob %r) is %s' % (output, loss, value))
        self.output, self.loss, self.value = output, loss, value


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
                raise Diverged(output, loss, value)

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
