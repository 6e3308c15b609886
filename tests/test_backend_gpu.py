"""caffe_fcn.backend.gpu: the device check that runs before Caffe can abort. A stand-in for the CUDA
runtime answers as the CUDA runtime API documents (driver version 0 without a driver, error 35 or 100
from cudaGetDeviceCount); the real libcudart without a driver is checked in test_cuda_build.py."""
import pytest

from caffe_fcn.backend.gpu import DeviceUnavailable, built_architectures, check_gpu, runs_on

CUDA_FLAGS = ['-DCPU_ONLY=OFF', '-DCUDA_ARCH_NAME=Manual', '-DCUDA_ARCH_BIN=75 80 90', '-DCUDA_ARCH_PTX=90']
ERRORS = {0: 'no error', 35: 'CUDA driver version is insufficient for CUDA runtime version',
          100: 'no CUDA-capable device is detected'}


class FakeRuntime:
    def __init__(self, driver=13000, runtime=13000, count=1, code=0, capability=(8, 6)):
        self.driver, self.runtime, self.count, self.code, self.cap = driver, runtime, count, code, capability

    def versions(self):
        return self.driver, self.runtime

    def device_count(self):
        return self.code, self.count

    def error(self, code):
        return ERRORS[code]

    def capability(self, device):
        return self.cap


def test_built_architectures_read_from_the_cmake_flags():
    assert built_architectures(CUDA_FLAGS) == ([75, 80, 90], [90])
    assert built_architectures(['-DCPU_ONLY=ON']) == ([], [])


@pytest.mark.parametrize('capability,expected', [
    ((8, 0), True),    # sm_80 binary
    ((8, 6), True),    # sm_80 binary runs on 8.6 (same major, newer minor)
    ((8, 9), True),
    ((7, 5), True),
    ((9, 0), True),
    ((12, 0), True),   # PTX for compute_90, compiled by the driver
    ((7, 0), False),   # older than every binary and the PTX
])
def test_runs_on_follows_cuda_binary_and_ptx_compatibility(capability, expected):
    assert runs_on(capability, [75, 80, 90], [90]) is expected


def test_binary_for_a_newer_minor_does_not_run_on_an_older_one():
    assert not runs_on((8, 0), [86], [])
    assert not runs_on((10, 0), [90], [])   # no PTX: sm_90 code does not run on 10.0


def test_usable_gpu_passes_and_returns_its_capability():
    assert check_gpu(0, CUDA_FLAGS, FakeRuntime(capability=(8, 6))) == (8, 6)
    assert check_gpu(1, CUDA_FLAGS, FakeRuntime(count=2, capability=(9, 0))) == (9, 0)


def test_newer_minor_of_the_runtime_runs_on_a_13_0_driver():
    assert check_gpu(0, CUDA_FLAGS, FakeRuntime(driver=13000, runtime=13020)) == (8, 6)


@pytest.mark.parametrize('runtime,gpu,message', [
    (FakeRuntime(driver=0, code=35, count=0), 0, 'GPU 0 requested, but no NVIDIA driver is installed'),
    (FakeRuntime(driver=12040, code=35, count=0), 0,
     'the NVIDIA driver supports CUDA 12.4 and this Caffe is built with CUDA 13.0: update the driver to 580'),
    (FakeRuntime(code=100, count=0), 0, 'finds no usable GPU (no CUDA-capable device is detected)'),
    (FakeRuntime(count=1), 1, 'GPU 1 requested, but this machine has 1 (use --gpu 0)'),
    (FakeRuntime(count=2), 3, 'this machine has 2 (use --gpu 0 ... 1)'),
    (FakeRuntime(capability=(7, 0)), 0,
     'GPU 0 has compute capability 7.0, but this Caffe was built for sm_75, sm_80, sm_90 (PTX 90): '
     'CUDA 13 supports compute capability 7.5 and newer only, so run without --gpu'),
])
def test_unusable_gpu_is_one_line_naming_the_fix(runtime, gpu, message):
    with pytest.raises(DeviceUnavailable) as err:
        check_gpu(gpu, CUDA_FLAGS, runtime)
    assert message in str(err.value)
    assert '\n' not in str(err.value)


def test_cpu_only_build_is_refused_before_any_cuda_call():
    with pytest.raises(DeviceUnavailable, match='built CPU-only: run without --gpu, or build the CUDA one'):
        check_gpu(0, ['-DCPU_ONLY=ON'], runtime=object())


def test_gpu_the_build_does_not_cover_names_the_setup_that_does():
    with pytest.raises(DeviceUnavailable, match=r'compute capability 8\.6, but this Caffe was built for sm_90 '
                                             r'\(PTX none\): run make setup CUDA=1 CUDA_ARCHS="86"'):
        check_gpu(0, ['-DCPU_ONLY=OFF', '-DCUDA_ARCH_BIN=90'], FakeRuntime(capability=(8, 6)))
