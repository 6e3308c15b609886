"""ILSVRC classifier weights -> the fully convolutional weights every FCN trunk starts from.

The classifier (`caffe_fcn.nets.ilsvrc.classifier`, loaded with the downloaded weights by the
caller: caffe_fcn.backend.weights reads the old V1 format of the VGG16 download too) is transplanted
into its convolutionalized twin: fc6/fc7/fc8 keep their numbers, now as convolution kernels
(VGG16 fc6: 4096 x 25088 -> 4096 x 512 x 7 x 7). GoogLeNet has no fully connected layer but its
classifier: its FCN form is the trunk alone, so its average pooling and loss3/classifier are
dropped, and its auxiliary classifiers (loss1/*, loss2/*, in the caffemodel only) are never loaded.
"""
from caffe_fcn.backend import net_from_proto
from caffe_fcn.nets import ilsvrc
from caffe_fcn.surgery.transplant import transplant


def convolutionalize(trunk, classifier, widths=None, classes=ilsvrc.ILSVRC_CLASSES):
    """(the convolutionalized twin of `trunk`'s ILSVRC classifier, SurgeryReport): `classifier` is a
    caffe.Net of `ilsvrc.classifier(trunk, widths, classes)` holding its weights. `widths` and
    `classes` make a narrow twin pair with another fc8 (tests, the demo)."""
    twin = net_from_proto(ilsvrc.convolutionalized(trunk, widths=widths, classes=classes))
    return twin, transplant(twin, classifier)
