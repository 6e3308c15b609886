"""The Caffe builds on this machine, for the tests that compare or exercise them (test_cuda_build.py,
test_gpu.py): which venv holds the CPU-only build and which the CUDA build, read from the
caffe/BUILD_FLAGS that `make setup` writes beside each installed package, and how to run a script
under a venv's Python.

The CUDA build is looked for in the venv running the tests (where `make setup` found a GPU), in
$CAFFE_FCN_CUDA_VENV, then in .venv-cuda (where `make cuda-test` builds it); the CPU build in the
running venv, then in .venv.
"""
import glob
import os
import subprocess
import sys

from caffe_fcn.paths import ROOT

CUDA_VENV = os.environ.get('CAFFE_FCN_CUDA_VENV') or os.path.join(ROOT, '.venv-cuda')


def build_of(venv):
    """'cuda', 'cpu', or None when `venv` holds no Caffe installed by make setup."""
    flags = glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages', 'caffe', 'BUILD_FLAGS'))
    if not flags:
        return None
    with open(flags[0]) as f:
        lines = f.read().split()
    return 'cuda' if '-DCPU_ONLY=OFF' in lines else 'cpu'


def venv_with(build):
    """The first venv holding a `build` ('cpu' or 'cuda') Caffe, or None."""
    for venv in (sys.prefix, CUDA_VENV, os.path.join(ROOT, '.venv')):
        if build_of(venv) == build:
            return venv
    return None


def site_packages(venv):
    return glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages'))[0]


def run_python(venv, args, timeout=1200, **kwargs):
    """Run `venv`'s Python on `args` from the repository root, the repository first on its path,
    OpenBLAS on one thread (deterministic and polite on a shared machine); returns CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS='1', GLOG_minloglevel='2')
    return subprocess.run([os.path.join(venv, 'bin', 'python')] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def gpu_count(venv):
    """CUDA devices the CUDA runtime of `venv` sees (0 without a driver or a device)."""
    code = ('from caffe_fcn.backend.gpu import Runtime, cudart_path\n'
            'r = Runtime(cudart_path()); driver, _ = r.versions(); err, n = r.device_count()\n'
            'print(n if driver and err == 0 else 0)')
    run = run_python(venv, ['-c', code], timeout=120)
    return int(run.stdout.strip()) if run.returncode == 0 else 0
