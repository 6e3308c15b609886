"""Net surgery: ILSVRC classifiers become fully convolutional nets, and each FCN stage starts from the last.

    transplant(new_net, net, suffix='') -> SurgeryReport   copy parameters by layer name (fc -> conv reshape)
    upsample_filt(size), interp(net, layers=None)             bilinear kernels into Deconvolution layers
    expand_score(new_net, new_layer, net, layer)              k old classes into the first k outputs of a wider score
    add_depth_channel(new_net, new_layer, net, layer)         RGB filters + their mean as the depth channel
"""
from caffe_fcn.surgery.bilinear import deconvolution_layers, interp, upsample_filt
from caffe_fcn.surgery.params import SurgeryError, read_caffemodel
from caffe_fcn.surgery.transplant import SurgeryReport, add_depth_channel, expand_score, transplant

__all__ = ['SurgeryError', 'SurgeryReport', 'add_depth_channel', 'deconvolution_layers', 'expand_score',
           'interp', 'read_caffemodel', 'transplant', 'upsample_filt']
