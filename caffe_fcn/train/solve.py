"""Training a variant round by round: step Caffe's solver, snapshot and score the test net after
each round, log every round; resume from a solverstate; stop at once when the loss diverges.

    python solve.py nets/voc-fcn32s [--weights FILE...] [--rounds N] [--steps N] [--gpu ID | --gpus ID,ID,...]
                    [--resume SOLVERSTATE] [--out DIR] [--save-predictions]

A run directory (default runs/<variant>/; its layout: caffe_fcn.train.run_folder) holds the metrics log, HDF5
snapshots after every round (resume from a .solverstate.h5), optionally the test predictions of
every round, and, when the last round is done, the final <variant>.caffemodel that the next stage
starts from. Nothing in it is ever replaced: a fresh run needs an empty directory, a resume appends.
"""
import argparse
import math
import os
import sys
import tempfile
import time

from caffe_fcn.train import metrics_log
from caffe_fcn.backend import check_device, select_device
from caffe_fcn.backend.weights import read_weights, save_weights
from caffe_fcn.train.divergence import Diverged, guarded
from caffe_fcn.train.nccl import attach_nccl
from caffe_fcn.train.prerequisites import default_init_weights, missing_data
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.paths import resolve
from caffe_fcn.train.run_folder import default_run_dir, final_model, snapshot_files, snapshot_states
from caffe_fcn.evaluate.score import score, summary
from caffe_fcn.surgery.stages import init_variant
from caffe_fcn.errors import UserError

class SolveError(UserError, RuntimeError):
    pass


class TrainingDiverged(SolveError):
    pass


