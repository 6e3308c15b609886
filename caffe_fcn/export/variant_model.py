"""A variant's ONNX model: its deploy net with trained weights, converted and described, and the
file it is written to (<out>/<variant>.onnx, through a temporary name)."""
import os

import onnx

from caffe_fcn.backend.weights import check_writable
from caffe_fcn.export.convert import caffe_to_onnx
from caffe_fcn.export.describe import metadata
from caffe_fcn.paths import resolve


def variant_model(nets, weights):
    """The onnx.ModelProto of `nets`' deploy net (a caffe_fcn.nets.files.NetFiles) with `weights`
    (any caffemodel or HDF5 snapshot backend.weights reads; one that does not fit is a WeightsError)."""
    # Caffe allocates a blob's memory when it is first read, and the converter reads only shapes and
    # parameters, so the 500x500 deploy net costs its weights here, not its activations.
    net = nets.deploy_net(weights)
    model = caffe_to_onnx(nets.net_param('deploy'), net, nets.variant.name)
    onnx.helper.set_model_props(model, metadata(nets.variant, os.path.basename(weights)))
    model.doc_string = ('FCN variant %s exported from its Caffe deploy net by caffe_fcn.export; '
                        'see the metadata for its inputs' % nets.variant.name)
    return model


def model_path(out_dir, variant):
    return os.path.join(resolve(out_dir), variant.name + '.onnx')


def write_model(model, path, overwrite=False):
    """Write `model` to `path` through a temporary name, checked by onnx's checker before it is
    renamed into place. Returns `path`."""
    check_writable(path, overwrite)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = path + '.partial'
    try:
        onnx.save_model(model, partial)
        onnx.checker.check_model(partial, full_check=True)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def export_variant(nets, weights, out_dir, overwrite=False):
    """Write <out_dir>/<variant>.onnx for `nets` with `weights`; returns its path."""
    path = model_path(out_dir, nets.variant)
    check_writable(path, overwrite)  # before the conversion, which takes a while for VGG16 nets
    return write_model(variant_model(nets, resolve(weights)), path, overwrite)
