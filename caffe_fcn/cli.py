"""The command-line vocabulary every entry point shares, each flag defined once here.

  VARIANT             a variant by its registry name (python -m caffe_fcn.nets --list); its
                      checked-in folder nets/NAME names it too (python solve.py nets/voc-fcn8s)
  --weights FILE      the weights file(s) the command reads
  --out DIR           always a folder; nothing already in it is replaced
  --gpu ID            the CUDA device (default: CPU)
  --gpus ID,ID,...    training on several CUDA devices with NCCL (caffe_fcn.train.multigpu)
  --split NAME        a split of the variant's dataset
  --rounds, --steps   the training schedule (default: the reference's)
  --save-predictions  every scored prediction also as a palette PNG, under <out>/predictions/
  --engine NAME       what runs the nets of infer and score: caffe (default) or onnxruntime
  RUN                 a run folder or its metrics log;  IMAGE...  image files

Every --help ends with one runnable example. `run` parses the command line, checks the devices that
--gpu/--gpus name (caffe_fcn.backend.gpu: Caffe would abort the process on one it cannot use) and runs
the command; an error the user can fix (caffe_fcn.errors.UserError) ends it with one line `<prog>: <message>`
and exit status 2, argparse's own status for a bad command line. Anything else is a bug and keeps
its traceback (exit status 1).
"""
import argparse
import os
import sys

from caffe_fcn.errors import UserError
from caffe_fcn.nets.registry import VariantError, get_variant
from caffe_fcn.paths import NETS, ROOT, resolve

USER_ERROR = 2


def parser(prog, description, example):
    """An argument parser whose --help shows `description` and ends with the runnable `example`."""
    return argparse.ArgumentParser(prog=prog, description=description, epilog='example:\n  ' + example,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def run(parser, command, argv=None):
    """Parse `argv`, check its devices and call command(args); returns the exit status (see the module's
    docstring)."""
    def checked():
        from caffe_fcn.backend import check_device
        args = parser.parse_args(argv)  # a variant's name may be a UserError already
        gpu, gpus = getattr(args, 'gpu', None), getattr(args, 'gpus', None)
        if gpu is not None and gpus:
            parser.error('--gpu and --gpus exclude each other')
        if getattr(args, 'engine', 'caffe') == 'caffe':  # ONNX Runtime's CUDA provider is checked where it starts
            for device in [gpu] + (gpus or []):
                check_device(device)
        return command(args)
    return guarded(parser.prog, checked)


def guarded(prog, call):
    """call()'s exit status (None counts as 0), or USER_ERROR after printing a UserError in one line."""
    try:
        return call() or 0
    except UserError as err:
        print('%s: %s' % (prog, err), file=sys.stderr)
        return USER_ERROR


def variant_named(text):
    """The Variant that `text` names: its registry name, its checked-in folder nets/<name> (relative to
    the working directory or to the repository root), or a folder of nets a run wrote with their
    variant.json (caffe_fcn.nets.files: the nets `make demo` trained, runs/demo/nets/demo-fcn8s).
    Another folder is refused: its nets would not be the ones the registry describes."""
    from caffe_fcn.nets.files import NetFiles, VARIANT_FILE
    name = text.rstrip('/' + os.sep)
    if os.path.isfile(os.path.join(name, VARIANT_FILE)):
        return NetFiles.of_folder(name).variant
    if os.sep in name or '/' in name:
        nets = os.path.realpath(os.path.join(ROOT, NETS))
        if nets not in (os.path.dirname(os.path.realpath(p)) for p in (os.path.abspath(name), resolve(name))):
            raise VariantError('%s is not a variant: name one by its registry name (e.g. voc-fcn8s; '
                              'python -m caffe_fcn.nets --list), its folder nets/<name>, or a folder of nets '
                              'a run wrote (with a variant.json)' % text)
        name = os.path.basename(name)
    return get_variant(name)


class _VariantAction(argparse.Action):
    """Stores the registry Variant (or list of them) named; a UserError for a name that is none."""

    def __call__(self, parser, namespace, values, option_string=None):
        if isinstance(values, list):
            named = [variant_named(v) for v in values]
        else:
            named = None if values is None else variant_named(values)
        setattr(namespace, self.dest, named)


def add_variant(parser, nargs=None, option=False, help='a variant by its registry name (python -m '
                'caffe_fcn.nets --list) or its folder nets/NAME'):
    """VARIANT (positional), or --variant with option=True; the parsed value is the registry Variant."""
    if option:
        parser.add_argument('--variant', metavar='VARIANT', action=_VariantAction, help=help)
    else:
        parser.add_argument('variant', nargs=nargs, metavar='VARIANT', action=_VariantAction, help=help)


def add_run(parser, optional=False):
    parser.add_argument('log', metavar='RUN', nargs='?' if optional else None,
                        help='a run folder or its metrics log (metrics.jsonl)')


def add_images(parser):
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='image files (JPEG, PNG, ...)')


