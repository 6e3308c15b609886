"""ONNX Runtime sessions of exported models, with the settings this project chose and why
(measured by bench/engines.py; figures in the README).

  threads        intra-op threads = the cores this process may use (os.sched_getaffinity); one
                 inter-op thread: an FCN is a chain of layers with no branches worth running side
                 by side (SIFT Flow's two heads are small).
  optimisation   ORT_ENABLE_ALL: besides constant folding and Conv + ReLU fusion (EXTENDED), it
                 rewrites the convolutions into the CPU provider's blocked NCHWc layout, the fastest
                 level measured. That rewrite copies every weight at load time (an FCN-8s session
                 peaks at 1.8 GB while loading, 1.1 GB when run), so the rewritten model of an
                 exported file is saved once per machine in a cache (optimised_copy) and later
                 sessions load that copy without optimising again: 1.1 GB peak, no load time.
  memory arena   on (the default): with our dynamic height and width the arena keeps the buffers of
                 the largest image seen and reuses them.

The cache lives in $CAFFE_FCN_CACHE/onnxruntime (default ~/.cache/caffe-fcn/onnxruntime, as the
Caffe build cache of `make setup`), one entry per exported file (path, size and time), ONNX Runtime
version and CPU (the NCHWc block size follows the CPU's vector width); delete it to reclaim the space.

CUDA: with `gpu` given, the CUDA execution provider on that device (CPU for what it lacks), if this
onnxruntime has it (the onnxruntime-gpu wheel); otherwise an error says so. Not run in this
project's sessions, which had no GPU.
"""
import hashlib
import os
import platform

from caffe_fcn import atomic
from caffe_fcn.errors import UserError

CPU = 'CPUExecutionProvider'
CUDA = 'CUDAExecutionProvider'
CHOSEN_LEVEL = 'ORT_ENABLE_ALL'


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


def session_options(threads=None, arena=True, level=CHOSEN_LEVEL, spinning=True):
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


def session(model, gpu=None, cache=True, **settings):
    """An onnxruntime.InferenceSession of `model` (a .onnx path, its bytes, or an onnx.ModelProto) with
    the session_options `settings`. An exported file run on CPU at the chosen level goes through its
    optimised copy (made by this call the first time: see the module docstring) unless cache=False."""
    ort = import_onnxruntime()
    if hasattr(model, 'SerializeToString'):
        model = model.SerializeToString()
    if cache and isinstance(model, str) and gpu is None and settings.get('level', CHOSEN_LEVEL) == CHOSEN_LEVEL:
        return _optimised_session(ort, model, settings)
    return ort.InferenceSession(model, session_options(**settings), providers=providers(gpu))


def cache_root():
    base = os.environ.get('CAFFE_FCN_CACHE') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'caffe-fcn')
    return os.path.join(base, 'onnxruntime')


def optimised_copy(path):
    """Where the optimised copy of the exported model `path` is kept on this machine (it may not exist yet)."""
    ort = import_onnxruntime()
    key = hashlib.sha256()
    for part in [os.path.realpath(path), ort.__version__, platform.machine(), _cpu_flags()]:
        key.update(str(part).encode() + b'\0')
    for name in (path, path + '.data'):
        if os.path.exists(name):
            stat = os.stat(name)
            key.update(b'%d %d\0' % (stat.st_size, stat.st_mtime_ns))
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.join(cache_root(), '%s-%s' % (stem, key.hexdigest()[:16]), stem + '.onnx')


def _optimised_session(ort, path, settings):
    cached = optimised_copy(path)
    if os.path.exists(cached):
        return ort.InferenceSession(cached, session_options(**dict(settings, level='ORT_DISABLE_ALL')),
                                    providers=[CPU])
    # Optimise now, saving the result in a temporary folder renamed into place when complete.
    os.makedirs(cache_root(), exist_ok=True)
    partial = atomic.temporary_beside(os.path.dirname(cached), folder=True)
    try:
        options = session_options(**settings)
        options.optimized_model_filepath = os.path.join(partial, os.path.basename(cached))
        options.add_session_config_entry('session.optimized_model_external_initializers_file_name',
                                         os.path.basename(cached) + '.data')
        options.add_session_config_entry('session.optimized_model_external_initializers_min_size_in_bytes', '1024')
        sess = ort.InferenceSession(path, options, providers=[CPU])
        try:
            atomic.rename_into_place(partial, os.path.dirname(cached))
        except atomic.WriteError:  # another process saved the same copy first
            pass
    finally:
        atomic.remove(partial)
    return sess


def _cpu_flags():
    try:
        with open('/proc/cpuinfo') as f:
            return next((line for line in f if line.startswith('flags')), '')
    except OSError:
        return platform.processor()


def forward(sess, inputs):
    """{output name: array} of one run of `sess` on {input name: array}."""
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, inputs)))
