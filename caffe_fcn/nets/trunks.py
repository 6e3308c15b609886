"""The three ILSVRC trunks FCN is built on: VGG16, AlexNet (CaffeNet layer order) and GoogLeNet
(BVLC GoogLeNet, the Caffe Model Zoo's replication).

Each builder adds its layers to a NetSpec `n`, names them exactly as the ILSVRC weights do
(plus `suffix`, for the two streams of a late-fusion net) and returns the last top (fc7 after
its ReLU and, for training, dropout; GoogLeNet's inception_5b/output). Intermediate tops stay
reachable by name, e.g. n['pool4' + suffix].

  widths  channel counts per stage, to build narrow twins for tests and demos. They change
          channel counts only, never the geometry (kernels, strides, pads).
  pad1    padding of the first convolution: FCN_PAD1 (100) lets the output be cropped back
          onto any input size; CLASSIFIER_PAD1 is what the ILSVRC classifier used.
  fc      'conv': fc6/fc7 as convolutions (the FCN form);
          'fc': InnerProduct, the ILSVRC classifier form (same weights, other shape).
          GoogLeNet has no fully connected layer but its classifier, which FCN discards.
  frozen  every trunk layer gets lr_mult 0 (FCN-32s-fixed: only the score layer learns);
          otherwise each trunk has the reference's param specs (PARAMS).
"""
import functools

from caffe_fcn.nets import layers
from caffe_fcn.nets.registry import VariantError, check_widths

FCN_PAD1 = 100
CLASSIFIER_PAD1 = {'vgg16': 1, 'alexnet': 0, 'googlenet': 3}
FC6_KERNEL = {'vgg16': 7, 'alexnet': 6}
FC_FORMS = ('conv', 'fc')
# The reference release's param specs of the trunk layers: VGG16's carry the 1/1, 2/0 pair,
# FCN-AlexNet's (voc-fcn-alexnet/net.py) none, so Caffe's defaults apply.
# BVLC GoogLeNet's own train_val carries the same pair.
PARAMS = {'vgg16': layers.LEARNED, 'alexnet': layers.CAFFE_DEFAULTS, 'googlenet': layers.LEARNED}


def trunk_param(trunk, frozen):
    return layers.FROZEN if frozen else PARAMS[trunk]


def _check_fc(fc):
    if fc not in FC_FORMS:
        raise ValueError("fc must be 'conv' (FCN form) or 'fc' (ILSVRC classifier form); "
                         "got %r" % (fc,))


def _fc6_fc7(n, bottom, suffix, trunk, width, fc, dropout, param):
    if fc == 'conv':
        n['fc6' + suffix], n['relu6' + suffix] = layers.conv_relu(
            bottom, width, ks=FC6_KERNEL[trunk], pad=0, param=param)
    else:
        n['fc6' + suffix], n['relu6' + suffix] = layers.fc_relu(bottom, width, param=param)
    top = n['relu6' + suffix]
    if dropout:
        n['drop6' + suffix] = top = layers.dropout(top)
    if fc == 'conv':
        n['fc7' + suffix], n['relu7' + suffix] = layers.conv_relu(top, width, ks=1, pad=0,
                                                                  param=param)
    else:
        n['fc7' + suffix], n['relu7' + suffix] = layers.fc_relu(top, width, param=param)
    top = n['relu7' + suffix]
    if dropout:
        n['drop7' + suffix] = top = layers.dropout(top)
    return top


