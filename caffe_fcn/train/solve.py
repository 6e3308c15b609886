"""Training a variant round by round: step Caffe's solver, snapshot and score the test net after
each round, log every round; resume from a solverstate; stop at once when the loss diverges.

    python solve.py VARIANT [--weights FILE...] [--rounds N] [--steps N] [--gpu ID]
                    [--resume SOLVERSTATE] [--out DIR] [--save-predictions]
                    [--loss-sampling P] [--recipe heavy|paper] [--table 1|2]

VARIANT is a registry name (voc-fcn32s) or its folder (nets/voc-fcn32s); its checked-in nets and
solver (solvers/<variant>.prototxt) are read. A training profile other than the registry's own
(--recipe, --table: caffe_fcn.train.recipes) generates its nets and solver into the run folder's
nets/ instead; --loss-sampling P samples the loss as the paper's Figure 5 (caffe_fcn.train.sampling).

A run folder (default runs/<variant>/, runs/<profile>/<variant>/ for another profile, or --out)
holds what the run writes:

  metrics.jsonl            the metrics log (caffe_fcn.train.metrics_log)
  snapshots/               <variant>_iter_<N>.caffemodel.h5 and .solverstate.h5 after every round
  predictions/iter_<N>/    with --save-predictions: the test split's predictions as palette PNGs
  <variant>.caffemodel     the final weights (binary), when the last round is done: what the next
                           stage starts from

Nothing in it is ever replaced: a fresh run needs an empty folder, a resume appends.

Snapshots are in Caffe's HDF5 format. A VGG16 FCN's caffemodel is about 540 MB, and so is its
solverstate (the momentum history), while Caffe's binary protobuf reader is capped: 2 GB in BVLC
Caffe, but 512 MB in some Caffe builds users bring, where a binary snapshot could never be restored.
HDF5 files have no cap in any build.
"""
import math
import os
import re
import sys
import tempfile
import time

from caffe_fcn import cli
from caffe_fcn.train import metrics_log
from caffe_fcn.backend import select_device
from caffe_fcn.backend.weights import read_weights, save_weights
from caffe_fcn.train.divergence import Diverged, guarded
from caffe_fcn.train.recipes import with_profile
from caffe_fcn.train.sampling import check_probability, sampled
from caffe_fcn.nets.build import coarse_map
from caffe_fcn.train.prerequisites import missing, start_weights
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.paths import default_run_dir, final_model, resolve
from caffe_fcn.evaluate.score import score, summary
from caffe_fcn.surgery.stages import init_variant
from caffe_fcn.errors import UserError

STATE = re.compile(r'_iter_(\d+)\.solverstate(\.h5)?$')


class SolveError(UserError, RuntimeError):
    """A run that cannot start, resume or go on (missing inputs, a taken run folder, divergence)."""


def snapshot_files(prefix, iteration):
    """(caffemodel, solverstate) that Caffe writes for an HDF5 snapshot at `iteration`."""
    stem = '%s_iter_%d' % (prefix, iteration)
    return stem + '.caffemodel.h5', stem + '.solverstate.h5'


def snapshot_states(run_dir):
    """[(iteration, solverstate path)] of a run's snapshots, by iteration."""
    folder = os.path.join(run_dir, 'snapshots')
    found = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = STATE.search(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)


def check_fresh(run_dir, name):
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        states = snapshot_states(run_dir)
        hint = ('resume it: python solve.py %s --resume %s' % (name, states[-1][1]) if states
                else 'move it away')
        raise SolveError('%s already holds a run (%s); a fresh run needs an empty directory: %s, '
                         'or pass --out DIR' % (run_dir, ', '.join(sorted(os.listdir(run_dir))), hint))


def check_resume_point(run_dir, iteration, total, predictions):
    """Refuse a resume that would overwrite snapshots or predictions, or has nothing to do."""
    if iteration >= total:
        raise SolveError('the solverstate is at iteration %d, already the end of the schedule (%d); '
                         'pass a larger --rounds to train on' % (iteration, total))
    later = [path for it, path in snapshot_states(run_dir) if it > iteration]
    if later:
        raise SolveError('resuming at iteration %d would overwrite the later snapshots %s; resume from the '
                         'latest one or move them away' % (iteration, ', '.join(later)))
    if predictions and os.path.isdir(predictions):
        taken = [d for d in os.listdir(predictions) if d.startswith('iter_') and d[5:].isdigit()
                 and int(d[5:]) > iteration and os.listdir(os.path.join(predictions, d))]
        if taken:
            raise SolveError('%s already holds predictions for %s; move them away first'
                             % (predictions, ', '.join(sorted(taken))))


