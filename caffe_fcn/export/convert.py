"""A Caffe net (its NetParameter and the caffe.Net holding its weights) as an ONNX graph, built with
the `onnx` package's helpers, one translator per Caffe layer type.

Height and width are dynamic: each Input top becomes a graph input of shape
batch x C x height x width, and each Crop takes its size from the reference blob's runtime shape
(Shape -> Add to the fixed offsets -> Slice), so one file serves every image size. Caffe's in-place
layers (ReLU, Dropout) write new ONNX tensors: the last version of each blob carries the blob's name
(`score`, `fc7`), earlier ones are named `<blob>/<layer that wrote them>`. The graph outputs are
Caffe's net outputs (the tops no later layer reads). A layer type or parameter value without an
exact ONNX equivalent here is an ExportError naming the layer.
"""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from caffe_fcn.errors import UserError

OPSET = 17  # Shape's start/end attributes need 15; 17 is what ONNX Runtime's CUDA provider covers fully
BATCH, HEIGHT, WIDTH = 'batch', 'height', 'width'


class ExportError(UserError, ValueError):
    """A net that cannot be written as ONNX: names the layer and what to change."""


def caffe_to_onnx(net_param, net, graph_name=None):
    """The onnx.ModelProto of `net_param` (a caffe_pb2.NetParameter, TEST phase) with the weights of
    `net`, the caffe.Net built from it."""
    graph = _Graph(net_param, net)
    for graph.position, layer in enumerate(net_param.layer):
        translate = TRANSLATORS.get(layer.type)
        if translate is None:
            raise ExportError('layer %r of type %s has no ONNX translation here; supported types: %s'
                              % (layer.name, layer.type, ', '.join(sorted(TRANSLATORS))))
        translate(graph, layer)
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, _dynamic_shape(net, name))
               for name in net.outputs]
    model = helper.make_model(
        helper.make_graph(graph.nodes, graph_name or net_param.name or 'caffe', graph.inputs, outputs,
                          initializer=graph.initializers),
        opset_imports=[helper.make_opsetid('', OPSET)], producer_name='caffe_fcn.export')
    return model


def _dynamic_shape(net, blob):
    """batch x C x ? x ? for a blob of `net` (its channel count is fixed, its spatial size is not)."""
    shape = net.blobs[blob].shape
    return [BATCH, shape[1]] + [None] * (len(shape) - 2)


class _Graph:
    """The nodes, initializers and inputs built so far, and the ONNX name of each Caffe blob."""

    def __init__(self, net_param, net):
        self.net = net
        self.nodes, self.initializers, self.inputs = [], [], []
        self.current = {}  # Caffe blob -> ONNX tensor holding its latest version
        self.last_writer = {}
        for index, layer in enumerate(net_param.layer):
            for top in layer.top:
                self.last_writer[top] = index
        self.position = None  # the index of the layer being translated

    def bottom(self, layer, i=0):
        name = layer.bottom[i]
        if name not in self.current:
            raise ExportError('layer %r reads blob %r, which no earlier layer writes' % (layer.name, name))
        return self.current[name]

    def top(self, layer, i=0):
        """The ONNX name for top `i` of `layer` (see the module docstring), now that blob's current one."""
        blob = layer.top[i]
        name = blob if self.last_writer[blob] == self.position else '%s/%s' % (blob, layer.name)
        self.current[blob] = name
        return name

    def weight(self, layer, i, shape=None):
        """Blob `i` of `layer`'s parameters as an initializer (reshaped to `shape` if given); its name."""
        if layer.name not in self.net.params or len(self.net.params[layer.name]) <= i:
            raise ExportError('layer %r has no parameter blob %d in the net' % (layer.name, i))
        array = self.net.params[layer.name][i].data
        return self.constant('%s.%d' % (layer.name, i), array if shape is None else array.reshape(shape))

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output, layer, suffix='', **attributes):
        self.nodes.append(helper.make_node(op, inputs, [output], name=layer.name + suffix, **attributes))
        return output

    def rank(self, layer, i=0):
        return len(self.net.blobs[layer.bottom[i]].shape)


def _refuse(layer, what):
    raise ExportError('layer %r (%s): %s cannot be exported to ONNX here' % (layer.name, layer.type, what))


