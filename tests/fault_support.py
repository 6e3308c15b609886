"""What the fault corpus (tests/test_faults_*.py) shares: running a command as a user does, in a
process of its own (so that a C++ abort would show as exit 134, not kill the test run), the state of
folders before and after, a narrow trained run, and read-only or small folders."""
import contextlib
import hashlib
import json
import os
import shlex
import subprocess
import sys

import pytest

import train_fixtures
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.paths import ROOT
from caffe_fcn.train.solve import train

QUIET = dict(say=lambda line: None)
ENV = dict(os.environ, PYTHONPATH=ROOT, GLOG_minloglevel='2')
USER_ERROR = 2  # caffe_fcn.cli: a UserError ends a command with one line and this status

# A command run in a child process as typed, except that the variants named in its second argument
# (JSON {variant: folder}) read the nets NetFiles.written left in those folders (narrow twins)
# instead of nets/<variant>.
CHILD = """
import importlib, json, sys
from caffe_fcn.nets.files import NetFiles
module, twins = importlib.import_module(sys.argv[1]), json.loads(sys.argv[2])
if not hasattr(module, 'main'):  # a package run by its __main__
    module = importlib.import_module(sys.argv[1] + '.__main__')
module.NetFiles = lambda variant: NetFiles.of_folder(twins[variant.name]) if variant.name in twins else NetFiles(variant)
sys.exit(module.main(sys.argv[3:]))
"""


def run(args, twins=None, timeout=300, **kwargs):
    """Run a command line (a list, or a string as a hint prints it) from the repository root: `python
    solve.py ...` or `python -m MODULE ...`, `python` being this interpreter; `twins` maps variant
    names to folders of written nets that stand in for nets/<variant>."""
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    assert args[0] == 'python', args
    module, rest = ('caffe_fcn.train.solve', args[2:]) if args[1] == 'solve.py' else (args[2], args[3:])
    assert args[1] in ('solve.py', '-m'), args
    command = [sys.executable, '-c', CHILD, module, json.dumps(twins or {})] + rest
    return subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, **kwargs)


def cli(module, *args, **kwargs):
    return run(['python', '-m', module] + list(args), **kwargs)


def solve(*args, **kwargs):
    return run(['python', 'solve.py'] + list(args), **kwargs)


def error_line(done, prog):
    """The message of a command that failed as it should: exit status 2 (a UserError), no traceback,
    no C++ CHECK, and one line `<prog>: <message>` last on stderr."""
    assert done.returncode == USER_ERROR, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    assert 'Traceback' not in done.stderr and 'Check failed' not in done.stderr, done.stderr[-3000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(prog + ': '), line
    return line[len(prog) + 2:]


def tree(*folders):
    """{path: (size, sha1)} of every file under `folders` (hidden ones too)."""
    state = {}
    for folder in folders:
        for parent, _, names in os.walk(str(folder)):
            for name in names:
                path = os.path.join(parent, name)
                with open(path, 'rb') as f:
                    state[path] = (os.path.getsize(path), hashlib.sha1(f.read()).hexdigest())
    return state


def hint_after(text, marker):
    """The command a message gives after `marker` (to the end of the line)."""
    assert marker in text, text
    return text.split(marker, 1)[1].strip().splitlines()[0]


class TwinRun:
    """A narrow voc-fcn32s twin reading fixture data, its nets written to a folder that every CLI
    takes as a net directory, and its random convolutionalised-VGG16 start weights."""

    def __init__(self, folder):
        self.folder = folder
        self.fixture = train_fixtures.voc_fixture(folder / 'VOC')
        self.trunk = train_fixtures.random_fcn_trunk(folder / 'vgg16-fcn-twin.caffemodel')
        self.variant = train_fixtures.voc_twin('voc-fcn32s', self.fixture, rounds=2, steps=2)
        self.nets = NetFiles.written(self.variant, str(folder / 'nets' / 'voc-fcn32s'))
        self.twins = {'voc-fcn32s': self.nets.net_dir}

    def trained(self, run, **changes):
        """Train a run into `run` (2 rounds of 2 iterations unless changed); returns `run`."""
        train(self.variant, self.nets, str(run), weights=[self.trunk], **dict(QUIET, **changes))
        return str(run)


@contextlib.contextmanager
def mounted_tmpfs(folder, size, read_only=False):
    """A tmpfs of `size` at `folder` (root only: the test is skipped otherwise, with the reason)."""
    if os.geteuid() != 0:
        pytest.skip('mounting a tmpfs needs root (CI runs as root); a full or read-only disk is not simulated')
    os.makedirs(folder, exist_ok=True)
    options = 'size=%s,mode=0755%s' % (size, ',ro' if read_only else '')
    mounted = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(folder)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip('cannot mount a tmpfs here (%s)' % mounted.stderr.strip())
    try:
        yield str(folder)
    finally:
        subprocess.run(['umount', '-l', str(folder)], check=True)


@contextlib.contextmanager
def read_only_folder(folder):
    """A folder nobody may write into: a read-only tmpfs as root (root ignores permissions), else
    a folder without write permission."""
    if os.geteuid() == 0:
        with mounted_tmpfs(folder, '1m', read_only=True) as path:
            yield path
        return
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o555)
    try:
        yield str(folder)
    finally:
        os.chmod(folder, 0o755)
