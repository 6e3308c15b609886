"""Turn a registry Variant into Caffe definitions: its nets and its solver.

Nets: the training and testing nets (train/val or trainval/test) read images through the
variant's Python data layer; 'deploy' has one Input layer per image input (1xCx500x500,
reshaped to each image at run time), no Dropout and no loss.
"""
from caffe_fcn.backend import import_caffe
from caffe_fcn.nets import heads, layers
from caffe_fcn.nets.coord_map import top_map
from caffe_fcn.nets.registry import VariantError
from caffe_fcn.nets.trunks import TRUNKS
from caffe_fcn.paths import NETS, RUNS, SOLVERS

caffe = import_caffe()
L = caffe.layers

DEPLOY_SIZE = 500
NO_AUTOMATIC_TESTING = 999999999  # the solve driver (caffe_fcn.train.solve) scores after each round


def net_path(variant, net_name):
    """Where a net of `variant` is checked in, relative to the repository root."""
    return '%s/%s/%s.prototxt' % (NETS, variant.name, net_name)


def solver_path(variant):
    return '%s/%s.prototxt' % (SOLVERS, variant.name)


def _inputs(n, variant, net_name):
    """Add the image inputs (and, except for deploy, the labels); return the image tops."""
    names = [i.name for i in variant.inputs]
    if net_name == 'deploy':
        for i in variant.inputs:
            layer = 'input' if len(variant.inputs) == 1 else 'input_' + i.name
            n[i.name] = L.Input(name=layer, shape=dict(dim=[1, i.channels, DEPLOY_SIZE,
                                                            DEPLOY_SIZE]))
        return [n[name] for name in names]
    spec = variant.data[net_name]
    tops = names + [o.label for o in variant.outputs]
    outs = L.Python(module=spec.module, layer=spec.layer, ntop=len(tops),
                    param_str=repr(dict(spec.params)))
    for name, top in zip(tops, outs):
        n[name] = top
    return [n[name] for name in names]


def _net_spec(variant, net_name):
    """(NetSpec of `variant`'s net `net_name`, {output name: its coarse score top})."""
    if net_name not in variant.nets:
        raise VariantError('variant %r has no net %r; its nets are %s'
                         % (variant.name, net_name, ', '.join(variant.nets)))
    n = caffe.NetSpec()
    images = _inputs(n, variant, net_name)
    build_trunk = TRUNKS[variant.trunk]
    trunk = dict(widths=variant.widths, dropout=net_name != 'deploy', frozen=variant.frozen_trunk)
    if variant.fusion == 'late':
        classes = variant.outputs[0].classes
        for i, top in zip(variant.inputs, images):
            fc7 = build_trunk(n, top, suffix=i.name, **trunk)
            n['score_fr' + i.name] = layers.score(fc7, classes)
        fused = heads.late_fusion(n, [n['score_fr' + i.name] for i in variant.inputs])
    elif variant.fusion == 'early':
        n.data = L.Concat(*images)
        fc7 = build_trunk(n, n.data, conv1_name='conv1_1_bgrd', **trunk)
    else:
        fc7 = build_trunk(n, images[0], **trunk)
    like = n.data if variant.fusion == 'early' else images[0]
    coarse = {}
    for out in variant.outputs:
        if variant.fusion == 'late':
            coarse[out.name] = fused
        else:
            n['score_fr' + out.tag] = coarse[out.name] = layers.score(fc7, out.classes)
        heads.upsample_head(n, coarse[out.name], variant.head, out.classes, like, out.score,
                            trunk=variant.trunk, tag=out.tag)
        if net_name != 'deploy':
            n[out.loss] = layers.softmax_loss(n[out.score], n[out.label],
                                              variant.normalize_loss)
    return n, coarse


def net_proto(variant, net_name):
    """The caffe_pb2.NetParameter of `variant`'s net `net_name` (see variant.nets)."""
    n, _ = _net_spec(variant, net_name)
    proto = n.to_proto()
    proto.name = variant.name
    return proto


def coarse_map(variant):
    """The coordinate map from the input image grid to the grid of the final score layer
    (score_fr, the cells the paper's loss sampling drops), shared by every output."""
    n, coarse = _net_spec(variant, 'deploy')
    maps = {name: top_map(top) for name, top in coarse.items()}
    first = next(iter(maps.values()))
    if any(m != first for m in maps.values()):
        raise VariantError('variant %r: its outputs score on different grids %s' % (variant.name, maps))
    return first


def solver_proto(variant):
    """The caffe_pb2.SolverParameter of `variant`: the reference settings, nets and snapshots
    at repository-relative paths (run from the repository root)."""
    solver = caffe.proto.caffe_pb2.SolverParameter()
    solver.train_net = net_path(variant, variant.train_split)
    solver.test_net.append(net_path(variant, variant.test_split))
    settings = dict(variant.solver)
    solver.test_iter.append(settings.pop('test_iter'))
    for key, value in settings.items():
        setattr(solver, key, value)
    solver.test_interval = NO_AUTOMATIC_TESTING
    solver.test_initialization = False
    solver.snapshot_prefix = '%s/%s/snapshots/%s' % (RUNS, variant.name, variant.name)
    return solver