def vgg16(n, bottom, suffix='', widths=None, pad1=FCN_PAD1, fc='conv', dropout=True,
          conv1_name='conv1_1', frozen=False):
    """VGG16 (conv1_1 .. pool5, fc6, fc7). `conv1_name` renames the first convolution
    (conv1_1_bgrd in the NYUD color-depth net, whose input has four channels)."""
    _check_fc(fc)
    w1, w2, w3, w4, w5, wfc = check_widths('vgg16', widths)
    s = suffix
    param = trunk_param('vgg16', frozen)
    conv_relu = functools.partial(layers.conv_relu, param=param)
    n[conv1_name + s], n['relu1_1' + s] = conv_relu(bottom, w1, pad=pad1)
    n['conv1_2' + s], n['relu1_2' + s] = conv_relu(n['relu1_1' + s], w1)
    n['pool1' + s] = layers.max_pool(n['relu1_2' + s])

    n['conv2_1' + s], n['relu2_1' + s] = conv_relu(n['pool1' + s], w2)
    n['conv2_2' + s], n['relu2_2' + s] = conv_relu(n['relu2_1' + s], w2)
    n['pool2' + s] = layers.max_pool(n['relu2_2' + s])

    n['conv3_1' + s], n['relu3_1' + s] = conv_relu(n['pool2' + s], w3)
    n['conv3_2' + s], n['relu3_2' + s] = conv_relu(n['relu3_1' + s], w3)
    n['conv3_3' + s], n['relu3_3' + s] = conv_relu(n['relu3_2' + s], w3)
    n['pool3' + s] = layers.max_pool(n['relu3_3' + s])

    n['conv4_1' + s], n['relu4_1' + s] = conv_relu(n['pool3' + s], w4)
    n['conv4_2' + s], n['relu4_2' + s] = conv_relu(n['relu4_1' + s], w4)
    n['conv4_3' + s], n['relu4_3' + s] = conv_relu(n['relu4_2' + s], w4)
    n['pool4' + s] = layers.max_pool(n['relu4_3' + s])

    n['conv5_1' + s], n['relu5_1' + s] = conv_relu(n['pool4' + s], w5)
    n['conv5_2' + s], n['relu5_2' + s] = conv_relu(n['relu5_1' + s], w5)
    n['conv5_3' + s], n['relu5_3' + s] = conv_relu(n['relu5_2' + s], w5)
    n['pool5' + s] = layers.max_pool(n['relu5_3' + s])

    return _fc6_fc7(n, n['pool5' + s], s, 'vgg16', wfc, fc, dropout, param)


def alexnet(n, bottom, suffix='', widths=None, pad1=FCN_PAD1, fc='conv', dropout=True,
            frozen=False):
    """AlexNet in CaffeNet order (pool before LRN), as FCN-AlexNet uses it."""
    _check_fc(fc)
    w1, w2, w3, w4, w5, wfc = check_widths('alexnet', widths)
    s = suffix
    param = trunk_param('alexnet', frozen)
    conv_relu = functools.partial(layers.conv_relu, param=param)
    n['conv1' + s], n['relu1' + s] = conv_relu(bottom, w1, ks=11, stride=4, pad=pad1)
    n['pool1' + s] = layers.max_pool(n['relu1' + s], ks=3, stride=2)
    n['norm1' + s] = layers.lrn(n['pool1' + s])

    n['conv2' + s], n['relu2' + s] = conv_relu(n['norm1' + s], w2, ks=5, pad=2, group=2)
    n['pool2' + s] = layers.max_pool(n['relu2' + s], ks=3, stride=2)
    n['norm2' + s] = layers.lrn(n['pool2' + s])

    n['conv3' + s], n['relu3' + s] = conv_relu(n['norm2' + s], w3)
    n['conv4' + s], n['relu4' + s] = conv_relu(n['relu3' + s], w4, group=2)
    n['conv5' + s], n['relu5' + s] = conv_relu(n['relu4' + s], w5, group=2)
    n['pool5' + s] = layers.max_pool(n['relu5' + s], ks=3, stride=2)

    return _fc6_fc7(n, n['pool5' + s], s, 'alexnet', wfc, fc, dropout, param)


# BVLC GoogLeNet (Szegedy et al. 2014, Table 1): conv1/7x7_s2, conv2/3x3_reduce, conv2/3x3, and per
# inception module the widths of its 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5 and pool_proj convolutions.
GOOGLENET_STEM = (64, 64, 192)
INCEPTION = {'3a': (64, 96, 128, 16, 32, 32), '3b': (128, 128, 192, 32, 96, 64),
             '4a': (192, 96, 208, 16, 48, 64), '4b': (160, 112, 224, 24, 64, 64),
             '4c': (128, 128, 256, 24, 64, 64), '4d': (112, 144, 288, 32, 64, 64),
             '4e': (256, 160, 320, 32, 128, 128),
             '5a': (256, 160, 320, 32, 128, 128), '5b': (384, 192, 384, 48, 128, 128)}