def solver_for_run(caffe, nets, run_dir, name, outputs, loss_sampling=1):
    """(Caffe solver, its settings): the variant's solver with HDF5 snapshots into the run directory
    (the driver takes them itself) and the divergence guard in its training net; with
    `loss_sampling` p < 1, the loss sampled at keep probability p and iter_size raised by 1/p."""
    settings = nets.solver()
    settings.snapshot_prefix = os.path.join(run_dir, 'snapshots', name)
    settings.snapshot = 0
    settings.snapshot_format = settings.HDF5  # why: see the module's docstring
    train_net = nets.net_param(nets.variant.train_split)
    if loss_sampling != 1:
        settings.iter_size = check_probability(loss_sampling, settings.iter_size)
        train_net = sampled(train_net, outputs, loss_sampling, coarse_map(nets.variant))
    with tempfile.TemporaryDirectory() as folder:
        run_settings = type(settings)()
        run_settings.CopyFrom(settings)
        run_settings.train_net = os.path.join(folder, 'train.prototxt')
        with open(run_settings.train_net, 'w') as f:
            f.write(str(guarded(train_net, outputs)))
        with open(os.path.join(folder, 'solver.prototxt'), 'w') as f:
            f.write(str(run_settings))
        return caffe.get_solver(f.name), settings


def train_round(solver, outputs, until, display, say):
    """Step to iteration `until`; {output name: mean training loss over the round}."""
    sums = {o.name: 0.0 for o in outputs}
    steps = 0
    while solver.iter < until:
        solver.step(1)  # raises Diverged (the guard in the training net) on a NaN or infinite loss
        steps += 1
        for o in outputs:
            sums[o.name] += float(solver.net.blobs[o.loss].data)
        if display and solver.iter % display == 0:
            say('iteration %d  train loss %s' % (solver.iter, '  '.join(
                '%s %.6g' % (name, total / steps) for name, total in sums.items())))
    return {name: total / steps for name, total in sums.items()}


def take_snapshot(solver, prefix):
    """Snapshot the solver; (caffemodel, solverstate) written."""
    files = snapshot_files(prefix, solver.iter)
    for path in files:
        if os.path.exists(path):
            raise SolveError('%s already exists; not overwriting a snapshot' % path)
    solver.snapshot()
    return files


