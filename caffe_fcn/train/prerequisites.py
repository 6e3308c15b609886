"""What a variant needs before it can train, and the command that makes each missing piece:
its datasets (as its data layers name them) and its start weights (as its registry `init` says)."""
import importlib
import os

from caffe_fcn.data.sources import DATASETS
from caffe_fcn.paths import resolve
from caffe_fcn.train.recipes import cli_args
from caffe_fcn.train.run_folder import default_run_dir, final_model


def default_init_weights(variant):
    """[(caffemodel, command that makes it)] the variant starts from, by its registry `init`."""
    kind, source = variant.init.kind, variant.init.source
    if kind in ('ilsvrc', 'ilsvrc-depth'):
        return [(resolve('weights/%s.caffemodel' % source), 'make %s' % source)]
    sources = source if kind == 'streams' else (source,)
    return [(final_model(default_run_dir(s, variant.profile), s), make_command(s, variant.profile))
            for s in sources]


def make_command(name, profile='heavy'):
    """The make command that trains variant `name` under training profile `profile`."""
    args = cli_args(profile)
    return 'make %s' % name + (' SOLVE_ARGS="%s"' % args if args else '')


def missing_data(variant):
    """{dataset folder: command that downloads it} for each folder the variant's data layers read
    that is absent or lacks a part that its download puts there (data/nyud ships with its split
    lists, but the images arrive with `make data-nyud`). The commands are the data layers' own."""
    missing = {}
    for spec in variant.data.values():
        layer = getattr(importlib.import_module(spec.module), spec.layer)
        for key, how in layer.folders.items():
            folder = spec.params.get(key, layer.defaults.get(key))
            if not all(os.path.exists(path) for path in [resolve(folder)] + downloaded_parts(folder)):
                missing[folder] = how
    return missing


def downloaded_parts(folder):
    """The download destinations (caffe_fcn.data.sources) that lie inside `folder`."""
    folder = resolve(folder)
    parts = [resolve(d) for sources in DATASETS.values() for source in sources for d in source.destinations]
    return [p for p in parts if p == folder or p.startswith(folder + os.sep)]
