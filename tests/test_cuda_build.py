"""The CUDA build of Caffe (`make setup CUDA=1`, or `make cuda-test`), on any machine, GPU or not: it imports,
finds its CUDA libraries in its own venv, gives NCCL's whole unique id, refuses --gpu with one line where no
GPU can run it, and in CPU mode computes every variant's narrow twin bit for bit as the CPU-only build does.
Skipped, with the reason, where no CUDA build is installed (see caffe_builds for where it is looked for)."""
import os
import re
import subprocess

import numpy as np
import pytest

from caffe_builds import CUDA_VENV, gpu_count, run_python, site_packages, venv_with
from caffe_fcn.cli import USER_ERROR
from caffe_fcn.nets.registry import VARIANTS
from caffe_fcn.paths import ROOT

CUDA = venv_with('cuda')
CPU = venv_with('cpu')
pytestmark = pytest.mark.skipif(
    CUDA is None, reason='no CUDA build of Caffe installed (make cuda-test builds one into %s)' % CUDA_VENV)
CUDA_LIBS = ('libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcurand.so.10', 'libnccl.so.2')


def python_output(code):
    run = run_python(CUDA, ['-c', code], timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_cuda_build_imports_with_nccl_and_the_gpu_code_paths():
    has_nccl, version, layers = python_output(
        'import caffe; print(caffe.has_nccl(), caffe.__version__, len(caffe.layer_type_list()))')
    assert has_nccl == 'True' and version == '1.0.0'
    assert int(layers) == 59  # as the CPU build: the GPU build adds no layer type without cuDNN


def test_installed_extension_finds_the_cuda_libraries_in_its_own_venv():
    extension = os.path.join(site_packages(CUDA), 'caffe', '_caffe.so')
    dynamic = subprocess.run(['readelf', '-d', extension], capture_output=True, text=True, check=True).stdout
    assert 'Library runpath: [$ORIGIN/../nvidia/cu13/lib:$ORIGIN/../nvidia/nccl/lib]' in dynamic
    needed = set(re.findall(r'\(NEEDED\)\s+Shared library: \[(.+?)\]', dynamic))
    assert {'libcudart.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libnccl.so.2'} <= needed
    assert 'libcuda.so.1' not in needed  # the driver is only needed to run on a GPU, not to import
    resolved = dict(re.findall(r'^\s*(\S+) => (\S+)', subprocess.run(
        ['ldd', extension], capture_output=True, text=True, check=True).stdout, re.M))
    for lib in CUDA_LIBS:
        assert os.path.realpath(resolved[lib]).startswith(os.path.realpath(site_packages(CUDA))), (lib, resolved[lib])


def test_nccl_unique_id_has_all_128_bytes():
    """ncclUniqueId is 128 bytes with NUL bytes inside; unpatched pycaffe cut it at the first (BVLC #6600)."""
    length, has_nul, differs = python_output(
        'import caffe; a = caffe.NCCL.new_uid(); b = caffe.NCCL.new_uid()\n'
        'print(len(a), b"\\0" in a, a != b)')
    assert (int(length), has_nul, differs) == (128, 'True', 'True')


@pytest.mark.parametrize('command', [
    ['-m', 'caffe_fcn.train.solve', 'voc-fcn32s', '--gpu', '0'],
    ['-m', 'caffe_fcn.train.solve', 'voc-fcn32s', '--gpus', '0,1'],
    ['-m', 'caffe_fcn.train.chain', 'voc-fcn8s', '--gpu', '0'],
    ['-m', 'caffe_fcn.evaluate.score', 'voc-fcn8s', '--weights', 'none.caffemodel', '--gpu', '0'],
    ['-m', 'caffe_fcn.evaluate.infer', 'voc-fcn8s', 'none.jpg', '--weights', 'none.caffemodel', '--out', 'none',
     '--gpu', '0'],
    ['-m', 'caffe_fcn.demo', 'run', '--fast', '--out', 'none', '--gpu', '0'],
], ids=['solve', 'solve-gpus', 'chain', 'score', 'infer', 'demo'])
def test_gpu_flag_without_a_usable_gpu_is_one_line_not_an_abort(command):
    if gpu_count(CUDA):
        pytest.skip('this machine has a GPU the CUDA build can use')
    run = run_python(CUDA, command, timeout=300)
    assert run.returncode == USER_ERROR, (run.returncode, run.stderr)  # Caffe's own check would abort: 134
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert re.search(r'GPU 0 requested, but (no NVIDIA driver is installed|the NVIDIA driver supports CUDA|'
                     r'the CUDA runtime finds no usable GPU)', lines[0])


@pytest.mark.skipif(CPU is None, reason='no CPU-only build of Caffe installed to compare with (make setup CUDA=0)')
def test_cuda_build_in_cpu_mode_equals_the_cpu_build_bit_for_bit(tmp_path):
    """Every variant's narrow twin: forward, backward and 3 SGD steps (tests/twin_arrays.py), run by each build."""
    fixtures = tmp_path / 'fixtures'
    fixtures.mkdir()
    assert run_python(CPU, ['-c', 'import sys; sys.path.insert(0, "tests"); import twin_arrays; '
                                  'twin_arrays.write_fixtures(%r)' % str(fixtures)]).returncode == 0
    arrays = {}
    for name, venv in (('cpu', CPU), ('cuda', CUDA)):
        out = str(tmp_path / (name + '.npz'))
        run = run_python(venv, [os.path.join(ROOT, 'tests', 'twin_arrays.py'), str(fixtures), out])
        assert run.returncode == 0, run.stderr[-3000:]
        arrays[name] = np.load(out)
    cpu, cuda = arrays['cpu'], arrays['cuda']
    assert sorted(cpu.files) == sorted(cuda.files) and len(cpu.files) > 2000
    differ = [key for key in cpu.files if not np.array_equal(cpu[key], cuda[key])]
    assert not differ, '%d of %d arrays differ, e.g. %s' % (len(differ), len(cpu.files), differ[:5])
    # The comparison means something: SGD moved the learnable weights of every variant.
    moved = {key.split('/')[0] for key in cpu.files
             if '/sgd3/' in key and not np.array_equal(cpu[key], cpu[key.replace('/sgd3/', '/param/')])}
    assert moved == set(VARIANTS)
