"""GPU cost of the paper's nets on the CUDA build of Caffe (make setup CUDA=1, on a machine with a GPU):

  forward     every variant's deploy net at 500x500 (random He weights, random input): the median of
              20 forwards after 2 warm-up ones, as the paper timed FCN-8s (about 175 ms on a K40c),
              each forward followed by a device synchronisation
  training    seconds per iteration of voc-fcn32s and voc-fcn8s with the driver's own solver and round
              loop (as bench/solve.py, one 500x375 fixture image), over 10 iterations after a warm-up
  memory      the GPU memory Caffe holds for each net and solver, from cudaMemGetInfo before and after
              (Caffe keeps every blob it allocated for as long as the net lives: what it holds is its peak)
  efficiency  FCN-8s's FLOPs (bench/flops.py) per forward time, against the GPU's FP32 peak
              (2 FLOPs x FP32 lanes per SM x SMs x boost clock)
  speed-up    the same FCN-8s forward on this machine's CPU (median of 3) over the GPU's

    python -m bench.gpu --gpu ID [--quick]       (--quick: narrow twins at small sizes, a smoke pass)
"""
import os
import statistics
import sys
import tempfile
import time

from bench import common
from caffe_fcn import cli
from bench.fixtures import VOC_IMAGE, fixture_variant
from bench.flops import net_flops
from bench.nets import bench_variant, fill_inputs, randomize, set_input_size, write_net
from caffe_fcn.backend import build_flags, select_device
from caffe_fcn.backend.gpu import Runtime, check_gpu, cudart_path
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import VARIANTS
from caffe_fcn.train.solve import solver_for_run, train_round

PAPER_FCN8S_MS = 175.0   # CVPR 2015, Table 3: FCN-8s inference on a K40c at about 500x500
#: FP32 lanes per SM by compute capability (NVIDIA's CUDA C Programming Guide, arithmetic throughput).
FP32_LANES = {(7, 5): 64, (8, 0): 64, (8, 6): 128, (8, 7): 128, (8, 9): 128, (9, 0): 128, (10, 0): 128,
              (10, 3): 128, (11, 0): 128, (12, 0): 128, (12, 1): 128}
ATTR_CLOCK_KHZ, ATTR_SMS = 13, 16  # cudaDevAttrClockRate, cudaDevAttrMultiProcessorCount
FULL = dict(size=500, forwards=20, warmup=2, train_iterations=10, train_size=VOC_IMAGE, cpu_forwards=3)
QUICK = dict(size=64, forwards=3, warmup=1, train_iterations=2, train_size=(48, 64), cpu_forwards=1)
TRAINED = ('voc-fcn32s', 'voc-fcn8s')
MIB = 2 ** 20


def fp32_peak_tflops(capability, sms, clock_khz):
    """FP32 peak of a GPU: 2 FLOPs (a fused multiply-add) per lane per clock; None for an unknown SM."""
    lanes = FP32_LANES.get(tuple(capability))
    return None if lanes is None else 2 * lanes * sms * clock_khz * 1e3 / 1e12


def timed_median(run, repeats, warmup, sync):
    """Median wall seconds of run() followed by sync(), after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
        sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def deploy_net(caffe, variant, folder, size):
    """The variant's deploy net with random weights and input at size x size."""
    path = os.path.join(tempfile.mkdtemp(dir=folder), variant.name + '.prototxt')
    net = caffe.Net(write_net(variant, 'deploy', path), caffe.TEST)
    set_input_size(net, size, size)
    randomize(net)
    fill_inputs(net)
    return net


class Device:
    """The GPU being measured: synchronisation and memory in use, through the CUDA runtime Caffe uses."""

    def __init__(self, gpu):
        self.gpu = gpu
        self.runtime = Runtime(cudart_path())

    def sync(self):
        self.runtime.synchronize()

    def used_mib(self):
        free, total = self.runtime.memory()
        return (total - free) / MIB

    def describe(self):
        r, gpu = self.runtime, self.gpu
        capability = r.capability(gpu)
        clock, sms = r.attribute(ATTR_CLOCK_KHZ, gpu), r.attribute(ATTR_SMS, gpu)
        driver, runtime = r.versions()
        return {'name': r.name(gpu), 'compute_capability': '%d.%d' % capability, 'sms': sms,
                'boost_clock_mhz': clock / 1e3, 'memory_gib': round(r.memory()[1] / 2 ** 30, 1),
                'fp32_peak_tflops': fp32_peak_tflops(capability, sms, clock),
                'driver_cuda_version': driver, 'runtime_cuda_version': runtime}


