"""Ask the CUDA runtime about the GPUs before Caffe does.

Caffe answers a missing driver, a missing device or a GPU its kernels were not compiled for by aborting
the whole process (a failed CHECK, SIGABRT, exit 134). `check_gpu` asks the same CUDA runtime library
(libcudart, which `make setup` installs into the venv beside the CUDA build of Caffe) through ctypes
first, and turns each of these into a one-line DeviceUnavailable that says what to do.
"""
import ctypes
import importlib.util
import os

from caffe_fcn.errors import UserError

CUDART = os.path.join('nvidia', 'cu13', 'lib', 'libcudart.so.13')  # as setup.sh's RUNPATH finds it
ATTR_MAJOR, ATTR_MINOR = 75, 76  # cudaDevAttrComputeCapabilityMajor / Minor
MIN_DRIVER_BRANCH = 580          # CUDA 13's minimum driver, for the message


class DeviceUnavailable(UserError, RuntimeError):
    """The device asked for is not one this Caffe can run on."""


def cudart_path():
    """The venv's libcudart, found beside the installed caffe package without importing it."""
    spec = importlib.util.find_spec('caffe')
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(os.path.dirname(list(spec.submodule_search_locations)[0]), CUDART)


def _version(number):
    return '%d.%d' % (number // 1000, number % 1000 // 10)


class Runtime:
    """The few CUDA runtime calls needed to judge a device (ctypes on libcudart)."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.cudaGetErrorString.restype = ctypes.c_char_p

    def _int(self, function, *args):
        value = ctypes.c_int(0)
        code = getattr(self.lib, function)(ctypes.byref(value), *args)
        return code, value.value

    def error(self, code):
        return self.lib.cudaGetErrorString(code).decode()

    def versions(self):
        """(driver, runtime) as CUDA version numbers (13000 = 13.0); driver 0 when none is installed."""
        return self._int('cudaDriverGetVersion')[1], self._int('cudaRuntimeGetVersion')[1]

    def device_count(self):
        """(cudaError_t, count)."""
        return self._int('cudaGetDeviceCount')

    def attribute(self, attribute, device):
        """cudaDeviceGetAttribute: one integer property of `device` (cudaDevAttr* number)."""
        return self._int('cudaDeviceGetAttribute', attribute, device)[1]

    def capability(self, device):
        """Compute capability of `device` as (major, minor)."""
        return self.attribute(ATTR_MAJOR, device), self.attribute(ATTR_MINOR, device)

    def name(self, device):
        """The device's name: the first field of cudaDeviceProp (the buffer is larger than the struct)."""
        props = ctypes.create_string_buffer(16384)
        self.lib.cudaGetDeviceProperties(props, device)
        return props.value.decode(errors='replace')

    def memory(self):
        """(free, total) bytes of the current device."""
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        self.lib.cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total))
        return free.value, total.value

    def synchronize(self):
        """Wait for every kernel queued on the current device."""
        self.lib.cudaDeviceSynchronize()


def built_architectures(flags):
    """(real architectures, PTX architectures) from the CMake flags of the build, as ints (86, 90)."""
    values = dict(flag[2:].split('=', 1) for flag in flags if flag.startswith('-D') and '=' in flag)
    return ([int(a) for a in values.get('CUDA_ARCH_BIN', '').split()],
            [int(a) for a in values.get('CUDA_ARCH_PTX', '').split()])


def runs_on(capability, real, ptx):
    """True when code built for `real` (binaries) and `ptx` can run on a GPU of `capability` (major, minor):
    a binary for sm_XY runs on X.Z with Z >= Y; PTX for compute_XY is compiled by the driver for any newer GPU."""
    major, minor = capability
    return (any(arch // 10 == major and arch % 10 <= minor for arch in real)
            or any(arch <= major * 10 + minor for arch in ptx))


def check_gpu(gpu, flags, runtime=None):
    """Raise DeviceUnavailable unless Caffe built with `flags` can run on CUDA device `gpu`; returns its
    compute capability. `runtime` defaults to the venv's libcudart."""
    if '-DCPU_ONLY=ON' in flags or not flags:
        raise DeviceUnavailable('GPU %d requested, but this Caffe was built CPU-only: run without --gpu, or build '
                             'the CUDA one with `make setup CUDA=1` (README, "GPUs")' % gpu)
    if runtime is None:
        path = cudart_path()
        if not path or not os.path.exists(path):
            raise DeviceUnavailable('GPU %d requested, but the CUDA runtime library is not in this venv (%s): '
                                 'run `make setup` again' % (gpu, path))
        runtime = Runtime(path)
    driver, needed = runtime.versions()
    if driver == 0:
        raise DeviceUnavailable('GPU %d requested, but no NVIDIA driver is installed on this machine (libcuda.so.1 '
                             'not found): install driver %d or newer, or run without --gpu'
                             % (gpu, MIN_DRIVER_BRANCH))
    if driver // 1000 < needed // 1000:  # CUDA's minor version compatibility: any 13.x driver runs 13.y
        raise DeviceUnavailable('GPU %d requested, but the NVIDIA driver supports CUDA %s and this Caffe is built '
                             'with CUDA %s: update the driver to %d or newer'
                             % (gpu, _version(driver), _version(needed), MIN_DRIVER_BRANCH))
    code, count = runtime.device_count()
    if code != 0:
        raise DeviceUnavailable('GPU %d requested, but the CUDA runtime finds no usable GPU (%s): check nvidia-smi'
                             % (gpu, runtime.error(code)))
    if gpu >= count:
        raise DeviceUnavailable('GPU %d requested, but this machine has %d (use --gpu 0%s)'
                             % (gpu, count, '' if count == 1 else ' ... %d' % (count - 1)))
    capability = runtime.capability(gpu)
    real, ptx = built_architectures(flags)
    if not runs_on(capability, real, ptx):
        fix = ('run make setup CUDA=1 CUDA_ARCHS="%d%d"' % capability if capability >= (7, 5) else
               'CUDA 13 supports compute capability 7.5 and newer only, so run without --gpu')
        raise DeviceUnavailable('GPU %d has compute capability %d.%d, but this Caffe was built for sm_%s (PTX %s): %s'
                             % (gpu, capability[0], capability[1], ', sm_'.join(map(str, real)),
                                ', '.join(map(str, ptx)) or 'none', fix))
    return capability
