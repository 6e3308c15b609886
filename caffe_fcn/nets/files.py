"""The prototxt files of one variant: its nets (nets/<variant>/<net>.prototxt) and its solver
(solvers/<variant>.prototxt), and the Caffe objects made from them.

    NetFiles(get_variant('voc-fcn8s'))         the checked-in files of a registered variant
    NetFiles.written(variant, folder)          files generated from any Variant (e.g. a narrow twin)
    NetFiles.of_folder('runs/demo/nets/demo-fcn8s')   such a folder again: its variant.json describes the variant
"""
import ast
import dataclasses
import json
import os

from google.protobuf import text_format

from caffe_fcn import atomic
from caffe_fcn.backend import import_caffe, select_device
from caffe_fcn.nets import build
from caffe_fcn.nets.registry import DataSpec, DataTop, Init, Output, Variant
from caffe_fcn.paths import resolve
from caffe_fcn.backend.net_check import check_net, check_solver
from caffe_fcn.backend.weights import net_with_weights
from caffe_fcn.errors import UserError


class NetFilesError(UserError, ValueError):
    pass


VARIANT_FILE = 'variant.json'
SOLVER_FILE = 'solver.prototxt'


class NetFiles:
    """The files of `variant`: its checked-in nets/<name>/ and solvers/<name>.prototxt unless
    `net_dir` and `solver_path` say otherwise."""

    def __init__(self, variant, net_dir=None, solver_path=None):
        self.variant = variant
        net_dir = net_dir or variant.net_dir
        self.net_dir = resolve(net_dir or os.path.dirname(build.net_path(variant, 'deploy')))
        written = variant.net_dir and not solver_path
        self.solver_path = resolve(os.path.join(net_dir, SOLVER_FILE) if written else
                                   solver_path or build.solver_path(variant))

    @classmethod
    def of_folder(cls, folder):
        """The files NetFiles.written left in `folder`, with the variant its variant.json describes."""
        described = os.path.join(resolve(folder), VARIANT_FILE)
        if not os.path.isfile(described):
            raise NetFilesError('%s holds no %s: it is not a folder of nets written by a run' % (folder, VARIANT_FILE))
        variant = dataclasses.replace(read_variant(described), net_dir=resolve(folder))
        return cls(variant, variant.net_dir, os.path.join(variant.net_dir, SOLVER_FILE))

    @classmethod
    def written(cls, variant, folder):
        """Write every net of `variant` and its solver (nets by absolute path) into `folder`."""
        os.makedirs(folder, exist_ok=True)
        for net_name in variant.nets:
            atomic.write_text(os.path.join(folder, net_name + '.prototxt'), str(build.net_proto(variant, net_name)),
                              replace=True)
        atomic.write_json(os.path.join(folder, VARIANT_FILE), dataclasses.asdict(variant), replace=True)
        files = cls(dataclasses.replace(variant, net_dir=resolve(folder)), folder, os.path.join(folder, SOLVER_FILE))
        solver = build.solver_proto(variant)
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
        path = self.proto(net_name)
        return check_net(_read_text_proto(path, import_caffe().proto.caffe_pb2.NetParameter()), path)

    def solver(self):
        """The variant's SolverParameter with its net paths made absolute."""
        if not os.path.isfile(self.solver_path):
            raise NetFilesError('%s does not exist: generate the solvers with `make nets`' % self.solver_path)
        solver = _read_text_proto(self.solver_path, import_caffe().proto.caffe_pb2.SolverParameter())
        check_solver(solver, self.solver_path)
        if not solver.train_net or len(solver.test_net) != 1:
            raise NetFilesError('%s must name one train_net and one test_net' % self.solver_path)
        solver.train_net = resolve(solver.train_net)
        solver.test_net[:] = [resolve(solver.test_net[0])]
        return solver

    def test_net(self, weights, split=None, gpu=None, extra_layers=False):
        """(caffe.Net of the variant's test net with `weights`, the split it reads); `split`
        replaces the split of its data layer. Weights holding layers the net lacks are refused
        unless `extra_layers`."""
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
        return self._net(proto, weights, extra_layers), params['split']

    def deploy_net(self, weights, gpu=None, extra_layers=False):
        """caffe.Net of the variant's deploy net (Input layers, no loss) with `weights`; weights
        holding layers the net lacks are refused unless `extra_layers`."""
        select_device(gpu)
        return self._net(self.net_param('deploy'), weights, extra_layers)

    def _net(self, proto, weights, extra_layers):
        """A TEST-phase caffe.Net of `proto` with `weights` (a caffemodel of any size, or an HDF5 snapshot)."""
        return net_with_weights(proto, resolve(weights), '(%s expects weights of variant %s)'
                                % (self.net_dir, self.variant.name), extra_layers)


def read_variant(path):
    """The Variant a written net folder's variant.json describes."""
    try:
        with open(path) as f:
            fields = json.load(f)
        return Variant(**dict(
            fields, outputs=tuple(Output(**o) for o in fields['outputs']),
            data={net: DataSpec(**spec) for net, spec in fields['data'].items()},
            init=Init(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields['init'].items()}),
            inputs=tuple(DataTop(**i) for i in fields['inputs']),
            widths=tuple(fields['widths']) if fields['widths'] else None))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise NetFilesError('%s does not describe a variant (%s): write the folder again with '
                            'NetFiles.written' % (path, err)) from err


def _read_text_proto(path, message):
    with open(path) as f:
        try:
            text_format.Merge(f.read(), message)
        except text_format.ParseError as err:
            raise NetFilesError('%s is not a valid %s prototxt: %s' % (path, type(message).__name__, err)) from err
    return message
