"""ONNX Runtime sessions of exported models, with the settings this project chose and why.

Settings (measured by bench/onnx_engine.py, figures in the README):
  threads        intra-op threads = the cores this process may use (os.sched_getaffinity); one
                 inter-op thread, since an FCN is a chain of layers with no parallel branches
                 worth running side by side (SIFT Flow's two heads are small).
  optimisation   ORT_ENABLE_ALL: constant folding, Conv + ReLU fusion and the NCHWc layout
                 transform of the CPU provider; exactness is what the parity tests check.
  memory arena   on (the default): with the dynamic height and width of our models the arena keeps
                 the buffers of the largest image seen and reuses them; memory patterns (planned for
                 fixed shapes only) are left to ORT.

CUDA: with `gpu` given, the CUDA execution provider on that device (CPU for what it lacks), if this
onnxruntime has it (the onnxruntime-gpu wheel); otherwise an error says so. Not run in this
project's sessions, which have no GPU.
"""
import os

from caffe_fcn.errors import UserError

CPU = 'CPUExecutionProvider'
CUDA = 'CUDAExecutionProvider'


class RuntimeUnavailable(UserError, RuntimeError):
    pass


def import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as err:
        raise RuntimeUnavailable('onnxruntime is not importable (%s): run `make setup` (setup/requirements.txt '
                                 'pins it) or pip install the version pinned there' % err) from err
    return onnxruntime


def providers(gpu=None):
    """The execution providers for CPU (gpu=None) or CUDA device `gpu`."""
    if gpu is None:
        return [CPU]
    ort = import_onnxruntime()
    if CUDA not in ort.get_available_providers():
        raise RuntimeUnavailable('GPU %d requested, but this onnxruntime (%s) has no CUDA provider (it has %s): '
                                 'install onnxruntime-gpu of the same version, or run without --gpu'
                                 % (gpu, ort.__version__, ', '.join(ort.get_available_providers())))
    return [(CUDA, {'device_id': gpu}), CPU]


def session_options(threads=None, arena=True, level='ORT_ENABLE_ALL', spinning=True):
    """The project's settings (see the module docstring); the arguments exist for bench/engines.py's sweep."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    options.enable_cpu_mem_arena = arena
    options.log_severity_level = 3  # errors only
    if not spinning:  # idle intra-op threads sleep instead of spin-waiting for work
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    return options


def session(model, gpu=None, **settings):
    """An onnxruntime.InferenceSession of `model` (a .onnx path, its bytes, or an onnx.ModelProto) with
    the session_options `settings`."""
    ort = import_onnxruntime()
    if hasattr(model, 'SerializeToString'):
        model = model.SerializeToString()
    return ort.InferenceSession(model, session_options(**settings), providers=providers(gpu))


def forward(sess, inputs):
    """{output name: array} of one run of `sess` on {input name: array}."""
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, inputs)))
