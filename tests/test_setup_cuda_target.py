"""setup/cuda_target.py: which Caffe `make setup` builds for CUDA=auto|0|1 and CUDA_ARCHS, given what
nvidia-smi reports (its CSV rows written here as a driver 580 machine prints them)."""
import importlib.util
import os
import subprocess
import sys

import pytest

from caffe_fcn import paths

spec = importlib.util.spec_from_file_location('cuda_target', os.path.join(paths.ROOT, 'setup', 'cuda_target.py'))
cuda_target = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cuda_target)
decide, TargetError = cuda_target.decide, cuda_target.TargetError

H200 = ('NVIDIA H200', 90, 580)
A10 = ('NVIDIA A10', 86, 580)
V100 = ('Tesla V100-SXM2-16GB', 70, 580)
OLD_DRIVER_L4 = ('NVIDIA L4', 89, 550)


def test_nvidia_smi_rows_are_parsed_with_commas_in_names():
    text = 'NVIDIA H200, 9.0, 580.65.06\nNVIDIA GeForce RTX 4090, Founders, 8.9, 580.82.07\n'
    assert cuda_target.parse_nvidia_smi(text) == [H200, ('NVIDIA GeForce RTX 4090, Founders', 89, 580)]


def test_archs_accept_dotted_and_plain_capabilities_sorted_and_unique():
    assert cuda_target.parse_archs('90 7.5 86,8.6') == [75, 86, 90]


@pytest.mark.parametrize('text,message', [('sm_90', "'sm_90' is not a compute capability"),
                                          ('70', 'sm_70 is older than CUDA 13 supports')])
def test_bad_archs_are_refused_with_the_fix(text, message):
    with pytest.raises(TargetError, match=message):
        cuda_target.parse_archs(text)


def test_cuda_0_is_the_cpu_build_even_with_a_gpu():
    assert decide('0', '', [H200])[0] is None


def test_auto_builds_cuda_for_the_gpus_present():
    assert decide('auto', '', [H200, A10, H200])[0] == [86, 90]
    assert decide('', '', [A10])[0] == [86]


def test_auto_without_a_gpu_is_the_cpu_build_saying_why():
    archs, reason = decide('auto', '', [])
    assert archs is None and 'no GPU' in reason


@pytest.mark.parametrize('gpus', [[V100], [OLD_DRIVER_L4]])
def test_auto_with_a_gpu_cuda_13_cannot_use_is_the_cpu_build(gpus):
    archs, reason = decide('auto', '', gpus)
    assert archs is None and 'compute capability 7.5 or newer and driver 580 or newer' in reason


def test_auto_keeps_only_the_usable_gpus():
    assert decide('auto', '', [V100, A10])[0] == [86]


def test_cuda_1_builds_the_named_archs_anywhere():
    assert decide('1', '75 80 86 89 90', [])[0] == [75, 80, 86, 89, 90]
    assert decide('1', '90', [A10])[0] == [90]


def test_cuda_1_without_archs_uses_the_gpus_or_asks_for_archs():
    assert decide('1', '', [A10])[0] == [86]
    with pytest.raises(TargetError, match='no GPU .*CUDA_ARCHS="75 80 86 89 90"'):
        decide('1', '', [])
    with pytest.raises(TargetError, match='sm_70 is older'):
        decide('1', '', [V100])


def test_unknown_cuda_value_is_refused():
    with pytest.raises(TargetError, match='CUDA=yes: use CUDA=1'):
        decide('yes', '', [])


def test_script_prints_the_target_on_stdout_and_the_reason_on_stderr():
    run = subprocess.run([sys.executable, os.path.join(paths.ROOT, 'setup', 'cuda_target.py'), '1', '86 90'],
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, 'cuda 86 90\n', 'CUDA=1: CUDA build for sm_86, sm_90\n')
    run = subprocess.run([sys.executable, os.path.join(paths.ROOT, 'setup', 'cuda_target.py'), '1', '6.1'],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == '' and run.stderr.startswith('setup: CUDA_ARCHS: sm_61')