def add_weights(parser, help, required=False, many=False):
    parser.add_argument('--weights', metavar='FILE', nargs='+' if many else None, required=required, help=help)


def folder(text):
    """An argparse type: a folder path (it may not exist yet), never an existing file."""
    if os.path.isfile(text):
        raise argparse.ArgumentTypeError('%s is a file; --out names a folder' % text)
    return text


def add_out(parser, help, required=False):
    parser.add_argument('--out', metavar='DIR', type=folder, required=required,
                        help=help + '; a folder, nothing already in it is replaced')


def device_index(text):
    """An argparse type: a CUDA device index, an int >= 0."""
    index = int(text)
    if index < 0:
        raise argparse.ArgumentTypeError('a CUDA device index is 0 or more, got %d' % index)
    return index


def add_gpu(parser):
    parser.add_argument('--gpu', type=device_index, metavar='ID', help='CUDA device (default: CPU)')


def add_engine(parser):
    from caffe_fcn.export.engine import ENGINES
    parser.add_argument('--engine', choices=ENGINES, default=ENGINES[0],
                        help='caffe (default, the reference) or onnxruntime; with onnxruntime, --weights may also '
                             'be the .onnx file python -m caffe_fcn.export wrote for the variant')


def device_list(text):
    """An argparse type: distinct CUDA device indices separated by commas ('0,1' -> [0, 1])."""
    try:
        devices = [device_index(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('device indices separated by commas, e.g. 0,1; got %r' % text) from None
    if len(set(devices)) != len(devices):
        raise argparse.ArgumentTypeError('%s names a GPU twice: NCCL (2.5 and later) refuses two ranks on one '
                                         'device' % text)
    return devices


def add_gpus(parser):
    parser.add_argument('--gpus', type=device_list, metavar='ID,ID,...',
                        help='train on these CUDA devices with NCCL, one solver process each (README, "GPUs")')


def add_split(parser, help):
    parser.add_argument('--split', metavar='NAME', help=help)


def add_schedule(parser):
    parser.add_argument('--rounds', type=int, help='rounds to train (default: the reference schedule)')
    parser.add_argument('--steps', type=int, help='iterations per round (default: the reference schedule)')


def add_training_profile(parser):
    """--recipe, --table (caffe_fcn.train.recipes) and --loss-sampling (caffe_fcn.train.sampling)."""
    from caffe_fcn.train.recipes import RECIPES, TABLES
    parser.add_argument('--recipe', choices=RECIPES,
                        help="heavy: the reference release's (default); paper: CVPR Section 4.3's (VOC variants); "
                             "a resume takes the run's own")
    parser.add_argument('--table', type=int, choices=sorted(TABLES),
                        help='the splits: 1 = %s, 2 = %s (default: the table the paper reports the variant in '
                             'for --recipe paper, else 2)' % (TABLES[1], TABLES[2]))
    parser.add_argument('--loss-sampling', type=float, metavar='P',
                        help='keep each final-layer cell in the loss with probability P and raise iter_size '
                             "by 1/P (the paper compares 1, 0.5, 0.25; default 1: no sampling; a resume takes the "
                             "run's own)")


def add_save_predictions(parser):
    parser.add_argument('--save-predictions', action='store_true',
                        help='also write every scored prediction as a palette PNG under <out>/predictions/')


def add_allow_extra_layers(parser):
    parser.add_argument('--allow-extra-layers', action='store_true',
                        help='accept weights holding layers the net lacks (they are ignored); by default an error')