GOOGLENET_DROPOUT = 0.4  # before its classifier; FCN keeps it before score_fr


def inception(n, bottom, module, widths, conv_relu):
    """One inception module: 1x1, 1x1 -> 3x3, 1x1 -> 5x5 and 3x3 max pool -> 1x1 branches,
    concatenated into inception_<module>/output. Every branch keeps the grid (same padding)."""
    p = 'inception_%s/' % module
    w1, w3r, w3, w5r, w5, wp = widths
    n[p + '1x1'], n[p + 'relu_1x1'] = conv_relu(bottom, w1, ks=1, pad=0)
    n[p + '3x3_reduce'], n[p + 'relu_3x3_reduce'] = conv_relu(bottom, w3r, ks=1, pad=0)
    n[p + '3x3'], n[p + 'relu_3x3'] = conv_relu(n[p + 'relu_3x3_reduce'], w3, ks=3, pad=1)
    n[p + '5x5_reduce'], n[p + 'relu_5x5_reduce'] = conv_relu(bottom, w5r, ks=1, pad=0)
    n[p + '5x5'], n[p + 'relu_5x5'] = conv_relu(n[p + 'relu_5x5_reduce'], w5, ks=5, pad=2)
    n[p + 'pool'] = layers.max_pool(bottom, ks=3, stride=1, pad=1)
    n[p + 'pool_proj'], n[p + 'relu_pool_proj'] = conv_relu(n[p + 'pool'], wp, ks=1, pad=0)
    n[p + 'output'] = layers.L.Concat(n[p + 'relu_1x1'], n[p + 'relu_3x3'], n[p + 'relu_5x5'],
                                      n[p + 'relu_pool_proj'])
    return n[p + 'output']


def googlenet(n, bottom, suffix='', widths=None, pad1=FCN_PAD1, fc='conv', dropout=True, frozen=False):
    """BVLC GoogLeNet up to inception_5b/output (its average pooling and classifier, and the
    auxiliary classifiers, are not part of the trunk: FCN discards them)."""
    _check_fc(fc)
    if suffix:
        raise VariantError('the googlenet trunk is built for single-stream nets only')
    widths = check_widths('googlenet', widths)
    stem = GOOGLENET_STEM if widths is None else (widths[0], widths[1], widths[1])
    modules = INCEPTION if widths is None else {
        m: (widths[int(m[0]) - 1],) * 6 for m in INCEPTION}
    conv_relu = functools.partial(layers.conv_relu, param=trunk_param('googlenet', frozen))
    n['conv1/7x7_s2'], n['conv1/relu_7x7'] = conv_relu(bottom, stem[0], ks=7, stride=2, pad=pad1)
    n['pool1/3x3_s2'] = layers.max_pool(n['conv1/relu_7x7'], ks=3, stride=2)
    n['pool1/norm1'] = layers.lrn(n['pool1/3x3_s2'])
    n['conv2/3x3_reduce'], n['conv2/relu_3x3_reduce'] = conv_relu(n['pool1/norm1'], stem[1], ks=1, pad=0)
    n['conv2/3x3'], n['conv2/relu_3x3'] = conv_relu(n['conv2/relu_3x3_reduce'], stem[2], ks=3, pad=1)
    n['conv2/norm2'] = layers.lrn(n['conv2/relu_3x3'])
    top = n['pool2/3x3_s2'] = layers.max_pool(n['conv2/norm2'], ks=3, stride=2)
    for module in INCEPTION:
        if module in ('4a', '5a'):
            pool = 'pool%s/3x3_s2' % (int(module[0]) - 1)
            top = n[pool] = layers.max_pool(top, ks=3, stride=2)
        top = inception(n, top, module, modules[module], conv_relu)
    if dropout:
        n['inception_5b/drop'] = top = layers.dropout(top, GOOGLENET_DROPOUT)
    return top


TRUNKS = {'vgg16': vgg16, 'alexnet': alexnet, 'googlenet': googlenet}
