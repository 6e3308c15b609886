"""What the fault corpus (tests/test_faults_*.py) shares: running a command as a user does, in a
process of its own (so that a C++ abort would show as exit 134, not kill the test run), the state of
folders before and after, a narrow trained run, and read-only or small folders."""
import contextlib
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest

import train_fixtures
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.paths import ROOT
from caffe_fcn.train.solve import train

QUIET = dict(say=lambda line: None)
ENV = dict(os.environ, PYTHONPATH=ROOT, GLOG_minloglevel='2')
USER_ERROR = 2  # caffe_fcn.cli: a UserError ends a command with one line and this status

# A command run in a child process as typed, except that the variants named in its second argument
# (JSON {variant: folder}) read the nets NetFiles.written left in those folders (narrow twins) instead
# of nets/<variant>; FAULT_PATHS (JSON {name: folder}) moves caffe_fcn.paths' folders (runs/, weights/)
# out of the repository; FAULT_HOOK (JSON) blocks the writer at one point, for a SIGKILL to land there:
#   {"at": "rename", "match": S, "ready": F}  before renaming a temporary file into a path ending in S
#   {"at": "write", "match": S, "ready": F}   after writing half of the temporary file of a path ending
#                                             in S (the half that a kill in the middle of the write leaves)
# It touches the file F, then sleeps until it is killed.
CHILD = """
import importlib, json, os, sys, time
import caffe_fcn.paths
from caffe_fcn import atomic
from caffe_fcn.nets.files import NetFiles
for name, folder in json.loads(os.environ.get('FAULT_PATHS', '{}')).items():
    setattr(caffe_fcn.paths, name, folder)
hook = json.loads(os.environ.get('FAULT_HOOK', 'null'))

def block():
    open(hook['ready'], 'w').close()
    time.sleep(3600)

if hook and hook['at'] == 'rename':
    real_rename = atomic.rename_into_place
    def rename_into_place(temp, path, replace=False):
        if path.endswith(hook['match']):
            block()
        return real_rename(temp, path, replace)
    atomic.rename_into_place = rename_into_place
if hook and hook['at'] == 'write':
    real_write = atomic._write
    def _write(temp, mode, data, path):
        if path.endswith(hook['match']):
            with open(temp, mode) as f:
                f.write(data[:len(data) // 2])
            block()
        return real_write(temp, mode, data, path)
    atomic._write = _write
module, twins = importlib.import_module(sys.argv[1]), json.loads(sys.argv[2])
if not hasattr(module, 'main'):  # a package run by its __main__
    module = importlib.import_module(sys.argv[1] + '.__main__')
module.NetFiles = lambda variant: NetFiles.of_folder(twins[variant.name]) if variant.name in twins else NetFiles(variant)
if hasattr(module, 'get_variant'):  # the chain names its stages
    registered = module.get_variant
    module.get_variant = lambda name: NetFiles.of_folder(twins[name]).variant if name in twins else registered(name)
sys.exit(module.main(sys.argv[3:]))
"""


def child_command(args, twins=None):
    """The argv of the child process that runs a command line (see CHILD)."""
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    assert args[0] == 'python' and args[1] in ('solve.py', '-m'), args
    module, rest = ('caffe_fcn.train.solve', args[2:]) if args[1] == 'solve.py' else (args[2], args[3:])
    return [sys.executable, '-c', CHILD, module, json.dumps(twins or {})] + rest


def run(args, twins=None, timeout=300, paths=None, **kwargs):
    """Run a command line (a list, or a string as a hint prints it) from the repository root: `python
    solve.py ...` or `python -m MODULE ...`, `python` being this interpreter; `twins` maps variant
    names to folders of written nets that stand in for nets/<variant>, `paths` moves runs/ and weights/."""
    env = dict(ENV, FAULT_PATHS=json.dumps(paths or {}))
    return subprocess.run(child_command(args, twins), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def killed_at(args, hook, folder, twins=None, paths=None, timeout=300):
    """Run a command line in a child process until the writer blocks at `hook` (see CHILD), then kill it
    with SIGKILL. Returns the child's exit status (-SIGKILL)."""
    ready = os.path.join(str(folder), 'hook-reached')
    env = dict(ENV, FAULT_HOOK=json.dumps(dict(hook, ready=ready)), FAULT_PATHS=json.dumps(paths or {}))
    child = subprocess.Popen(child_command(args, twins), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while not os.path.exists(ready):
        if child.poll() is not None or time.time() > deadline:
            child.kill()
            raise AssertionError('the writer never reached the hook %s: %s' % (hook, child.stderr.read()[-3000:]))
        time.sleep(0.05)
    os.remove(ready)
    child.send_signal(signal.SIGKILL)
    return child.wait(timeout=60)


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