def _pair(layer, repeated, h, w, default, name):
    """Caffe's 2-D spatial parameter: explicit _h/_w fields, else the repeated field (one value for
    both axes, or one per axis), else `default`."""
    if h or w:
        return [h, w]
    values = list(repeated)
    if not values:
        return [default, default]
    if len(values) == 1:
        return values * 2
    if len(values) == 2:
        return values
    _refuse(layer, '%d values of %s (a %d-D layer)' % (len(values), name, len(values)))


def _convolution_attributes(layer, param):
    if param.axis != 1:
        _refuse(layer, 'convolution axis %d' % param.axis)
    if param.HasField('kernel_h') != param.HasField('kernel_w'):
        _refuse(layer, 'kernel_h without kernel_w')
    kernel = _pair(layer, param.kernel_size, param.kernel_h, param.kernel_w, None, 'kernel_size')
    stride = _pair(layer, param.stride, param.stride_h, param.stride_w, 1, 'stride')
    pad = _pair(layer, param.pad, param.pad_h, param.pad_w, 0, 'pad')
    dilation = _pair(layer, param.dilation, 0, 0, 1, 'dilation')
    return dict(kernel_shape=kernel, strides=stride, pads=pad + pad, dilations=dilation, group=param.group)


def convolution(graph, layer, op='Conv'):
    """Convolution as Conv; Deconvolution as ConvTranspose (op), which has Caffe's weight layout
    (Cin x Cout/group x kh x kw) and output size, stride (in - 1) + dilation (k - 1) + 1 - 2 pad."""
    param = layer.convolution_param
    inputs = [graph.bottom(layer), graph.weight(layer, 0)]
    if param.bias_term:
        inputs.append(graph.weight(layer, 1))
    graph.node(op, inputs, graph.top(layer), layer, **_convolution_attributes(layer, param))


def deconvolution(graph, layer):
    convolution(graph, layer, 'ConvTranspose')


def relu(graph, layer):
    slope = layer.relu_param.negative_slope
    if slope:
        graph.node('LeakyRelu', [graph.bottom(layer)], graph.top(layer), layer, alpha=slope)
    else:
        graph.node('Relu', [graph.bottom(layer)], graph.top(layer), layer)


def pooling(graph, layer):
    """Max pooling, rounded up as Caffe does by default (ceil_mode): the last window may hang over the
    edge and takes the maximum of what it covers; padding never wins a maximum. With padding and
    rounding up, Caffe drops a last window that would start in the right padding, as ONNX's MaxPool
    does (its windows that start in the right padded region are ignored)."""
    param = layer.pooling_param
    caffe_pb2 = type(param)
    if param.pool != caffe_pb2.MAX:
        _refuse(layer, 'pooling method %s (only MAX)' % caffe_pb2.PoolMethod.Name(param.pool))
    if param.global_pooling:
        _refuse(layer, 'global pooling')
    kernel = _pair(layer, [param.kernel_size] if param.HasField('kernel_size') else [],
                   param.kernel_h, param.kernel_w, None, 'kernel_size')
    stride = _pair(layer, [param.stride] if param.HasField('stride') else [], param.stride_h, param.stride_w, 1,
                   'stride')
    pad = _pair(layer, [param.pad] if param.HasField('pad') else [], param.pad_h, param.pad_w, 0, 'pad')
    ceil = int(param.round_mode == caffe_pb2.CEIL)
    graph.node('MaxPool', [graph.bottom(layer)], graph.top(layer), layer, kernel_shape=kernel, strides=stride,
               pads=pad + pad, ceil_mode=ceil)


def lrn(graph, layer):
    """Across-channel LRN: both divide by (k + alpha / size * sum of squares over `size` channels
    centred on each one)^beta."""
    param = layer.lrn_param
    if param.norm_region != type(param).ACROSS_CHANNELS:
        _refuse(layer, 'LRN within channels')
    if param.local_size % 2 == 0:
        _refuse(layer, 'an even local_size')
    graph.node('LRN', [graph.bottom(layer)], graph.top(layer), layer, size=param.local_size, alpha=param.alpha,
               beta=param.beta, bias=param.k)


def dropout(graph, layer):
    """Caffe's Dropout passes its input through unchanged outside training (it scales while training)."""
    graph.node('Identity', [graph.bottom(layer)], graph.top(layer), layer)


