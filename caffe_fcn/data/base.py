"""The one Caffe Python data layer every dataset shares.

Each forward yields one sample at its own size (batch 1): the tops are reshaped per image, so the
whole net is. A subclass says only what differs between datasets: its parameters, its split ids,
the files of a sample and how to load them. The base does the rest:

- `param_str` is a Python literal dict (parsed with `ast.literal_eval`, never `eval`); unknown
  keys, a missing `split` and dataset folders that do not exist are errors naming what to fix.
- Splits whose name contains 'train' are sampled uniformly at random with replacement from a
  generator the layer owns (seeded by `seed`, default 1337); other splits are read in file order
  and wrap around.
- In multi-GPU training (caffe_fcn.train.multigpu) the layer of solver rank r of n samples only
  ids[r::n] of a training split, so the ranks see different images.
- Every id of the split is checked for its files at setup, so a broken split fails at once.
- A sample is loaded once per forward: Caffe calls reshape() before each forward() (and once more
  while building the net); the sample loaded by the first call is kept until forward() consumes it.
- After each forward, `current_id` names the sample now in the tops.
"""
import ast
import os

import numpy as np

from caffe_fcn.backend import import_caffe
from caffe_fcn.data.readers import DataError
from caffe_fcn.paths import resolve

caffe = import_caffe()

REQUIRED = object()
DEFAULT_SEED = 1337


def parse_params(param_str, defaults, where):
    """The layer's parameters: `defaults` updated with the literal dict in `param_str`."""
    try:
        given = ast.literal_eval(param_str) if param_str.strip() else {}
    except (ValueError, SyntaxError) as err:
        raise DataError('%s: param_str %r is not a Python literal dict: %s' % (where, param_str, err)) from err
    if not isinstance(given, dict):
        raise DataError('%s: param_str must be a dict literal, got %r' % (where, param_str))
    unknown = sorted(set(given) - set(defaults), key=str)
    if unknown:
        raise DataError('%s: unknown param_str key(s) %s; accepted keys: %s'
                        % (where, ', '.join(map(repr, unknown)), ', '.join(sorted(defaults))))
    missing = sorted(k for k, v in defaults.items() if v is REQUIRED and k not in given)
    if missing:
        raise DataError('%s: param_str lacks the required key(s) %s' % (where, ', '.join(missing)))
    return {**defaults, **given}


def check_mean(value, where):
    """The `mean` parameter: three numbers in BGR order."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise DataError('%s: mean must be three numbers (B, G, R), got %r' % (where, value))
    return np.array(value, dtype=np.float32)


class SegDataLayer(caffe.Layer):
    """Base of the segmentation data layers (see the module docstring)."""

    #: parameter name -> default (REQUIRED for none); `split` and `seed` are added for all.
    defaults = {}
    #: parameters naming dataset folders, each with the command that downloads it.
    folders = {}

    # ---- what a dataset defines -------------------------------------------------------------

    def configure(self, params):
        """Check the dataset's own parameters and keep what loading needs."""
        raise NotImplementedError

    def top_names(self):
        """What each top holds, in order."""
        raise NotImplementedError

    def split_ids(self, split):
        """The ids of `split`, in file order."""
        raise NotImplementedError

    def sample_paths(self, sample_id):
        """Every file that sample `sample_id` is read from."""
        raise NotImplementedError

    def load(self, sample_id):
        """The sample's arrays, one per top, each C x H x W (labels 1 x H x W, uint8, 255 void)."""
        raise NotImplementedError

    # ---- shared behaviour -------------------------------------------------------------------

    def folder(self, key):
        """The absolute path of folder parameter `key`, which must exist."""
        path = resolve(self.params[key])
        if not os.path.isdir(path):
            raise DataError('%s: %s %r (%s) does not exist: download it with %s, or set %s in '
                            'param_str' % (self.where, key, self.params[key], path, self.folders[key], key))
        return path

    def setup(self, bottom, top):
        self.where = type(self).__name__
        params = parse_params(self.param_str, {'split': REQUIRED, 'seed': DEFAULT_SEED, **self.defaults},
                              self.where)
        self.params = params
        if not isinstance(params['split'], str) or not params['split']:
            raise DataError('%s: split must be a non-empty string, got %r' % (self.where, params['split']))
        if isinstance(params['seed'], bool) or not isinstance(params['seed'], int):
            raise DataError('%s: seed must be an integer, got %r' % (self.where, params['seed']))
        self.where = '%s(split=%r)' % (type(self).__name__, params['split'])
        if bottom:
            raise DataError('%s: a data layer takes no bottoms, got %d' % (self.where, len(bottom)))
        self.configure(params)
        names = self.top_names()
        if len(top) != len(names):
            raise DataError('%s: the layer has %d top(s) but produces %d (%s)'
                            % (self.where, len(top), len(names), ', '.join(names)))
        self.ids = self.split_ids(params['split'])
        self.random = 'train' in params['split']
        if self.random and caffe.solver_count() > 1:
            self.ids = self.share(caffe.solver_rank(), caffe.solver_count())
        self.check_files()
        self.rng = np.random.RandomState(params['seed'])
        self.index = self.next_index(None)
        self.forwards = 0
        self.loaded_at = None
        self.current_id = None

    def share(self, rank, count):
        """Solver `rank`'s share of the split's ids when `count` solvers train together."""
        if len(self.ids) < count:
            raise DataError('%s: %d solvers cannot share a split of %d images; use at most %d GPUs'
                            % (self.where, count, len(self.ids), len(self.ids)))
        return self.ids[rank::count]

    def check_files(self):
        missing = [(i, p) for i in self.ids for p in self.sample_paths(i) if not os.path.isfile(p)]
        if missing:
            sample_id, path = missing[0]
            raise DataError('%s: %d file(s) of split %r are missing, first: %s (id %r)'
                            % (self.where, len(missing), self.params['split'], path, sample_id))

    def next_index(self, index):
        if self.random:
            return int(self.rng.randint(len(self.ids)))
        return 0 if index is None else (index + 1) % len(self.ids)

    def reshape(self, bottom, top):
        if self.loaded_at != self.forwards:
            sample_id = self.ids[self.index]
            arrays = self.load(sample_id)
            sizes = {a.shape[1:] for a in arrays}
            if len(sizes) > 1:
                raise DataError('%s: the files of id %r differ in size (%s): %s' % (
                    self.where, sample_id, ', '.join('%dx%d' % s for s in sorted(sizes)),
                    ', '.join(self.sample_paths(sample_id))))
            self.arrays = arrays
            self.loaded_at = self.forwards
        for i, array in enumerate(self.arrays):  # pycaffe's blob vectors index but do not iterate
            top[i].reshape(1, *array.shape)

    def forward(self, bottom, top):
        for i, array in enumerate(self.arrays):
            top[i].data[0] = array
        self.current_id = self.ids[self.index]
        self.forwards += 1
        self.index = self.next_index(self.index)

    def backward(self, top, propagate_down, bottom):
        pass
