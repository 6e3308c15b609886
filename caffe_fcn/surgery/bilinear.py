"""Bilinear kernels for the Deconvolution (upsampling) layers of an FCN."""
import numpy as np

from caffe_fcn.surgery.params import SurgeryError, layer_types


def upsample_filt(size):
    """The size x size bilinear kernel: factor f = (size+1)//2, centre c = f-1 (odd size) or f-1/2 (even),
    w[i, j] = (1 - |i-c|/f) (1 - |j-c|/f). With stride f it sums to f^2 and reproduces bilinear interpolation."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise SurgeryError('upsample_filt: size must be a positive integer, got %r' % (size,))
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(ramp, ramp)


def deconvolution_layers(net):
    """Names of the Deconvolution layers of a caffe.Net, in net order (found by type, not by name)."""
    return [name for name, kind in layer_types(net).items() if kind == 'Deconvolution']


def interp(net, layers=None):
    """Fill Deconvolution layers with bilinear kernels: one per channel on the channel diagonal, zeros elsewhere.

    `layers` defaults to every Deconvolution layer of `net`. A layer's weight blob is
    in_channels x out_channels/group x k x k; out_channels/group may equal in_channels (diagonal) or be
    1 (grouped, one kernel per channel). Returns the names filled.
    """
    types = layer_types(net)
    layers = deconvolution_layers(net) if layers is None else list(layers)
    for name in layers:
        if types.get(name) != 'Deconvolution':
            raise SurgeryError('interp: layer %r is %s, not a Deconvolution layer'
                               % (name, 'absent from the net' if name not in types else 'a ' + types[name]))
        blobs = net.params[name]
        if len(blobs) != 1:
            raise SurgeryError('interp: Deconvolution %r has a bias term; FCN upsampling layers take bias_term: false'
                               % name)
        inputs, outputs, height, width = blobs[0].data.shape
        if height != width:
            raise SurgeryError('interp: Deconvolution %r has a %dx%d kernel; bilinear kernels must be square'
                               % (name, height, width))
        if outputs not in (inputs, 1):
            raise SurgeryError('interp: Deconvolution %r maps %d input channels to %d per group; bilinear '
                               'upsampling needs them equal (or 1 per group)' % (name, inputs, outputs))
    for name in layers:
        weights = net.params[name][0].data
        inputs, outputs = weights.shape[:2]
        kernel = upsample_filt(weights.shape[2])
        weights[...] = 0
        if outputs == 1:
            weights[:, 0] = kernel
        else:
            weights[range(inputs), range(inputs)] = kernel
    return layers