def check_fresh(run_dir, net_dir):
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        states = snapshot_states(run_dir)
        hint = ('resume it: python solve.py %s --resume %s' % (net_dir, states[-1][1]) if states
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


def solver_for_run(caffe, nets, run_dir, name, outputs):
    """(Caffe solver, its settings): the variant's solver with HDF5 snapshots into the run directory
    (the driver takes them itself) and the divergence guard in its training net."""
    settings = nets.solver()
    settings.snapshot_prefix = os.path.join(run_dir, 'snapshots', name)
    settings.snapshot = 0
    settings.snapshot_format = settings.HDF5  # why: see caffe_fcn.train.run_folder
    with tempfile.TemporaryDirectory() as folder:
        run_settings = type(settings)()
        run_settings.CopyFrom(settings)
        run_settings.train_net = os.path.join(folder, 'train.prototxt')
        with open(run_settings.train_net, 'w') as f:
            f.write(str(guarded(nets.net_param(nets.variant.train_split), outputs)))
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


def schedule(variant, rounds=None, steps=None):
    """(rounds, iterations per round): the variant's unless given."""
    rounds = variant.rounds if rounds is None else rounds
    steps = variant.steps if steps is None else steps
    if rounds < 1 or steps < 1:
        raise SolveError('rounds and steps must be positive, got %d and %d' % (rounds, steps))
    return rounds, steps


def train(variant, nets, out_dir=None, weights=None, rounds=None, steps=None, gpu=None, resume=None,
          save_predictions=False, say=print, nccl_uid=None):
    """Train `variant` (nets from the NetFiles `nets`) for rounds x steps iterations, scoring after
    each round. Returns the path of the final model. Raises SolveError with what to do.
    `nccl_uid`: this process is rank 0 of a multi-GPU run (caffe_fcn.train.multigpu)."""
    rounds, steps = schedule(variant, rounds, steps)
    total = rounds * steps
    run_dir = resolve(out_dir or default_run_dir(variant.name))
    log = os.path.join(run_dir, metrics_log.LOG_NAME)
    predictions = os.path.join(run_dir, 'predictions') if save_predictions else None
    split = variant.data[variant.test_split].params['split']
    problems = ['%s reads %s, which is missing or incomplete: run %s' % (variant.name, folder, how)
                for folder, how in missing_data(variant).items()]
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
        check_fresh(run_dir, os.path.relpath(nets.net_dir))
        init = ([(resolve(w), None) for w in weights] if weights else default_init_weights(variant))
        for path, command in init:
            if not os.path.isfile(path):
                problems.append('%s starts from %s, which does not exist: %s' % (
                    variant.name, path, 'run `%s`' % command if command else 'check --weights'))
    if problems:
        raise SolveError('\n'.join(problems))

    caffe = select_device(gpu)
    os.makedirs(os.path.join(run_dir, 'snapshots'), exist_ok=True)
    solver, settings = solver_for_run(caffe, nets, run_dir, variant.name, variant.outputs)
    context = dict(variant=variant.name, split=split, rounds=rounds, steps=steps, solver=str(settings))
    if resume:
        solver.restore(resume)
        check_resume_point(run_dir, solver.iter, total, predictions)
        metrics_log.append(log, dict(context, event='resume', iteration=solver.iter, solverstate=resume))
        say('%s: resumed from %s at iteration %d' % (variant.name, resume, solver.iter))
        last_state = resume
    else:
        report = init_variant(variant, solver.net, [read_weights(path) for path, _ in init])
        metrics_log.append(log, dict(context, event='start', iteration=0, weights=[p for p, _ in init]))
        say('%s: initialised from %s\n%s' % (variant.name, ', '.join(p for p, _ in init), report))
        last_state = None
    # Rank 0 of a multi-GPU run: the other ranks get these weights now and share gradients from here on.
    # The local name keeps the NCCL object alive while the solver, which holds a raw pointer, steps.
    nccl = attach_nccl(caffe, solver, nccl_uid) if nccl_uid is not None else None
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
        metrics_log.append(log, dict(event='round', variant=variant.name, split=split, round=this_round,
                                iteration=solver.iter, train_loss=train_loss, scores=scores,
                                wall_time=round(time.time() - started, 3), snapshot=os.path.relpath(model, run_dir)))
        say('%s round %d/%d, iteration %d, %.1f s\n%s' % (variant.name, this_round, rounds, solver.iter,
                                                          time.time() - started, summary(scores)))
    return save_weights(solver.net, final_model(run_dir, variant.name))


def diverged(variant, nets, log, iteration, err, last_state):
    """Log the divergence and make the error that says what is kept and what to do."""
    metrics_log.append(log, dict(event='diverged', variant=variant.name, iteration=iteration, output=err.output,
                            loss=err.value, last_snapshot=last_state))
    kept = ('the last good snapshot is %s' % last_state if last_state else 'no snapshot was taken yet')
    return TrainingDiverged(
        '%s diverged: %s at iteration %d. Stopped before its backward pass and without a snapshot of it; '
        '%s. Lower base_lr in %s and resume with --resume, or start again.'
        % (variant.name, err, iteration, kept, nets.solver_path))


def main(argv=None):
    from caffe_fcn.train import multigpu  # it runs this module's train() in each rank's process
    parser = argparse.ArgumentParser(prog='python solve.py', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('net_dir', help='net directory of a variant, e.g. nets/voc-fcn8s')
    parser.add_argument('--weights', nargs='+', metavar='FILE',
                        help="caffemodel(s) to start from instead of the variant's default "
                             '(two for nyud-fcn32s-color-hha: color, then hha)')
    parser.add_argument('--rounds', type=int, help='rounds to train (default: the reference schedule)')
    parser.add_argument('--steps', type=int, help='iterations per round (default: the reference schedule)')
    parser.add_argument('--gpu', type=int, help='CUDA device (default: CPU)')
    parser.add_argument('--gpus', type=multigpu.gpu_list, metavar='ID,ID,...',
                        help='train on several GPUs with NCCL, one solver process each (README, "GPUs")')
    parser.add_argument('--resume', metavar='SOLVERSTATE', help='continue from this snapshot')
    parser.add_argument('--out', metavar='DIR', help='run directory (default: runs/<variant>)')
    parser.add_argument('--save-predictions', action='store_true',
                        help='write the test predictions of every round as palette PNGs')
    args = parser.parse_args(argv)
    if args.gpu is not None and args.gpus:
        parser.error('--gpu and --gpus exclude each other')
    try:
        check_device(args.gpu)
        nets = NetFiles(args.net_dir)
        if args.gpus:
            final = multigpu.train_on_gpus(args.gpus, nets.variant, nets, args.out, args.weights, args.rounds,
                                           args.steps, args.resume, args.save_predictions)
        else:
            final = train(nets.variant, nets, args.out, args.weights, args.rounds, args.steps, args.gpu,
                          args.resume, args.save_predictions)
    except (OSError, ValueError, RuntimeError) as err:
        sys.exit('solve: %s' % err)
    print('done: %s' % final)


if __name__ == '__main__':
    main()
