"""One command-line vocabulary: a variant is named by its registry name (or its folder nets/NAME),
every entry point's --help ends with an example that its own parser accepts, no flag is defined twice,
and an error the user can fix is one line while a bug keeps its traceback."""
import glob
import importlib
import os
import re
import shlex
import subprocess
import sys

import pytest

from caffe_fcn import cli
from caffe_fcn.errors import UserError
from caffe_fcn.nets.registry import VariantError, get_variant
from caffe_fcn.paths import ROOT

ENTRY_POINTS = ['caffe_fcn.train.solve', 'caffe_fcn.train.chain', 'caffe_fcn.surgery.__main__',
                'caffe_fcn.evaluate.score', 'caffe_fcn.evaluate.infer', 'caffe_fcn.evaluate.compare',
                'caffe_fcn.evaluate.plot', 'caffe_fcn.evaluate.upper_bound', 'caffe_fcn.demo.__main__',
                'caffe_fcn.nets.__main__',
                'caffe_fcn.data.__main__', 'bench.run']


@pytest.mark.parametrize('text', ['voc-fcn8s', 'nets/voc-fcn8s', 'nets/voc-fcn8s/', os.path.join(ROOT, 'nets', 'voc-fcn8s'),
                                  os.path.join(ROOT, 'nets', '..', 'nets', 'voc-fcn8s')])
def test_a_variant_is_its_registry_name_or_its_checked_in_folder(text):
    assert cli.variant_named(text) is get_variant('voc-fcn8s')


def test_a_folder_outside_nets_is_not_a_variant_even_when_named_like_one(tmp_path):
    with pytest.raises(VariantError, match=r'/voc-fcn8s is not a variant: name one by its registry name'):
        cli.variant_named(str(tmp_path / 'voc-fcn8s'))
    with pytest.raises(VariantError):
        cli.variant_named('solvers/voc-fcn8s')


def entry_parser(module, monkeypatch):
    """The argument parser `module`'s main() builds (cli.run is stopped before it parses)."""
    built = []
    monkeypatch.setattr(cli, 'run', lambda parser, command, argv=None: built.append(parser))
    importlib.import_module(module).main([])
    (parser,) = built
    return parser


@pytest.mark.parametrize('module', ENTRY_POINTS)
def test_every_help_ends_with_one_example_that_its_parser_accepts(module, monkeypatch):
    parser = entry_parser(module, monkeypatch)
    help_text = parser.format_help()
    assert help_text.count('example:\n') == 1
    example = help_text.split('example:\n', 1)[1].strip()
    assert '\n' not in example and example.startswith(parser.prog + ' ')
    parser.parse_args(shlex.split(example)[len(shlex.split(parser.prog)):])  # exits on a bad example


def test_no_flag_is_defined_twice():
    sources = glob.glob(os.path.join(ROOT, 'caffe_fcn', '**', '*.py'), recursive=True) + \
        glob.glob(os.path.join(ROOT, 'bench', '*.py')) + [os.path.join(ROOT, 'solve.py')]
    where = {}
    for path in sources:
        with open(path) as f:
            for flag in re.findall(r"add_argument\(\s*'(--[a-z-]+)'", f.read()):
                where.setdefault(flag, []).append(os.path.relpath(path, ROOT))
    twice = {flag: paths for flag, paths in where.items() if len(paths) > 1}
    assert not twice
    for flag in ('--weights', '--out', '--gpu', '--split', '--rounds', '--steps', '--save-predictions', '--variant'):
        assert where[flag] == ['caffe_fcn/cli.py'], flag


def test_a_user_error_is_one_line_with_status_2_and_a_bug_keeps_its_traceback(tmp_path):
    run = lambda *args: subprocess.run([sys.executable] + list(args), cwd=ROOT, capture_output=True, text=True,
                                       timeout=120)
    done = run('-m', 'caffe_fcn.evaluate.compare', str(tmp_path / 'absent'))
    assert done.returncode == 2
    assert done.stderr == 'python -m caffe_fcn.evaluate.compare: no metrics log at %s (a run directory holds ' \
                          'metrics.jsonl)\n' % (tmp_path / 'absent')
    # A log whose round lacks its scores is not a user's mistake the CLI knows of: a KeyError, with its traceback.
    log = tmp_path / 'metrics.jsonl'
    log.write_text('{"event": "round", "iteration": 1, "variant": "voc-fcn8s", "split": "seg11valid"}\n')
    done = run('-m', 'caffe_fcn.evaluate.compare', str(log))
    assert done.returncode == 1
    assert 'Traceback (most recent call last)' in done.stderr and "KeyError: 'scores'" in done.stderr


def test_every_exception_class_is_a_user_error_except_two_that_never_reach_a_user():
    """Diverged is raised inside Caffe's forward pass and turned into a SolveError by the driver;
    fetch's _Interrupted is retried or turned into a FetchError."""
    classes = set()
    for path in glob.glob(os.path.join(ROOT, 'caffe_fcn', '**', '*.py'), recursive=True) + \
            glob.glob(os.path.join(ROOT, 'bench', '*.py')):
        name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.').replace('.__init__', '')
        module = importlib.import_module(name)
        classes |= {obj for obj in vars(module).values() if isinstance(obj, type)
                    and issubclass(obj, BaseException) and obj.__module__ == module.__name__}
    assert {c.__name__ for c in classes if not issubclass(c, UserError)} == {'Diverged', '_Interrupted'}
