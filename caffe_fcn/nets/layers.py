"""Small NetSpec helpers: the handful of layer shapes every FCN is made of.

Learning-rate specs follow the reference release: weights lr_mult 1 / decay_mult 1, biases
lr_mult 2 / decay_mult 0 (LEARNED), except where a trunk carries none (CAFFE_DEFAULTS: FCN-AlexNet's
trunk, so Caffe's lr_mult 1 / decay_mult 1 apply to weights and biases alike). FROZEN stops a
layer's weights and bias from learning (FCN-32s-fixed's trunk). No layer carries a filler: trunk weights come from surgery, score
layers start at Caffe's zero default, and deconvolutions are filled with bilinear kernels by
surgery (`caffe_fcn.surgery.bilinear.interp`) and never learn (lr_mult 0).
"""
from caffe_fcn.backend import import_caffe
from caffe_fcn.nets.coord_map import crop_offset

caffe = import_caffe()
L = caffe.layers
P = caffe.params

LEARNED = [dict(lr_mult=1, decay_mult=1), dict(lr_mult=2, decay_mult=0)]
CAFFE_DEFAULTS = None  # no param specs written
FROZEN = [dict(lr_mult=0, decay_mult=0), dict(lr_mult=0, decay_mult=0)]  # weights and bias
FIXED = [dict(lr_mult=0)]  # the single weight blob of a bias-free Deconvolution or Scale
IGNORE_LABEL = 255


def _param(param):
    return {} if param is CAFFE_DEFAULTS else dict(param=param)


def conv(bottom, nout, ks, stride=1, pad=0, group=1, param=LEARNED):
    """A convolution (no filler); `group` is written only when it is not 1."""
    extra = dict(group=group) if group != 1 else {}
    return L.Convolution(bottom, num_output=nout, kernel_size=ks, stride=stride, pad=pad,
                         **_param(param), **extra)


def conv_relu(bottom, nout, ks=3, stride=1, pad=1, group=1, param=LEARNED):
    """A convolution and its in-place ReLU: (conv, relu)."""
    c = conv(bottom, nout, ks, stride=stride, pad=pad, group=group, param=param)
    return c, L.ReLU(c, in_place=True)


def fc_relu(bottom, nout, param=LEARNED):
    """An InnerProduct (ILSVRC classifier form of fc6/fc7) and its in-place ReLU: (fc, relu)."""
    f = L.InnerProduct(bottom, num_output=nout, **_param(param))
    return f, L.ReLU(f, in_place=True)


def max_pool(bottom, ks=2, stride=2, pad=0):
    """Max pooling (Caffe rounds its output size up); `pad` is written only when it is not 0."""
    extra = dict(pad=pad) if pad else {}
    return L.Pooling(bottom, pool=P.Pooling.MAX, kernel_size=ks, stride=stride, **extra)


def lrn(bottom):
    """AlexNet's local response normalisation (5 channels, alpha 1e-4, beta 0.75)."""
    return L.LRN(bottom, local_size=5, alpha=1e-4, beta=0.75)


def dropout(bottom, ratio=0.5):
    return L.Dropout(bottom, dropout_ratio=ratio, in_place=True)


def score(bottom, classes):
    """A 1x1 score convolution, one output per class (zero-initialised by Caffe: no filler)."""
    return conv(bottom, classes, 1)


def upsample(bottom, classes, ks, stride):
    """A fixed Deconvolution without bias: surgery fills it with bilinear kernels."""
    return L.Deconvolution(bottom, param=FIXED, convolution_param=dict(
        num_output=classes, kernel_size=ks, stride=stride, bias_term=False))


def fixed_scale(bottom, value):
    """Multiply by a constant that never learns (the at-once FCN-8s pool scalings)."""
    return L.Scale(bottom, filler=dict(type='constant', value=value), param=FIXED)


def crop(n, bottom, like):
    """Crop `bottom` to the spatial grid of `like`, the offset derived from coordinate maps.

    `n` is the NetSpec holding both tops; it is only used to name them in errors."""
    names = {id(top): name for name, top in n.tops.items()}
    offset = crop_offset(bottom, like, names)
    return L.Crop(bottom, like, crop_param=dict(axis=2, offset=offset))


def fuse(*bottoms, coeff=None):
    """Element-wise sum (optionally weighted by `coeff`)."""
    extra = dict(coeff=list(coeff)) if coeff is not None else {}
    return L.Eltwise(*bottoms, operation=P.Eltwise.SUM, **extra)


def softmax_loss(score_top, label, normalize):
    """Softmax loss ignoring void (255); FCN's VGG nets sum over pixels (normalize False)."""
    return L.SoftmaxWithLoss(score_top, label,
                             loss_param=dict(ignore_label=IGNORE_LABEL, normalize=normalize))