def measure_forwards(caffe, device, names, quick, sizes, folder):
    """{variant: (forward ms, MiB held)} on the GPU, and FCN-8s's FLOPs."""
    forward, memory, flops = {}, {}, None
    for name in names:
        before = device.used_mib()
        net = deploy_net(caffe, bench_variant(name, quick), folder, sizes['size'])
        forward[name] = 1e3 * timed_median(lambda: net._forward(0, len(net.layers) - 1),
                                           sizes['forwards'], sizes['warmup'], device.sync)
        memory[name] = device.used_mib() - before
        if name == 'voc-fcn8s':
            flops = net_flops(net)
        del net
    return forward, memory, flops


def measure_training(caffe, device, name, quick, sizes, folder):
    """(ms per training iteration, MiB held by the solver) of variant `name` on the GPU."""
    before = device.used_mib()
    variant = fixture_variant(name, os.path.join(folder, name), train_images=1, val_images=1,
                              size=sizes['train_size'], quick=quick)
    nets = NetFiles.written(variant, os.path.join(folder, name, 'nets'))
    solver, settings = solver_for_run(caffe, nets, variant.name, variant.outputs)
    randomize(solver.net)
    quiet = lambda line: None
    train_round(solver, variant.outputs, solver.iter + 1, settings.display, quiet)  # warm-up: allocates
    start = time.perf_counter()
    train_round(solver, variant.outputs, solver.iter + sizes['train_iterations'], settings.display, quiet)
    device.sync()
    per_iteration = (time.perf_counter() - start) / sizes['train_iterations']
    held = device.used_mib() - before
    del solver
    return 1e3 * per_iteration, held


def cpu_forward_ms(caffe, quick, sizes, folder):
    caffe.set_mode_cpu()
    net = deploy_net(caffe, bench_variant('voc-fcn8s', quick), folder, sizes['size'])
    return 1e3 * timed_median(lambda: net._forward(0, len(net.layers) - 1), sizes['cpu_forwards'], 1, lambda: None)


def measure(gpu, quick, sizes, device_info):
    caffe = select_device(gpu)
    device = Device(gpu)
    with tempfile.TemporaryDirectory(prefix='bench-gpu-') as folder:
        forward, memory, flops = measure_forwards(caffe, device, sorted(VARIANTS), quick, sizes, folder)
        training = {}
        for name in TRAINED:
            training[name], memory[name + ' training'] = measure_training(caffe, device, name, quick, sizes, folder)
        cpu_ms = cpu_forward_ms(caffe, quick, sizes, folder)
    fcn8s = forward['voc-fcn8s']
    achieved = flops / (fcn8s / 1e3) / 1e12
    peak = device_info['fp32_peak_tflops']
    return {'forward_ms': forward, 'training_iteration_ms': training, 'gpu_memory_mib': memory,
            'fcn8s_forward_gflop': flops / 1e9, 'fcn8s_tflops': achieved,
            'fcn8s_percent_of_fp32_peak': 100 * achieved / peak if peak else None,
            'fcn8s_over_paper_k40c': fcn8s / PAPER_FCN8S_MS,
            'fcn8s_cpu_forward_ms': cpu_ms, 'fcn8s_cpu_over_gpu': cpu_ms / fcn8s}


def notes(median):
    return ['FCN-8s forward %.1f ms = %.3g x the paper\'s %g ms on a K40c, %.1f TFLOP/s (%s of FP32 peak), '
            '%.0f x this machine\'s CPU (%.0f ms)'
            % (median['forward_ms']['voc-fcn8s'], median['fcn8s_over_paper_k40c'], PAPER_FCN8S_MS,
               median['fcn8s_tflops'], '%.1f %%' % median['fcn8s_percent_of_fp32_peak']
               if median['fcn8s_percent_of_fp32_peak'] is not None else 'unknown',
               median['fcn8s_cpu_over_gpu'], median['fcn8s_cpu_forward_ms'])]


def main(argv=None):
    parser = common.argument_parser('gpu', __doc__)
    cli.add_gpu(parser)
    parser.epilog = 'example:\n  python -m bench.gpu --gpu 0 --quick'
    parser.set_defaults(runs=1)
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    if args.gpu is None:
        parser.error('--gpu ID is required: this benchmark measures a GPU')
    check_gpu(args.gpu, build_flags())  # a one-line error where Caffe would abort
    sizes = QUICK if args.quick else FULL
    select_device(args.gpu)
    device_info = Device(args.gpu).describe()
    print('device: %s' % ', '.join('%s %s' % item for item in device_info.items()))
    settings = dict(sizes, gpu=args.gpu, device=device_info, weights='random (He normal)', quick=args.quick)
    return common.run_benchmark('gpu', args, argv, settings, lambda run: measure(args.gpu, args.quick, sizes,
                                                                                  device_info), notes=notes)


if __name__ == '__main__':
    common.run_main(main, 'gpu')
