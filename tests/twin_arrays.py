"""Every variant's narrow twin, run by one Caffe build: the arrays that show two builds (or two devices)
compute the same. test_cuda_build.py runs this script under each build's Python and compares the files.

    python tests/twin_arrays.py FIXTURES_DIR OUT.npz [--gpu N] [--no-dropout] [VARIANT ...]

FIXTURES_DIR holds the fixture datasets (written once by `write_fixtures`, so every run reads the same
files). For each variant (default: all): its train net with He-random parameters from a fixed numpy seed,
one forward and backward (every blob's data and diff, every parameter's diff), then every parameter after
3 SGD steps of its solver (momentum 0.9, base_lr 1e-3 on a normalised loss, so that the steps move the
weights well above float resolution). Arrays are keyed '<variant>/<stage>/<name>'. --no-dropout sets every
dropout ratio to 0, for comparing CPU with GPU mode, whose dropout masks come from different generators.
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile

import numpy as np

NARROW = {'vgg16': (4, 4, 4, 4, 4, 8), 'alexnet': (4, 4, 4, 4, 4, 8), 'googlenet': (4, 4, 4, 4, 8)}
SGD_STEPS = 3
FIXTURE_SPLITS = {  # layer: (writer, folders, splits)
    'SBDSegDataLayer': ('write_sbd', ('sbd',), {'train': 2}),
    'VOCSegDataLayer': ('write_voc', ('VOC2011',), {'seg11valid': 1}),
    'NYUDSegDataLayer': ('write_nyud', ('nyud',), {'train': 2, 'val': 1, 'test': 1}),
    'SIFTFlowSegDataLayer': ('write_siftflow', ('sift-flow',), {'trainval': 2, 'test': 1}),
    'PASCALContextSegDataLayer': ('write_context', ('pascal-context', 'VOC2010'), {'train': 2, 'val': 1}),
}


def write_fixtures(root):
    """Write the fixture datasets under `root`; returns {data layer: param_str keys} (also in root/params.json)."""
    from caffe_fcn.data import fixtures
    params = {}
    for layer, (writer, folders, splits) in FIXTURE_SPLITS.items():
        written = getattr(fixtures, writer)(*[os.path.join(root, f) for f in folders], splits)
        params[layer] = written.params
    partial = os.path.join(root, 'params.json.partial')
    with open(partial, 'w') as f:
        json.dump(params, f)
    os.replace(partial, os.path.join(root, 'params.json'))
    return params


def twin(variant, params_by_layer):
    """The narrow twin of `variant` reading the fixtures, trained hard enough to move its weights."""
    data = {net: dataclasses.replace(spec, params={k: (params_by_layer[spec.layer][k] if k.endswith('_dir') else v)
                                                   for k, v in spec.params.items()})
            for net, spec in variant.data.items()}
    solver = dict(variant.solver, base_lr=1e-3, momentum=0.9, iter_size=1, display=0, random_seed=1)
    return dataclasses.replace(variant, widths=NARROW[variant.trunk], data=data, solver=solver, normalize_loss=True)


def randomise(net, seed=0):
    """He-random weights and small random biases (the nets' own fillers leave the trunk at zero)."""
    rng = np.random.RandomState(seed)
    for blobs in net.params.values():
        for blob in blobs:
            fan_in = np.prod(blob.data.shape[1:]) if blob.data.ndim > 1 else 100
            blob.data[...] = rng.randn(*blob.data.shape) * np.sqrt(2.0 / fan_in)


def variant_arrays(caffe, variant, folder, dropout=True):
    from caffe_fcn.nets.files import NetFiles
    files = NetFiles.written(variant, folder)
    if not dropout:
        train_net = files.net_param(variant.train_split)
        for layer in train_net.layer:
            if layer.type == 'Dropout':
                layer.dropout_param.dropout_ratio = 0
        with open(files.proto(variant.train_split), 'w') as f:
            f.write(str(train_net))
    # The generated solver snapshots under runs/<variant>/, which Caffe wants to exist; snapshot here.
    solver_param = files.solver()
    solver_param.snapshot_prefix = os.path.join(folder, 'snapshot')
    with open(files.solver_path, 'w') as f:
        f.write(str(solver_param))
    solver = caffe.get_solver(files.solver_path)
    net = solver.net
    randomise(net)
    out = {}
    net.forward()
    net.backward()
    for name, blob in net.blobs.items():
        out['forward/' + name] = blob.data.copy()
        out['backward/' + name] = blob.diff.copy()
    for name, blobs in net.params.items():
        for i, blob in enumerate(blobs):
            out['param/%s/%d' % (name, i)] = blob.data.copy()
            out['param-diff/%s/%d' % (name, i)] = blob.diff.copy()
    solver.step(SGD_STEPS)
    for name, blobs in net.params.items():
        for i, blob in enumerate(blobs):
            out['sgd%d/%s/%d' % (SGD_STEPS, name, i)] = blob.data.copy()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('fixtures')
    parser.add_argument('out')
    parser.add_argument('--gpu', type=int)
    parser.add_argument('--no-dropout', dest='dropout', action='store_false')
    parser.add_argument('variants', nargs='*')
    args = parser.parse_args(argv)
    from caffe_fcn.backend import select_device
    from caffe_fcn.nets.registry import VARIANTS
    caffe = select_device(args.gpu)
    with open(os.path.join(args.fixtures, 'params.json')) as f:
        params = json.load(f)
    arrays = {}
    for name in args.variants or sorted(VARIANTS):
        with tempfile.TemporaryDirectory() as folder:
            for key, value in variant_arrays(caffe, twin(VARIANTS[name], params), folder, args.dropout).items():
                arrays['%s/%s' % (name, key)] = value
    partial = args.out + '.partial.npz'
    np.savez(partial, **arrays)
    os.replace(partial, args.out)
    print('%d arrays of %d variants -> %s' % (len(arrays), len(args.variants or VARIANTS), args.out))


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
