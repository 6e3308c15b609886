"""The prototxt files of one variant: its nets (nets/<variant>/<net>.prototxt) and its solver
(solvers/<variant>.prototxt), and the Caffe objects made from them.

    NetFiles('nets/voc-fcn8s')                 the checked-in files of a registered variant
    NetFiles.written(variant, folder)          files generated from any Variant (e.g. a narrow twin)
"""
import ast
import os

from google.protobuf import text_format

from caffe_fcn import atomic
from caffe_fcn.backend import import_caffe, net_from_proto, select_device
from caffe_fcn.nets.build import net_proto, solver_proto
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.paths import resolve
from caffe_fcn.backend.weights import load_weights
from caffe_fcn.errors import UserError


class NetFilesError(UserError, ValueError):
    pass


class NetFiles:
    def __init__(self, net_dir, variant=None, solver_path=None):
        self.net_dir = resolve(net_dir)
        name = os.path.basename(os.path.normpath(self.net_dir))
        self.variant = variant or get_variant(name)
        self.solver_path = resolve(solver_path or os.path.join('solvers', self.variant.name + '.prototxt'))

    @classmethod
    def written(cls, variant, folder):
        """Write every net of `variant` and its solver (nets by absolute path) into `folder`."""
        os.makedirs(folder, exist_ok=True)
        for net_name in variant.nets:
            atomic.write_text(os.path.join(folder, net_name + '.prototxt'), str(net_proto(variant, net_name)),
                              replace=True)
        files = cls(folder, variant, os.path.join(folder, 'solver.prototxt'))
        solver = solver_proto(variant)
        solver.train_net = files.proto(variant.train_split)
        solver.test_net[:] = [files.proto(variant.test_split)]
        atomic.write_text(files.solver_path, str(solver), replace=True)
        return files

    def proto(self, net_name):
        """Absolute path of the prototxt of net `net_name`, which must exist."""
        path = os.path.join(self.net_dir, net_name + '.prototxt')
        if not os.path.isfile(path):
            raise NetFilesError('%s does not exist: generate the nets with `make nets`' % path)
        return path

    def net_param(self, net_name):
        """The NetParameter of net `net_name`."""
        return _read_text_proto(self.proto(net_name), import_caffe().proto.caffe_pb2.NetParameter())

    def solver(self):
        """The variant's SolverParameter with its net paths made absolute."""
        if not os.path.isfile(self.solver_path):
            raise NetFilesError('%s does not exist: generate the solvers with `make nets`' % self.solver_path)
        solver = _read_text_proto(self.solver_path, import_caffe().proto.caffe_pb2.SolverParameter())
        if not solver.train_net or len(solver.test_net) != 1:
            raise NetFilesError('%s must name one train_net and one test_net' % self.solver_path)
        solver.train_net = resolve(solver.train_net)
        solver.test_net[:] = [resolve(solver.test_net[0])]
        return solver

    def test_net(self, weights, split=None, gpu=None):
        """(caffe.Net of the variant's test net with `weights`, the split it reads); `split`
        replaces the split of its data layer."""
        select_device(gpu)
        spec = self.variant.data[self.variant.test_split]
        proto = self.net_param(self.variant.test_split)
        data = [layer for layer in proto.layer if layer.type == 'Python'
                and layer.python_param.module == spec.module]
        if len(data) != 1:
            raise NetFilesError('%s has %d %s data layers, expected one'
                                % (self.proto(self.variant.test_split), len(data), spec.module))
        params = ast.literal_eval(data[0].python_param.param_str)
        if split:
            params['split'] = split
            data[0].python_param.param_str = repr(params)
        return _loaded_net(proto, weights, self), params['split']

    def deploy_net(self, weights, gpu=None):
        """caffe.Net of the variant's deploy net (Input layers, no loss) with `weights`."""
        select_device(gpu)
        return _loaded_net(self.net_param('deploy'), weights, self)


def _loaded_net(proto, weights, files):
    """A TEST-phase caffe.Net of `proto` with `weights` (a caffemodel of any size, or an HDF5 snapshot)."""
    net = net_from_proto(proto)
    load_weights(net, resolve(weights), '(%s expects weights of variant %s)' % (files.net_dir, files.variant.name))
    return net


def _read_text_proto(path, message):
    with open(path) as f:
        try:
            text_format.Merge(f.read(), message)
        except text_format.ParseError as err:
            raise NetFilesError('%s is not a valid %s prototxt: %s' % (path, type(message).__name__, err)) from err
    return message
