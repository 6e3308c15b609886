"""Training a variant round by round: step Caffe's solver, score the test net and snapshot after
each round, log every round; resume from a solverstate; stop at once when training diverges.

    python solve.py VARIANT [--weights FILE...] [--rounds N] [--steps N] [--gpu ID | --gpus ID,ID,...]
                    [--resume SOLVERSTATE|RUN] [--out DIR] [--save-predictions] [--keep N]
                    [--loss-sampling P] [--recipe heavy|paper] [--table 1|2]

VARIANT is a registry name (voc-fcn32s), its folder (nets/voc-fcn32s), or a folder of nets a run
wrote (caffe_fcn.nets.files); its nets and solver are read. A training profile other than the
registry's own (--recipe, --table: caffe_fcn.train.recipes) generates its nets and solver into the
run folder's nets/ instead; --loss-sampling P samples the loss as the paper's Figure 5
(caffe_fcn.train.sampling).

A run folder (default runs/<variant>/, runs/<profile>/<variant>/ for another profile, or --out)
holds what the run writes:

  metrics.jsonl            the metrics log (caffe_fcn.train.metrics_log)
  snapshots/               <variant>_iter_<N>.caffemodel.h5 and .solverstate.h5 after every good
                           round (caffe_fcn.train.snapshots writes them whole or not at all)
  predictions/iter_<N>/    with --save-predictions: the test split's predictions as palette PNGs
  <variant>.caffemodel     the final weights (binary), when the last round is done: what the next
                           stage starts from

Nothing in it is ever replaced: a fresh run needs an empty folder (or one whose run failed before its
first round), a resume appends and takes the schedule from the run's log. Every round is checked for
divergence before its snapshot is taken; every file is written under a temporary name and renamed
(caffe_fcn.atomic).
"""
import math
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

from caffe_fcn import atomic, cli
from caffe_fcn.train import metrics_log, snapshots
from caffe_fcn.backend import select_device
from caffe_fcn.backend.weights import parameter_bytes, read_weights, save_weights
from caffe_fcn.train.divergence import Diverged, check_round, guarded
from caffe_fcn.train.nccl import attach_nccl
from caffe_fcn.train.recipes import DEFAULT as DEFAULT_RECIPE, table_of, with_profile
from caffe_fcn.train.sampling import check_probability, sampled
from caffe_fcn.nets.build import coarse_map
from caffe_fcn.train.prerequisites import missing, start_weights
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.paths import default_run_dir, final_model, resolve
from caffe_fcn.train.snapshots import run_of_state, snapshot_states
from caffe_fcn.evaluate.score import score, summary
from caffe_fcn.surgery.stages import init_variant
from caffe_fcn.errors import UserError
from caffe_fcn.progress import Progress

#: Seconds between progress lines of training and of the scoring after each round.
PROGRESS_SECONDS = 60


class SolveError(UserError, RuntimeError):
    """A run that cannot start, resume or go on (missing inputs, a taken run folder, divergence)."""


