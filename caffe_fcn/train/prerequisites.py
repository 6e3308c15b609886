"""What stages need before they can train, and the one report of what is missing: the datasets
their data layers read and the weights files their registry `init` starts from (Init.weights_files),
each with the command that makes it."""
import importlib
import os

from caffe_fcn.data.sources import DATASETS
from caffe_fcn.paths import ROOT, resolve, stage_model


def missing(variants, weights=None, start=True, resumed=()):
    """Lines naming each missing dataset folder and start weights file of `variants` (the stages of a
    chain, in training order), with what to do. Weights that one of `variants` leaves when it is
    trained are not missing. `weights` replaces the start weights of a single variant (--weights);
    start=False leaves start weights out (a resumed run takes its weights from the solverstate), and
    so do the names in `resumed` (the stages of a chain that resume from a snapshot)."""
    datasets, files = {}, {}
    for variant in variants:
        for folder, how in missing_data(variant).items():
            datasets.setdefault((folder, how), []).append(variant.name)
    made = {stage_model(v.name, v.profile) for v in variants}
    for variant in [v for v in variants if v.name not in resumed] if start else ():
        for path, how in start_weights(variant, weights):
            if path not in made and not os.path.isfile(path):
                files.setdefault((_shown(path), how), []).append(variant.name)
    return (['%s is missing or incomplete (read by %s): run %s' % (folder, ', '.join(users), how)
             for (folder, how), users in datasets.items()] +
            ['%s does not exist (needed to start %s): %s' % (path, ', '.join(users), how)
             for (path, how), users in files.items()])


def start_weights(variant, weights=None):
    """[(weights file, what to do if it is missing)] a variant starts from: the files `weights`
    (--weights) or else those its registry init names (Init.weights_files), with their commands."""
    if weights:
        return [(resolve(w), 'check --weights') for w in weights]
    return [(path, 'run `%s`' % command) for path, command in variant.init.weights_files(variant.profile)]


def _shown(path):
    """A path as a user reads it: repository-relative inside the repository."""
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


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
