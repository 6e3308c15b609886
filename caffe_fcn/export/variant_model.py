"""A variant's ONNX model: its deploy net with trained weights, converted and described, and the
files it is written to (<out>/<variant>.onnx and its weights <out>/<variant>.onnx.data)."""
import os
import shutil
import tempfile

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


def write_model(model, path):
    """Write `model` as `path` (the graph) and `path`.data (its weights, ONNX external data: ONNX Runtime
    maps them from the file instead of copying them out of a parsed protobuf, which halves the memory a
    session takes to load). Both are written under a temporary folder, checked by onnx's checker, and
    renamed into place, the weights first; never over existing files. `model`'s tensors point to the file
    afterwards. Returns `path`."""
    data = path + '.data'
    for target in (path, data):
        check_writable(target)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    partial = tempfile.mkdtemp(prefix='.partial-', dir=folder)
    try:
        written = os.path.join(partial, os.path.basename(path))
        onnx.save_model(model, written, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=1024)
        onnx.checker.check_model(written, full_check=True)
        os.replace(written + '.data', data)
        os.replace(written, path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return path


def export_variant(nets, weights, out_dir):
    """Write <out_dir>/<variant>.onnx (and .onnx.data) for `nets` with `weights`; returns its path."""
    path = model_path(out_dir, nets.variant)
    for target in (path, path + '.data'):  # before the conversion, which takes a while for VGG16 nets
        check_writable(target)
    return write_model(variant_model(nets, resolve(weights)), path)
