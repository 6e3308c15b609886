"""Where things live. Paths written into generated prototxt (data folders) are relative to the
repository root, so nets run the same from any working directory."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETS = 'nets'        # nets/<variant>/<net>.prototxt, generated and checked in
SOLVERS = 'solvers'  # solvers/<variant>.prototxt, generated and checked in
WEIGHTS = 'weights'  # weights/<name>.caffemodel: downloaded and convolutionalized weights
RUNS = 'runs'        # runs/<variant>/ (runs/<profile>/<variant>/): what training writes (layout: caffe_fcn.train.solve)


def resolve(path):
    """An absolute path for `path`; relative paths are taken from the repository root."""
    path = os.path.expanduser(str(path))
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def weights_file(name):
    """weights/<name>.caffemodel, e.g. the convolutionalized VGG16 `make vgg16-fcn` writes."""
    return resolve(os.path.join(WEIGHTS, name + '.caffemodel'))


def default_run_dir(variant_name, profile='heavy'):
    """runs/<variant>/, where training a variant writes unless told otherwise (its layout:
    caffe_fcn.train.solve); runs/<profile>/<variant>/ for a training profile other than the
    registry's own (caffe_fcn.train.recipes), e.g. runs/paper-table2/voc-fcn32s/."""
    if profile == 'heavy':
        return resolve(os.path.join(RUNS, variant_name))
    return resolve(os.path.join(RUNS, profile, variant_name))


def final_model(run_dir, variant_name):
    """The weights a finished run leaves for the stages after it: <run_dir>/<variant>.caffemodel."""
    return os.path.join(run_dir, variant_name + '.caffemodel')


#: The file `python -m caffe_fcn.evaluate.upper_bound --out DIR` writes into DIR (read by compare).
UPPER_BOUND_FILE = 'upper_bound.json'


def stage_model(variant_name, profile='heavy'):
    """The final model of the variant's default run under training `profile`: what the stages after
    it start from."""
    return final_model(default_run_dir(variant_name, profile), variant_name)
