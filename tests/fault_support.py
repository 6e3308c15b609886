"""What the fault corpus (tests/test_faults_*.py) shares: running a command as a user does, in a
process of its own (so that a C++ abort would show as exit 134, not kill the test run), the state of
folders before and after, a narrow trained run, and read-only or small folders."""
import contextlib
import hashlib
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


def run(args, timeout=300, **kwargs):
    """Run a command line (a list, or a string as printed in a hint) from the repository root;
    `python` is this interpreter."""
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    if args[0] == 'python':
        args[0] = sys.executable
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, **kwargs)


def cli(module, *args, **kwargs):
    return run(['python', '-m', module] + list(args), **kwargs)


def solve(*args, **kwargs):
    return run(['python', 'solve.py'] + list(args), **kwargs)


def error_line(done, prefix):
    """The one-line error of a command that failed as it should: exit status 1, no traceback, no
    C++ CHECK, and the message on the last line of stderr, which starts with `prefix`."""
    assert done.returncode == 1, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    assert 'Traceback' not in done.stderr and 'Check failed' not in done.stderr, done.stderr[-3000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(prefix), line
    return line


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
        self.net_dir = self.nets.net_dir

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