def shown(path):
    """A path as a command line should show it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith('..') else os.path.abspath(path)


def solve_command(nets, *args):
    """The solve command line for the variant of `nets` (its name, or the folder of its written nets)
    and `args`, as a user types it."""
    named = shown(nets.variant.net_dir) if nets.variant.net_dir else nets.variant.name
    return ' '.join(['python solve.py', shlex.quote(named)] + [shlex.quote(str(a)) for a in args])


def check_fresh(run_dir, nets):
    """Refuse a fresh run into a folder that holds a run, unless that run never completed a round (it
    failed before its first snapshot): then the fresh start goes on in it (the log keeps the failure)."""
    if not os.path.isdir(run_dir) or not os.listdir(run_dir):
        return
    name = nets.variant.name
    if os.path.exists(final_model(run_dir, name)):
        raise SolveError('%s holds a finished run (its final model %s); a fresh run needs an empty directory: '
                         'move it away (mv %s %s.old) and run the same command again'
                         % (run_dir, final_model(run_dir, name), shown(run_dir), shown(run_dir)))
    states = snapshot_states(run_dir)
    if states:
        raise SolveError('%s already holds a run (snapshots up to iteration %d); a fresh run needs an empty '
                         'directory. Resume it: %s' % (run_dir, states[-1][0], solve_command(nets, '--resume', shown(run_dir))))
    if not restartable(run_dir):
        raise SolveError('%s already holds files (%s); a fresh run needs an empty directory: move them away '
                         'and run the same command again' % (run_dir, ', '.join(sorted(os.listdir(run_dir)))))


def restartable(run_dir):
    """Whether `run_dir` holds only what a run that failed before completing a round leaves: a metrics
    log without a round, and empty snapshots/ and predictions/ folders (bar unfinished writes)."""
    log = os.path.join(run_dir, metrics_log.LOG_NAME)
    for name in os.listdir(run_dir):
        path = os.path.join(run_dir, name)
        if name in ('snapshots', 'predictions') and os.path.isdir(path):
            if len(atomic.leftovers(path)) != len(os.listdir(path)):
                return False
        elif path != log and not atomic.is_partial(name):
            return False
    return not os.path.exists(log) or not any(
        r['event'] == 'round' for r in metrics_log.read(log, warn=lambda text: None))


def latest_state(run_dir, nets):
    states = snapshot_states(run_dir)
    if not states:
        raise SolveError('--resume %s: the run holds no snapshot to resume from; start it afresh: %s'
                         % (run_dir, solve_command(nets, '--out', shown(run_dir))))
    return states[-1][1]


def run_schedule(run_dir, state, variant):
    """(rounds, steps, start weights, the log's last start or resume record) of the run in `run_dir`,
    after checking that the solverstate `state` is one of its snapshots."""
    log = os.path.join(run_dir, metrics_log.LOG_NAME)
    if not os.path.isfile(log):
        raise SolveError('--resume %s: %s is not a run folder (it has no %s), so the solverstate belongs to no '
                         'run here; to start a new run from its weights, pass --weights with the '
                         '.caffemodel.h5 beside it' % (state, run_dir, metrics_log.LOG_NAME))
    if os.path.realpath(os.path.dirname(state)) != os.path.realpath(os.path.join(run_dir, 'snapshots')):
        raise SolveError('--resume %s is not a snapshot of the run in %s (its snapshots are in %s); resume the '
                         'run it belongs to by leaving out --out' % (state, run_dir, os.path.join(run_dir, 'snapshots')))
    begun = [r for r in metrics_log.read(log) if r['event'] in ('start', 'resume')]
    if not begun:
        raise SolveError('--resume %s: %s records no start of a run' % (state, log))
    if begun[-1].get('variant') != variant.name:
        named = shown(begun[-1]['nets']) if begun[-1].get('nets') else begun[-1].get('variant')
        raise SolveError('--resume %s: the run in %s trains %s, not %s: resume it as python solve.py %s --resume %s'
                         % (state, run_dir, begun[-1].get('variant'), variant.name, named, shown(state)))
    start = [r for r in begun if r['event'] == 'start']
    return begun[-1]['rounds'], begun[-1]['steps'], start[-1].get('weights') if start else None, begun[-1]


def run_profile(run_dir, last, variant, recipe, table, loss_sampling):
    """(recipe, table, loss sampling) a resume of the run in `run_dir` trains with: the run's own, from
    `last`, its log's last start or resume record, where the command line leaves them out (None); one
    given that differs is refused, since a run resumed under another profile would mix two trainings
    in one log."""
    logged = (last.get('recipe', DEFAULT_RECIPE), last.get('table'), last.get('loss_sampling', 1))
    chosen = (recipe or logged[0], logged[1] if recipe is None and table is None else table,
              logged[2] if loss_sampling is None else loss_sampling)
    if with_profile(variant, *chosen[:2]).profile != with_profile(variant, *logged[:2]).profile \
            or chosen[2] != logged[2]:
        raise SolveError('the run in %s trains with --recipe %s%s --loss-sampling %g (its log), not --recipe %s%s '
                         '--loss-sampling %g: leave these options out to resume it as it was trained, or start a '
                         'new run in another --out' % (
                             run_dir, logged[0], '' if logged[1] is None else ' --table %d' % logged[1], logged[2],
                             chosen[0], '' if chosen[1] is None else ' --table %d' % chosen[1], chosen[2]))
    return chosen


def check_resume_point(run_dir, iteration, total, predictions):
    """Refuse a resume that would overwrite snapshots or predictions, or is past the schedule."""
    if iteration > total:
        raise SolveError('the solverstate is at iteration %d, past the end of the schedule (%d); '
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


def solver_for_run(caffe, nets, name, outputs, loss_sampling=1):
    """(Caffe solver, its settings): the variant's solver with HDF5 snapshots named after the variant
    (caffe_fcn.train.snapshots places them) and the divergence guard in its training net; with
    `loss_sampling` p < 1, the loss sampled at keep probability p and iter_size raised by 1/p."""
    settings = nets.solver()
    settings.snapshot_prefix = name
    settings.snapshot = 0
    settings.snapshot_format = settings.HDF5  # why: see caffe_fcn.train.snapshots
    nets.net_param(nets.variant.test_split)  # checked before Caffe reads it
    train_net = nets.net_param(nets.variant.train_split)
    if loss_sampling != 1:
        settings.iter_size = check_probability(loss_sampling, settings.iter_size)
        train_net = sampled(train_net, outputs, loss_sampling, coarse_map(nets.variant))
    with tempfile.TemporaryDirectory() as folder:
        run_settings = type(settings)()
        run_settings.CopyFrom(settings)
        run_settings.train_net = atomic.write_text(os.path.join(folder, 'train.prototxt'), str(guarded(train_net, outputs)))
        return caffe.get_solver(atomic.write_text(os.path.join(folder, 'solver.prototxt'), str(run_settings))), settings


def train_round(solver, outputs, until, display, say, progress=None):
    """Step to iteration `until`; {output name: mean training loss over the round}. `progress` (a
    caffe_fcn.progress.Progress over the schedule's iterations) hears of every step."""
    sums = {o.name: 0.0 for o in outputs}
    steps = 0
    while solver.iter < until:
        solver.step(1)  # raises Diverged (the guard in the training net) on a NaN or infinite loss
        if progress:
            progress.update(solver.iter)
        steps += 1
        for o in outputs:
            sums[o.name] += float(solver.net.blobs[o.loss].data)
        if display and solver.iter % display == 0:
            say('iteration %d  train loss %s' % (solver.iter, '  '.join(
                '%s %.6g' % (name, total / steps) for name, total in sums.items())))
    return {name: total / steps for name, total in sums.items()}


def best_iteration(log):
    """The iteration of the logged round with the highest mean IU (of the first head), or None."""
    rounds = [r for r in metrics_log.rounds(metrics_log.read(log)) if r['event'] == 'round']
    if not rounds:
        return None
    return max(rounds, key=lambda r: next(iter(r['scores'].values()))['mean_iu'])['iteration']


@dataclass(frozen=True)
class Plan:
    """A run checked and ready to start: what `plan_run` resolves before Caffe is touched, and what every
    rank of a multi-GPU run (caffe_fcn.train.multigpu) builds its solver from."""
    variant: object         # under the run's training profile
    nets: object            # the NetFiles given (the profile's own nets are generated by nets_for)
    run_dir: str
    rounds: int
    steps: int
    resume: Optional[str]   # the solverstate to resume from
    weights: Optional[list]
    logged_weights: Optional[list]
    loss_sampling: float
    recipe: str
    table: Optional[int]
    keep: Optional[int]
    predictions: Optional[str]

    @property
    def total(self):
        return self.rounds * self.steps

    def nets_for(self, folder):
        """The NetFiles of the run: the given ones, or for another training profile its nets written into `folder`."""
        if self.variant.profile == self.nets.variant.profile:
            return self.nets
        return NetFiles.written(self.variant, folder)


def train(variant, nets, out_dir=None, weights=None, rounds=None, steps=None, gpu=None, resume=None,
          save_predictions=False, keep=None, say=print, loss_sampling=None, recipe=None, table=None):
    """Train `variant` (nets from the NetFiles `nets`) for rounds x steps iterations, scoring after
    each round. `resume` is a solverstate or a run folder (its latest snapshot); the run's own log
    gives the schedule then, unless `rounds`/`steps` say otherwise. `keep` N prunes all snapshots but
    the N latest and the best round's. Returns the path of the final model. Raises SolveError with
    what to do. `loss_sampling` is the paper's keep probability p of each final-layer cell (1: no
    sampling); `recipe` and `table` choose a training profile (caffe_fcn.train.recipes), whose nets
    are then generated into the run directory's nets/. Left None, these three are the run's own on a
    resume and the defaults (heavy, the variant's table, 1) on a fresh start."""
    return run_plan(plan_run(variant, nets, out_dir, weights, rounds, steps, resume, save_predictions, keep,
                             loss_sampling, recipe, table), gpu, say)


def plan_run(variant, nets, out_dir=None, weights=None, rounds=None, steps=None, resume=None,
             save_predictions=False, keep=None, loss_sampling=None, recipe=None, table=None):
    """The checked Plan of a run (train's arguments; see train), or a SolveError saying what to do."""
    logged_weights = None
    if resume:
        resume = resolve(resume)
        if weights:
            raise SolveError('--weights starts a fresh run; a resumed run takes its weights from the solverstate')
        if os.path.isdir(resume):
            resume = latest_state(resolve(out_dir) if out_dir else resume, nets)
        run_dir = resolve(out_dir) if out_dir else run_of_state(resume)
        if not os.path.isfile(resume):
            raise SolveError('--resume %s: no such solverstate (snapshots of the run in %s: %s)' % (
                resume, run_dir, ', '.join(p for _, p in snapshot_states(run_dir)) or 'none'))
        snapshots.read_state(resume, variant.name)
        logged_rounds, logged_steps, logged_weights, last = run_schedule(run_dir, resume, variant)
        recipe, table, loss_sampling = run_profile(run_dir, last, variant, recipe, table, loss_sampling)
        variant = with_profile(variant, recipe, table)
        rounds = logged_rounds if rounds is None else rounds
        steps = logged_steps if steps is None else steps
    else:
        recipe, loss_sampling = recipe or DEFAULT_RECIPE, 1 if loss_sampling is None else loss_sampling
        variant = with_profile(variant, recipe, table)
        run_dir = resolve(out_dir or default_run_dir(variant.name, variant.profile))
    rounds = variant.rounds if rounds is None else rounds
    steps = variant.steps if steps is None else steps
    if rounds < 1 or steps < 1 or (keep is not None and keep < 1):
        raise SolveError('--rounds, --steps and --keep must be positive, got %s, %s and %s' % (rounds, steps, keep))
    check_probability(loss_sampling, variant.solver.get('iter_size', 1))
    predictions = os.path.join(run_dir, 'predictions') if save_predictions else None
    atomic.check_folder(run_dir, '--out')
    if resume:
        if os.path.exists(final_model(run_dir, variant.name)):
            final = final_model(run_dir, variant.name)
            raise SolveError('%s holds the finished run\'s model; to train this run further, move it away (mv %s '
                             '%s.old) and run the same command again' % (final, shown(final), shown(final)))
    else:
        check_fresh(run_dir, nets)
    problems = missing([variant], weights, start=not resume)
    if problems:
        raise SolveError('%s cannot start:\n%s' % (variant.name, '\n'.join(problems)))
    return Plan(variant, nets, run_dir, rounds, steps, resume, weights, logged_weights, loss_sampling, recipe,
                table, keep, predictions)


def run_plan(plan, gpu=None, say=print, nccl_uid=None):
    """Carry out `plan` on the CPU or CUDA device `gpu`; returns the final model's path. `nccl_uid`: this
    process is rank 0 of a multi-GPU run (caffe_fcn.train.multigpu), the one that scores, snapshots and logs."""
    variant, run_dir, rounds, steps, total = plan.variant, plan.run_dir, plan.rounds, plan.steps, plan.total
    resume, weights, keep, predictions = plan.resume, plan.weights, plan.keep, plan.predictions
    recipe, table, loss_sampling = plan.recipe, plan.table, plan.loss_sampling
    log = os.path.join(run_dir, metrics_log.LOG_NAME)
    snapshot_dir = os.path.join(run_dir, 'snapshots')
    split = variant.data[variant.test_split].params['split']

    caffe = select_device(gpu)
    nets = plan.nets_for(os.path.join(run_dir, 'nets'))
    solver, settings = solver_for_run(caffe, nets, variant.name, variant.outputs, loss_sampling)
    per_param = snapshots.history_per_param(settings)
    context = dict(variant=variant.name, split=split, rounds=rounds, steps=steps, solver=str(settings),
                   nets=nets.variant.net_dir, loss_sampling=loss_sampling, profile=variant.profile, recipe=recipe,
                   table=table_of(variant.name, recipe, table),
                   train_split=variant.data[variant.train_split].params['split'])
    if resume:
        iteration = snapshots.check_state(resume, solver.net, per_param, variant.name)
        check_resume_point(run_dir, iteration, total, predictions)
        snapshots.restore(solver, resume)
        record, text = dict(context, event='resume', iteration=solver.iter, solverstate=resume,
                            weights=plan.logged_weights), 'resumed from %s at iteration %d' % (resume, solver.iter)
        last_state = resume
    else:
        starts = [path for path, _ in start_weights(variant, weights)]
        report = init_variant(variant, solver.net, [read_weights(path) for path in starts])
        record, text = dict(context, event='start', iteration=0, weights=starts), \
            'initialised from %s\n%s' % (', '.join(starts), report)
        last_state = None
    # Rank 0 of a multi-GPU run: the other ranks receive these weights now and share gradients from here
    # on. The name keeps the NCCL object alive while the solver, which holds a raw pointer to it, steps.
    nccl = attach_nccl(caffe, solver, nccl_uid) if nccl_uid is not None else None
    # The run folder is made only now: a run that cannot start leaves nothing behind.
    os.makedirs(snapshot_dir, exist_ok=True)
    for folder in (run_dir, snapshot_dir, predictions):
        for leftover in atomic.leftovers(folder or ''):
            atomic.remove(leftover)
            say('removed %s, left by an interrupted write' % leftover)
    metrics_log.append(log, record)
    say('%s: %s' % (variant.name, text))
    test_net = solver.test_nets[0]
    test_net.share_with(solver.net)
    progress = Progress('%s: iteration' % variant.name, total, say, unit='iterations', start=solver.iter,
                        every=PROGRESS_SECONDS)

    while solver.iter < total:
        started = time.time()
        until = min(total, (solver.iter // steps + 1) * steps)
        this_round = math.ceil(until / steps)
        scratch = None
        if predictions:  # written under a temporary name, renamed when the round is good
            os.makedirs(predictions, exist_ok=True)
            scratch = atomic.temporary_beside(os.path.join(predictions, 'iter_%d' % until), folder=True)
        try:
            train_loss = train_round(solver, variant.outputs, until, settings.display, say, progress)
            scores = score(test_net, variant.outputs, scratch, say=say, every=PROGRESS_SECONDS)
            check_round(solver.net, scores)
        except BaseException as err:
            if scratch:
                atomic.remove(scratch)
            if isinstance(err, Diverged):
                raise diverged(variant, nets, run_dir, solver.iter + (err.during == 'step'), err, last_state) from None
            raise
        model, last_state = snapshots.take(solver, snapshot_dir, variant.name, per_param,
                                           'resume: %s' % solve_command(nets, '--resume', shown(run_dir)))
        if scratch:
            atomic.rename_into_place(scratch, os.path.join(predictions, 'iter_%d' % solver.iter))
        metrics_log.append(log, dict(event='round', variant=variant.name, split=split, profile=variant.profile,
                                     round=this_round, iteration=solver.iter, train_loss=train_loss, scores=scores,
                                     wall_time=round(time.time() - started, 3),
                                     snapshot=os.path.relpath(model, run_dir)))
        say('%s round %d/%d, iteration %d, %.1f s\n%s' % (variant.name, this_round, rounds, solver.iter,
                                                          time.time() - started, summary(scores)))
        if keep:
            for path in snapshots.prune(run_dir, keep, [best_iteration(log)]):
                say('--keep %d: deleted %s' % (keep, path))
    atomic.require_space(run_dir, parameter_bytes(solver.net), 'the final model of %s' % variant.name,
                         'resume: %s' % solve_command(nets, '--resume', shown(run_dir)))
    return save_weights(solver.net, final_model(run_dir, variant.name))


def diverged(variant, nets, run_dir, iteration, err, last_state):
    """Log the divergence and make the error that says what is kept and what to do."""
    metrics_log.append(os.path.join(run_dir, metrics_log.LOG_NAME),
                       dict(event='diverged', variant=variant.name, iteration=iteration, output=err.output,
                            loss=err.value, what=str(err), last_snapshot=last_state))
    when = ('at iteration %d. Stopped before its backward pass' % iteration if err.during == 'step' else
            'after iteration %d (checked at the end of its round). Stopped' % iteration)
    if last_state:
        then = ('the last good snapshot is %s. Lower base_lr in %s and resume from it: %s'
                % (last_state, nets.solver_path, solve_command(nets, '--resume', shown(last_state))))
    else:
        then = ('no snapshot was taken yet. Lower base_lr in %s and start again: %s'
                % (nets.solver_path, solve_command(nets, '--out', shown(run_dir))))
    return SolveError('%s diverged: %s %s, without a snapshot of it; %s' % (variant.name, err, when, then))


def main(argv=None):
    parser = cli.parser('python solve.py', __doc__, 'python solve.py nets/voc-fcn32s --rounds 2 --steps 20 --out runs/try')
    cli.add_variant(parser)
    cli.add_weights(parser, many=True, help="caffemodel(s) to start from instead of the variant's default "
                                            '(two for nyud-fcn32s-color-hha: color, then hha)')
    cli.add_schedule(parser)
    cli.add_gpu(parser)
    cli.add_gpus(parser)
    parser.add_argument('--resume', metavar='SOLVERSTATE|RUN', help='continue from this snapshot, or from the '
                        "latest snapshot of this run folder (the schedule comes from the run's log)")
    cli.add_out(parser, 'the run folder (default: runs/<variant>, runs/<profile>/<variant> for --recipe/--table)')
    cli.add_save_predictions(parser)
    cli.add_training_profile(parser)
    add_keep(parser)
    return cli.run(parser, _solve, argv)


def add_keep(parser):
    parser.add_argument('--keep', type=int, metavar='N',
                        help="keep only the N latest snapshots and the best round's (default: all)")


def _solve(args):
    from caffe_fcn.train.multigpu import train_on_gpus  # it imports this module
    nets = NetFiles(args.variant)
    options = dict(out_dir=args.out, weights=args.weights, rounds=args.rounds, steps=args.steps, resume=args.resume,
                   save_predictions=args.save_predictions, keep=args.keep, loss_sampling=args.loss_sampling,
                   recipe=args.recipe, table=args.table)
    if args.gpus:
        final = train_on_gpus(args.gpus, nets.variant, nets, **options)
    else:
        final = train(nets.variant, nets, gpu=args.gpu, **options)
    print('done: %s' % final)


if __name__ == '__main__':
    sys.exit(main())
