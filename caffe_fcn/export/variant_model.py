"""A variant's ONNX model: its deploy net with trained weights, converted and described, and the
files it is written to (<out>/<variant>.onnx and its weights <out>/<variant>.onnx.data)."""
import os

import onnx

from caffe_fcn import atomic
from caffe_fcn.export.convert import caffe_to_onnx
from caffe_fcn.export.describe import metadata
from caffe_fcn.paths import resolve


def variant_model(nets, weights, extra_layers=False):
    """The onnx.ModelProto of `nets`' deploy net (a caffe_fcn.nets.files.NetFiles) with `weights`
    (any caffemodel or HDF5 snapshot backend.weights reads; one that does not fit is a WeightsError, and
    so is one holding layers the net lacks, unless `extra_layers`)."""
    # Caffe allocates a blob's memory when it is first read, and the converter reads only shapes and
    # parameters, so the 500x500 deploy net costs its weights here, not its activations.
    net = nets.deploy_net(weights, extra_layers=extra_layers)
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
    session takes to load). Both are written into a temporary folder beside them (caffe_fcn.atomic),
    checked by onnx's checker there, and renamed into place, the weights first; never over existing
    files. `model`'s tensors point to the file afterwards. Returns `path`."""
    data = path + '.data'
    for target in (path, data):
        atomic.refuse_existing(target)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = atomic.temporary_beside(path, folder=True)
    try:
        written = os.path.join(partial, os.path.basename(path))
        onnx.save_model(model, written, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=1024)
        onnx.checker.check_model(written, full_check=True)
        atomic.rename_into_place(written + '.data', data)
        atomic.rename_into_place(written, path)
    finally:
        atomic.remove(partial)
    return path


def export_variant(nets, weights, out_dir, extra_layers=False):
    """Write <out_dir>/<variant>.onnx (and .onnx.data) for `nets` with `weights`; returns its path."""
    path = model_path(out_dir, nets.variant)
    atomic.check_folder(os.path.dirname(path), '--out')  # before the conversion, which takes a while for VGG16
    for target in (path, path + '.data'):
        atomic.refuse_existing(target)
    return write_model(variant_model(nets, resolve(weights), extra_layers), path)
