"""The one place that imports Caffe and chooses the device it runs on."""
import os
import tempfile

# DeviceUnavailable lives with the check that raises it; callers may take it from here.
from caffe_fcn.backend.gpu import DeviceUnavailable, check_gpu
from caffe_fcn.errors import UserError


class CaffeNotInstalled(UserError, ImportError):
    """pycaffe cannot be imported."""


def import_caffe():
    """Import pycaffe, turning its absence into a message that says how to get it."""
    # Caffe logs every layer it builds at INFO; keep warnings unless the user asks for more.
    os.environ.setdefault('GLOG_minloglevel', '1')
    try:
        import caffe
    except ImportError as err:
        raise CaffeNotInstalled(
            'BVLC Caffe (pycaffe) is not importable: %s. Run `make setup` in the caffe-fcn '
            'repository and use its environment (.venv/bin/python), or see README.md.' % err) from err
    return caffe


def build_flags():
    """The CMake flags `make setup` built Caffe with (empty if Caffe came from elsewhere)."""
    path = os.path.join(os.path.dirname(import_caffe().__file__), 'BUILD_FLAGS')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def check_device(gpu=None):
    """Raise a one-line UserError unless this Caffe can run on CUDA device `gpu` (None, the CPU, always
    can). Entry points call it first; Caffe itself would abort the process (exit 134) instead."""
    if gpu is None:
        return
    if isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 0:
        raise ValueError('gpu must be a device index >= 0, or None for CPU; got %r' % (gpu,))
    check_gpu(gpu, build_flags())


def select_device(gpu=None):
    """Import Caffe and put it in CPU mode (gpu=None, the default) or on CUDA device `gpu`."""
    caffe = import_caffe()
    check_device(gpu)
    if gpu is None:
        caffe.set_mode_cpu()
        return caffe
    caffe.set_device(gpu)
    caffe.set_mode_gpu()
    return caffe


def net_from_proto(proto):
    """A TEST-phase caffe.Net from a NetParameter (or NetSpec) held in memory (pycaffe only builds
    nets from files, so it goes through a temporary prototxt). Weights: caffe_fcn.backend.weights."""
    from caffe_fcn.backend.net_check import check_net  # it imports this module
    caffe = import_caffe()
    proto = proto.to_proto() if hasattr(proto, 'to_proto') else proto
    check_net(proto, 'the net %r' % proto.name)
    with tempfile.NamedTemporaryFile('w', suffix='.prototxt', delete=False) as f:
        f.write(str(proto))
    try:
        return caffe.Net(f.name, caffe.TEST)
    finally:
        os.remove(f.name)