def crop(graph, layer):
    """Crop bottom 0 to the shape of bottom 1 from `axis` on, at fixed offsets; the size is read from
    bottom 1 when the graph runs."""
    param = layer.crop_param
    rank = graph.rank(layer)
    axis = param.axis if param.axis >= 0 else param.axis + rank
    axes = list(range(axis, rank))
    offsets = list(param.offset)
    if len(offsets) == 1:
        offsets *= len(axes)
    elif not offsets:
        offsets = [0] * len(axes)
    if len(offsets) != len(axes):
        _refuse(layer, '%d offsets for the %d cropped axes' % (len(offsets), len(axes)))
    size = graph.node('Shape', [graph.bottom(layer, 1)], '%s/size' % layer.name, layer, '/size', start=axis)
    starts = graph.constant('%s.starts' % layer.name, np.array(offsets, dtype=np.int64))
    ends = graph.node('Add', [starts, size], '%s/ends' % layer.name, layer, '/ends')
    graph.node('Slice', [graph.bottom(layer), starts, ends, graph.constant('%s.axes' % layer.name,
                                                                           np.array(axes, dtype=np.int64))],
               graph.top(layer), layer)


def eltwise(graph, layer):
    """SUM (with Caffe's coefficients: sum of coeff_i * bottom_i), PROD or MAX of the bottoms."""
    param = layer.eltwise_param
    caffe_pb2 = type(param)
    bottoms = [graph.bottom(layer, i) for i in range(len(layer.bottom))]
    if param.coeff and param.operation != caffe_pb2.SUM:
        _refuse(layer, 'coefficients with an operation other than SUM')
    if param.coeff and len(param.coeff) != len(bottoms):
        _refuse(layer, '%d coefficients for %d bottoms' % (len(param.coeff), len(bottoms)))
    if param.operation == caffe_pb2.SUM and param.coeff and any(c != 1 for c in param.coeff):
        bottoms = [graph.node('Mul', [b, graph.constant('%s.coeff%d' % (layer.name, i), np.float32(c))],
                              '%s/term%d' % (layer.name, i), layer, '/term%d' % i)
                   for i, (b, c) in enumerate(zip(bottoms, param.coeff))]
    op = {caffe_pb2.SUM: 'Sum', caffe_pb2.PROD: 'Mul', caffe_pb2.MAX: 'Max'}[param.operation]
    if op == 'Mul' and len(bottoms) != 2:
        _refuse(layer, 'PROD of %d bottoms' % len(bottoms))
    graph.node(op, bottoms, graph.top(layer), layer)


def scale(graph, layer):
    """One bottom times the layer's learned (or fixed) scale blob, broadcast along
    axis .. axis + num_axes, plus its bias blob when bias_term."""
    param = layer.scale_param
    if len(layer.bottom) != 1:
        _refuse(layer, 'a scale given as a second bottom')
    rank = graph.rank(layer)
    axis = param.axis if param.axis >= 0 else param.axis + rank
    scale_shape = graph.net.params[layer.name][0].shape
    shape = [1] * axis + list(scale_shape) + [1] * (rank - axis - len(scale_shape))
    product = [graph.bottom(layer), graph.weight(layer, 0, shape)]
    if not param.bias_term:
        graph.node('Mul', product, graph.top(layer), layer)
        return
    scaled = graph.node('Mul', product, '%s/scaled' % layer.name, layer, '/scaled')
    graph.node('Add', [scaled, graph.weight(layer, 1, shape)], graph.top(layer), layer)


def concat(graph, layer):
    param = layer.concat_param
    axis = param.concat_dim if param.HasField('concat_dim') else param.axis
    graph.node('Concat', [graph.bottom(layer, i) for i in range(len(layer.bottom))], graph.top(layer), layer,
               axis=axis)


def net_input(graph, layer):
    """Each top of an Input layer is a graph input: batch x C x height x width (every image input of a
    net shares the height and width)."""
    for i, blob in enumerate(layer.top):
        if graph.last_writer[blob] != graph.position:
            _refuse(layer, 'an input blob %r that a later layer overwrites in place' % blob)
        shape = graph.net.blobs[blob].shape
        dims = [BATCH, shape[1]] + [HEIGHT, WIDTH][:len(shape) - 2] + [None] * max(0, len(shape) - 4)
        graph.inputs.append(helper.make_tensor_value_info(graph.top(layer, i), TensorProto.FLOAT, dims))


TRANSLATORS = {'Input': net_input, 'Convolution': convolution, 'Deconvolution': deconvolution, 'ReLU': relu,
               'Pooling': pooling, 'LRN': lrn, 'Dropout': dropout, 'Crop': crop, 'Eltwise': eltwise,
               'Scale': scale, 'Concat': concat}
