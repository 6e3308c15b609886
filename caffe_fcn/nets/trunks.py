"""The two ILSVRC trunks FCN is built on: VGG16 and AlexNet (CaffeNet layer order).

Each builder adds its layers to a NetSpec `n`, names them exactly as the ILSVRC weights do
(plus `suffix`, for the two streams of a late-fusion net) and returns the last top (fc7 after
its ReLU and, for training, dropout). Intermediate tops stay reachable by name, e.g.
n['pool4' + suffix].

  widths  channel counts per stage, to build narrow twins for tests and demos. They change
          channel counts only, never the geometry (kernels, strides, pads).
  pad1    padding of the first convolution: FCN_PAD1 (100) lets the output be cropped back
          onto any input size; CLASSIFIER_PAD1 is what the ILSVRC classifier used.
  fc      'conv': fc6/fc7 as convolutions (the FCN form);
          'fc': InnerProduct, the ILSVRC classifier form (same weights, other shape).
"""
from caffe_fcn.nets import layers
from caffe_fcn.nets.registry import check_widths

FCN_PAD1 = 100
CLASSIFIER_PAD1 = {'vgg16': 1, 'alexnet': 0}
FC6_KERNEL = {'vgg16': 7, 'alexnet': 6}
FC_FORMS = ('conv', 'fc')


def _check_fc(fc):
    if fc not in FC_FORMS:
        raise ValueError("fc must be 'conv' (FCN form) or 'fc' (ILSVRC classifier form); "
                         "got %r" % (fc,))


def _fc6_fc7(n, bottom, suffix, trunk, width, fc, dropout):
    if fc == 'conv':
        n['fc6' + suffix], n['relu6' + suffix] = layers.conv_relu(
            bottom, width, ks=FC6_KERNEL[trunk], pad=0)
    else:
        n['fc6' + suffix], n['relu6' + suffix] = layers.fc_relu(bottom, width)
    top = n['relu6' + suffix]
    if dropout:
        n['drop6' + suffix] = top = layers.dropout(top)
    if fc == 'conv':
        n['fc7' + suffix], n['relu7' + suffix] = layers.conv_relu(top, width, ks=1, pad=0)
    else:
        n['fc7' + suffix], n['relu7' + suffix] = layers.fc_relu(top, width)
    top = n['relu7' + suffix]
    if dropout:
        n['drop7' + suffix] = top = layers.dropout(top)
    return top


def vgg16(n, bottom, suffix='', widths=None, pad1=FCN_PAD1, fc='conv', dropout=True,
          conv1_name='conv1_1'):
    """VGG16 (conv1_1 .. pool5, fc6, fc7). `conv1_name` renames the first convolution
    (conv1_1_bgrd in the NYUD color-depth net, whose input has four channels)."""
    _check_fc(fc)
    w1, w2, w3, w4, w5, wfc = check_widths('vgg16', widths)
    s = suffix
    n[conv1_name + s], n['relu1_1' + s] = layers.conv_relu(bottom, w1, pad=pad1)
    n['conv1_2' + s], n['relu1_2' + s] = layers.conv_relu(n['relu1_1' + s], w1)
    n['pool1' + s] = layers.max_pool(n['relu1_2' + s])

    n['conv2_1' + s], n['relu2_1' + s] = layers.conv_relu(n['pool1' + s], w2)
    n['conv2_2' + s], n['relu2_2' + s] = layers.conv_relu(n['relu2_1' + s], w2)
    n['pool2' + s] = layers.max_pool(n['relu2_2' + s])

    n['conv3_1' + s], n['relu3_1' + s] = layers.conv_relu(n['pool2' + s], w3)
    n['conv3_2' + s], n['relu3_2' + s] = layers.conv_relu(n['relu3_1' + s], w3)
    n['conv3_3' + s], n['relu3_3' + s] = layers.conv_relu(n['relu3_2' + s], w3)
    n['pool3' + s] = layers.max_pool(n['relu3_3' + s])

    n['conv4_1' + s], n['relu4_1' + s] = layers.conv_relu(n['pool3' + s], w4)
    n['conv4_2' + s], n['relu4_2' + s] = layers.conv_relu(n['relu4_1' + s], w4)
    n['conv4_3' + s], n['relu4_3' + s] = layers.conv_relu(n['relu4_2' + s], w4)
    n['pool4' + s] = layers.max_pool(n['relu4_3' + s])

    n['conv5_1' + s], n['relu5_1' + s] = layers.conv_relu(n['pool4' + s], w5)
    n['conv5_2' + s], n['relu5_2' + s] = layers.conv_relu(n['relu5_1' + s], w5)
    n['conv5_3' + s], n['relu5_3' + s] = layers.conv_relu(n['relu5_2' + s], w5)
    n['pool5' + s] = layers.max_pool(n['relu5_3' + s])

    return _fc6_fc7(n, n['pool5' + s], s, 'vgg16', wfc, fc, dropout)


def alexnet(n, bottom, suffix='', widths=None, pad1=FCN_PAD1, fc='conv', dropout=True):
    """AlexNet in CaffeNet order (pool before LRN), as FCN-AlexNet uses it."""
    _check_fc(fc)
    w1, w2, w3, w4, w5, wfc = check_widths('alexnet', widths)
    s = suffix
    n['conv1' + s], n['relu1' + s] = layers.conv_relu(bottom, w1, ks=11, stride=4, pad=pad1)
    n['pool1' + s] = layers.max_pool(n['relu1' + s], ks=3, stride=2)
    n['norm1' + s] = layers.lrn(n['pool1' + s])

    n['conv2' + s], n['relu2' + s] = layers.conv_relu(n['norm1' + s], w2, ks=5, pad=2, group=2)
    n['pool2' + s] = layers.max_pool(n['relu2' + s], ks=3, stride=2)
    n['norm2' + s] = layers.lrn(n['pool2' + s])

    n['conv3' + s], n['relu3' + s] = layers.conv_relu(n['norm2' + s], w3)
    n['conv4' + s], n['relu4' + s] = layers.conv_relu(n['relu3' + s], w4, group=2)
    n['conv5' + s], n['relu5' + s] = layers.conv_relu(n['relu4' + s], w5, group=2)
    n['pool5' + s] = layers.max_pool(n['relu5' + s], ks=3, stride=2)

    return _fc6_fc7(n, n['pool5' + s], s, 'alexnet', wfc, fc, dropout)


TRUNKS = {'vgg16': vgg16, 'alexnet': alexnet}