def train(variant, nets, out_dir=None, weights=None, rounds=None, steps=None, gpu=None, resume=None,
          save_predictions=False, say=print, loss_sampling=1, recipe='heavy', table=None):
    """Train `variant` (nets from the NetFiles `nets`) for rounds x steps iterations, scoring after
    each round. Returns the path of the final model. Raises SolveError with what to do.
    `loss_sampling` is the paper's keep probability p of each final-layer cell (1: no sampling);
    `recipe` and `table` choose a training profile (caffe_fcn.train.recipes), whose nets are then
    generated into the run directory's nets/."""
    variant = with_profile(variant, recipe, table)
    rounds = variant.rounds if rounds is None else rounds
    steps = variant.steps if steps is None else steps
    if rounds < 1 or steps < 1:
        raise SolveError('rounds and steps must be positive, got %d and %d' % (rounds, steps))
    check_probability(loss_sampling, variant.solver.get('iter_size', 1))
    total = rounds * steps
    run_dir = resolve(out_dir or default_run_dir(variant.name, variant.profile))
    log = os.path.join(run_dir, metrics_log.LOG_NAME)
    predictions = os.path.join(run_dir, 'predictions') if save_predictions else None
    split = variant.data[variant.test_split].params['split']
    if resume:
        resume = resolve(resume)
        if weights:
            raise SolveError('--weights starts a fresh run; a resumed run takes its weights from the solverstate')
        if not os.path.isfile(resume):
            raise SolveError('solverstate %s does not exist (snapshots of this run: %s)' % (
                resume, ', '.join(p for _, p in snapshot_states(run_dir)) or 'none'))
        if os.path.exists(final_model(run_dir, variant.name)):
            raise SolveError('%s holds the finished run\'s model; move it away to train this run further'
                             % final_model(run_dir, variant.name))
    else:
        check_fresh(run_dir, variant.name)
    problems = missing([variant], weights, start=not resume)
    if problems:
        raise SolveError('%s cannot start:\n%s' % (variant.name, '\n'.join(problems)))

    caffe = select_device(gpu)
    os.makedirs(os.path.join(run_dir, 'snapshots'), exist_ok=True)
    if variant.profile != nets.variant.profile:
        nets = NetFiles.written(variant, os.path.join(run_dir, 'nets'))
    solver, settings = solver_for_run(caffe, nets, run_dir, variant.name, variant.outputs, loss_sampling)
    context = dict(variant=variant.name, split=split, rounds=rounds, steps=steps, solver=str(settings),
                   loss_sampling=loss_sampling, profile=variant.profile, recipe=recipe,
                   train_split=variant.data[variant.train_split].params['split'])
    if resume:
        solver.restore(resume)
        check_resume_point(run_dir, solver.iter, total, predictions)
        metrics_log.append(log, dict(context, event='resume', iteration=solver.iter, solverstate=resume))
        say('%s: resumed from %s at iteration %d' % (variant.name, resume, solver.iter))
        last_state = resume
    else:
        starts = [path for path, _ in start_weights(variant, weights)]
        report = init_variant(variant, solver.net, [read_weights(path) for path in starts])
        metrics_log.append(log, dict(context, event='start', iteration=0, weights=starts))
        say('%s: initialised from %s\n%s' % (variant.name, ', '.join(starts), report))
        last_state = None
    test_net = solver.test_nets[0]
    test_net.share_with(solver.net)

    while solver.iter < total:
        started = time.time()
        until = min(total, (solver.iter // steps + 1) * steps)
        try:
            train_loss = train_round(solver, variant.outputs, until, settings.display, say)
        except Diverged as err:
            raise diverged(variant, nets, log, solver.iter + 1, err, last_state) from None
        model, last_state = take_snapshot(solver, settings.snapshot_prefix)
        save_dir = os.path.join(predictions, 'iter_%d' % solver.iter) if predictions else None
        scores = score(test_net, variant.outputs, save_dir)
        this_round = math.ceil(solver.iter / steps)
        metrics_log.append(log, dict(event='round', variant=variant.name, split=split, profile=variant.profile,
                                     round=this_round, iteration=solver.iter, train_loss=train_loss, scores=scores,
                                     wall_time=round(time.time() - started, 3),
                                     snapshot=os.path.relpath(model, run_dir)))
        say('%s round %d/%d, iteration %d, %.1f s\n%s' % (variant.name, this_round, rounds, solver.iter,
                                                          time.time() - started, summary(scores)))
    return save_weights(solver.net, final_model(run_dir, variant.name))


def diverged(variant, nets, log, iteration, err, last_state):
    """Log the divergence and make the error that says what is kept and what to do."""
    metrics_log.append(log, dict(event='diverged', variant=variant.name, iteration=iteration, output=err.output,
                            loss=err.value, last_snapshot=last_state))
    kept = ('the last good snapshot is %s' % last_state if last_state else 'no snapshot was taken yet')
    return SolveError(
        '%s diverged: %s at iteration %d. Stopped before its backward pass and without a snapshot of it; '
        '%s. Lower base_lr in %s and resume with --resume, or start again.'
        % (variant.name, err, iteration, kept, nets.solver_path))


def main(argv=None):
    parser = cli.parser('python solve.py', __doc__, 'python solve.py nets/voc-fcn32s --rounds 2 --steps 20 --out runs/try')
    cli.add_variant(parser)
    cli.add_weights(parser, many=True, help="caffemodel(s) to start from instead of the variant's default "
                                            '(two for nyud-fcn32s-color-hha: color, then hha)')
    cli.add_schedule(parser)
    cli.add_gpu(parser)
    parser.add_argument('--resume', metavar='SOLVERSTATE', help='continue from this snapshot')
    cli.add_out(parser, 'the run folder (default: runs/<variant>, runs/<profile>/<variant> for --recipe/--table)')
    cli.add_save_predictions(parser)
    cli.add_training_profile(parser)
    return cli.run(parser, _solve, argv)


def _solve(args):
    nets = NetFiles(args.variant)
    final = train(nets.variant, nets, args.out, args.weights, args.rounds, args.steps, args.gpu,
                  args.resume, args.save_predictions, loss_sampling=args.loss_sampling,
                  recipe=args.recipe, table=args.table)
    print('done: %s' % final)


if __name__ == '__main__':
    sys.exit(main())
