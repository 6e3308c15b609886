"""Which engine runs a variant's nets in infer and score: Caffe (the default, and the reference) or
ONNX Runtime (`--engine onnxruntime`).

On ONNX Runtime the model is either an exported file (`--weights model.onnx`, written by
python -m caffe_fcn.export for the same variant) or the caffemodel given, converted in memory. Its
nets offer the few parts of a caffe.Net that infer and score use (blobs with .data and .reshape,
forward(), layers, outputs), so both commands run unchanged on either engine:

  OnnxNet       the deploy net: fill the input blobs, forward(), read the score blobs
  OnnxTestNet   the test net: Caffe runs only its Python data layer (images and labels of the
                split, in file order); ONNX Runtime the scores; each loss is the test net's own
                SoftmaxWithLoss layer (its ignore label and normalisation) computed in numpy
"""
import numpy as np

from caffe_fcn.errors import UserError

ENGINES = ('caffe', 'onnxruntime')  # the first is the default (caffe_fcn.cli.add_engine)
FLT_MIN = np.finfo(np.float32).tiny  # Caffe clamps each probability here before its log


class EngineError(UserError, ValueError):
    pass


def deploy_net(nets, weights, gpu=None, engine='caffe', extra_layers=False):
    """The variant's deploy net with `weights` on `engine` (`extra_layers`: see NetFiles.deploy_net)."""
    if engine == 'caffe':
        _refuse_onnx_for_caffe(weights)
        return nets.deploy_net(weights, gpu, extra_layers)
    return OnnxNet(_session(nets, weights, gpu, extra_layers))


def test_net(nets, weights, split=None, gpu=None, engine='caffe', extra_layers=False):
    """(the variant's test net with `weights` on `engine`, the split it reads)."""
    if engine == 'caffe':
        _refuse_onnx_for_caffe(weights)
        return nets.test_net(weights, split, gpu, extra_layers)
    from caffe_fcn.backend import net_from_proto
    proto, split = nets.test_net_param(split)
    losses = {layer.top[0]: _loss_settings(layer) for layer in proto.layer if layer.type == 'SoftmaxWithLoss'}
    missing = [o.loss for o in nets.variant.outputs if o.loss not in losses]
    if proto.layer[0].type != 'Python' or missing:
        raise EngineError('the test net of %s must start with its data layer and end with SoftmaxWithLoss '
                          'layers named %s' % (nets.variant.name, ', '.join(o.loss for o in nets.variant.outputs)))
    del proto.layer[1:]  # only the data layer runs in Caffe: images and labels
    session = _session(nets, weights, gpu, extra_layers)
    return OnnxTestNet(net_from_proto(proto), OnnxNet(session), nets.variant.outputs, losses), split


def _loss_settings(layer):
    """(ignore label or None, divide by the labelled pixels?) of a SoftmaxWithLoss layer, by Caffe's rules:
    the old `normalize` flag, where set, chooses VALID or BATCH_SIZE, else `normalization` does."""
    param = layer.loss_param
    modes = type(param).NormalizationMode
    mode = (modes.Value('VALID') if param.normalize else modes.Value('BATCH_SIZE')) if param.HasField('normalize') \
        else param.normalization
    if mode not in (modes.Value('VALID'), modes.Value('BATCH_SIZE')):
        raise EngineError('loss layer %r: normalization %s is not computed here (VALID or BATCH_SIZE only)'
                          % (layer.name, modes.Name(mode)))
    return (param.ignore_label if param.HasField('ignore_label') else None), mode == modes.Value('VALID')


def _refuse_onnx_for_caffe(weights):
    if str(weights).endswith('.onnx'):
        raise EngineError('%s is an ONNX model: run it with --engine onnxruntime, or give Caffe the '
                          'caffemodel it was exported from' % weights)


def _session(nets, weights, gpu, extra_layers):
    from caffe_fcn.export.describe import read_metadata
    from caffe_fcn.export.runtime import session
    if not str(weights).endswith('.onnx'):
        from caffe_fcn.export.variant_model import variant_model
        return session(variant_model(nets, weights, extra_layers), gpu)
    sess = session(weights, gpu)
    exported = read_metadata(sess.get_modelmeta()).get('variant')
    if exported != nets.variant.name:
        raise EngineError('%s was exported from variant %s, not %s: export this variant with python -m '
                          'caffe_fcn.export %s' % (weights, exported, nets.variant.name, nets.variant.name))
    return sess


class Blob:
    """A blob as pycaffe shows one: an array in .data, replaced by reshape()."""

    def __init__(self, data):
        self.data = data

    def reshape(self, *shape):
        self.data = np.zeros(shape, dtype=np.float32)


class OnnxNet:
    """A deploy net run by an onnxruntime session: blobs named as in Caffe, one for each graph input
    and output."""

    def __init__(self, session):
        self.session = session
        self.inputs = [i.name for i in session.get_inputs()]
        self.outputs = [o.name for o in session.get_outputs()]
        self.blobs = {name: Blob(np.zeros((1, i.shape[1], 1, 1), dtype=np.float32))
                      for name, i in zip(self.inputs, session.get_inputs())}

    def forward(self):
        feeds = {name: np.ascontiguousarray(self.blobs[name].data, dtype=np.float32) for name in self.inputs}
        for name, array in zip(self.outputs, self.session.run(self.outputs, feeds)):
            self.blobs[name] = Blob(array)
        return {name: self.blobs[name].data for name in self.outputs}


class OnnxTestNet:
    """A test net: the Caffe data layer's images through an OnnxNet, with each output's loss."""

    def __init__(self, data_net, net, outputs, losses):
        self.data_net, self.net, self.heads, self.losses = data_net, net, outputs, losses
        self.layers = data_net.layers
        self.outputs = [o.loss for o in outputs]
        self.blobs = {}

    def forward(self):
        self.data_net.forward()
        for name in self.net.inputs:
            self.net.blobs[name] = Blob(self.data_net.blobs[name].data)
        scores = self.net.forward()
        self.blobs = {name: Blob(array) for name, array in scores.items()}
        for o in self.heads:
            label = self.data_net.blobs[o.label].data
            self.blobs[o.label] = Blob(label)
            self.blobs[o.loss] = Blob(np.float32(softmax_loss(scores[o.score][0], label[0, 0], *self.losses[o.loss])))
        return {name: self.blobs[name].data for name in self.outputs}


def softmax_loss(scores, label, ignore_label, valid):
    """Caffe's SoftmaxWithLoss of one CxHxW score map: minus the log probability of each labelled pixel's
    class (pixels of `ignore_label` skipped), clamped at FLT_MIN as Caffe does, summed; divided by the
    number of labelled pixels when `valid` (Caffe's VALID normalisation), else by the batch size of 1."""
    scores = scores.astype(np.float64)
    shifted = scores - scores.max(axis=0)
    log_prob = shifted - np.log(np.exp(shifted).sum(axis=0))
    keep = label != ignore_label if ignore_label is not None else np.ones(label.shape, dtype=bool)
    rows, cols = np.nonzero(keep)
    picked = log_prob[label[keep].astype(np.int64), rows, cols]
    total = -np.maximum(picked, np.log(FLT_MIN)).sum()
    return total / max(int(keep.sum()), 1) if valid else total
