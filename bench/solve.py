"""Training cost: seconds per iteration of the VOC FCN-32s train net on one 500x375 fixture image
(SBD format, read by the real SBD data layer), split into

  data layer   the Python data layer's reshape + forward (reading, decoding, mean subtraction)
  hooks        what caffe_fcn.train.solve adds per iteration: its divergence guard layer inside the
               step, and its round loop (loss bookkeeping, display) around `solver.step(1)`
  solver step  the rest of `solver.step(1)`: Caffe's forward, backward and update

measured with the driver's own solver (`caffe_fcn.train.solve.solver_for_run`, the guarded train net)
and round loop (`caffe_fcn.train.solve.train_round`), random weights, after one untimed warm-up
iteration. Snapshots and the test-net score happen once per round (4000 iterations on VOC) and
are not part of an iteration; the score benchmark measures scoring.
"""
import os
import sys
import tempfile
import time

from bench import common
from bench.fixtures import VOC_IMAGE, fixture_variant
from bench.nets import randomize
from caffe_fcn.backend import select_device
from caffe_fcn.data.base import SegDataLayer
from caffe_fcn.train.divergence import DivergenceGuard
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.train.solve import solver_for_run, train_round

VARIANT = 'voc-fcn32s'
TARGET_PERCENT = 5.0
FULL = dict(iterations=3, size=VOC_IMAGE)
QUICK = dict(iterations=3, size=(75, 100))


class LayerClock:
    """Adds up the time spent in the given methods of one Python layer instance. Caffe looks each
    method up on the instance at every call, so instance attributes take its calls."""

    def __init__(self, layer, methods):
        self.seconds = 0.0
        self.calls = dict.fromkeys(methods, 0)
        for name in methods:
            setattr(layer, name, self.timed(name, getattr(layer, name)))

    def timed(self, name, method):
        def call(*args):
            self.calls[name] += 1
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                self.seconds += time.perf_counter() - start
        return call


class StepClock:
    """The solver as `train_round` sees it (iter, net, step), timing every step."""

    def __init__(self, solver):
        self.solver = solver
        self.seconds = 0.0

    @property
    def iter(self):
        return self.solver.iter

    @property
    def net(self):
        return self.solver.net

    def step(self, iterations):
        start = time.perf_counter()
        try:
            self.solver.step(iterations)
        finally:
            self.seconds += time.perf_counter() - start


def only_layer(net, kind):
    found = [layer for layer in net.layers if isinstance(layer, kind)]
    if len(found) != 1:
        raise common.BenchError('the training net has %d %s layers, expected one' % (len(found), kind.__name__))
    return found[0]


def measure(quick, iterations, size):
    caffe = select_device()
    with tempfile.TemporaryDirectory(prefix='bench-solve-') as folder:
        variant = fixture_variant(VARIANT, folder, train_images=1, val_images=1, size=size, quick=quick)
        nets = NetFiles.written(variant, os.path.join(folder, 'nets'))
        solver, settings = solver_for_run(caffe, nets, variant.name, variant.outputs)
        randomize(solver.net)
        quiet = lambda line: None
        train_round(solver, variant.outputs, solver.iter + 1, settings.display, quiet)  # warm-up: allocates
        data = LayerClock(only_layer(solver.net, SegDataLayer), ('reshape', 'forward'))
        guard = LayerClock(only_layer(solver.net, DivergenceGuard), ('reshape', 'forward', 'backward'))
        clock = StepClock(solver)
        start = time.perf_counter()
        train_round(clock, variant.outputs, solver.iter + iterations, settings.display, quiet)
        total = time.perf_counter() - start
    if data.calls['forward'] != iterations or guard.calls['forward'] != iterations:
        raise common.BenchError('the layer clocks saw %d data and %d guard forwards in %d iterations; '
                                'the split cannot be trusted' % (data.calls['forward'], guard.calls['forward'],
                                                                 iterations))
    hooks = guard.seconds + (total - clock.seconds)
    per = lambda seconds: seconds / iterations
    return {'iterations': iterations, 'iteration_s': per(total), 'data_layer_s': per(data.seconds),
            'hooks_s': per(hooks), 'solver_step_s': per(clock.seconds - data.seconds - guard.seconds),
            'data_layer_percent': 100 * data.seconds / total, 'hooks_percent': 100 * hooks / total,
            'data_and_hooks_percent': 100 * (data.seconds + hooks) / total}


def targets(median):
    return [common.Target('data layer + hooks share of an iteration', median['data_and_hooks_percent'],
                          TARGET_PERCENT, ' %')]


def notes(median):
    return ['data layer share of an iteration: %.2f %% (%.4g s of %.4g s)'
            % (median['data_layer_percent'], median['data_layer_s'], median['iteration_s'])]


def rows(median):
    """(figure, median, target) rows for the README table."""
    return [('FCN-32s training iteration', '%.3g s' % median['iteration_s'], ''),
            ('data layer share of an iteration', '%.2f %%' % median['data_layer_percent'], ''),
            ('hooks share of an iteration', '%.2f %%' % median['hooks_percent'], ''),
            ('data layer + hooks share', '%.2f %%' % median['data_and_hooks_percent'], '<= %g %%' % TARGET_PERCENT)]


def main(argv=None):
    parser = common.argument_parser('solve', __doc__)
    parser.add_argument('--iterations', type=common.positive_int,
                        help='timed iterations per run (default %d)' % FULL['iterations'])
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.iterations:
        sizes['iterations'] = args.iterations
    settings = dict(sizes, variant=VARIANT, weights='random (He normal)', quick=args.quick)
    return common.run_benchmark('solve', args, argv, settings,
                                lambda run: measure(args.quick, sizes['iterations'], sizes['size']),
                                targets=targets, notes=notes)


if __name__ == '__main__':
    common.run_main(main, 'solve')
