"""Training one variant on several GPUs with Caffe's NCCL, one solver per GPU in its own process, as
BVLC's python/train.py does it:

    python solve.py nets/voc-fcn32s --gpus 0,1       (make voc-fcn8s SOLVE_ARGS="--gpus 0,1")

Rank r runs on GPU gpus[r]. Rank 0 is the usual round-by-round driver (caffe_fcn.train.solve.train):
it initialises the weights, snapshots, scores the test net and writes the log; the other ranks only
step their solvers. NCCL broadcasts rank 0's weights at the start and averages the gradients of all
ranks every iteration (caffe_fcn.train.nccl), so each solver applies the same update. Each training
data layer reads its own share of the split (caffe_fcn.data.base: ids[rank::count]).

What it changes: an iteration sees GPUs x iter_size images and follows their mean gradient (Caffe
divides the sum by the number of ranks), so with the same base_lr the steps are as large as on one GPU
and the schedule's iterations see GPUs times the images; pass --steps (or lower iter_size) to keep the
paper's number of images. Results are not bit-identical to one GPU.

This process only supervises: it checks every GPU, makes NCCL's id, starts the ranks (spawned, never
forked, since this process has touched CUDA), and stops all of them as soon as one fails, since the
others would wait for it forever inside NCCL. At the end every rank reports a digest of its weights;
ranks that drifted apart are an error.
"""
import multiprocessing
import multiprocessing.connection
import queue
import sys
import tempfile

from caffe_fcn.backend import check_device, import_caffe, select_device
from caffe_fcn.backend.weights import read_weights
from caffe_fcn.train import snapshots
from caffe_fcn.surgery.params import net_params
from caffe_fcn.train.nccl import attach_nccl, params_digest
from caffe_fcn.train.solve import SolveError, plan_run, run_plan, solver_for_run


def train_on_gpus(gpus, variant, nets, say=print, **options):
    """Train `variant` on `gpus` (see the module docstring); `options` are caffe_fcn.train.solve.train's.
    The run is planned (and refused with what to do) here, before any rank starts. Returns the final
    model's path."""
    for gpu in gpus:
        check_device(gpu)
    caffe = import_caffe()
    if not caffe.has_nccl():
        raise SolveError('--gpus needs a Caffe built with NCCL: run make setup CUDA=1')
    plan = plan_run(variant, nets, **options)
    spawn = multiprocessing.get_context('spawn')
    reports = spawn.Queue()
    uid = caffe.NCCL.new_uid()
    ranks = [spawn.Process(target=run_rank, args=(rank, gpus, uid, reports, plan, say),
                           name='rank %d (GPU %d)' % (rank, gpu)) for rank, gpu in enumerate(gpus)]
    for process in ranks:
        process.start()
    try:
        failed = wait_for(ranks)
    finally:
        for process in ranks:
            if process.is_alive():
                process.terminate()
            process.join()
    got = {}
    while True:  # every rank has exited, so what they reported is in the queue's pipe
        try:
            rank, kind, value = reports.get_nowait()
        except queue.Empty:
            break
        got[rank, kind] = value
    if failed is not None:
        rank = ranks.index(failed)
        raise SolveError('%s stopped%s; the other ranks were stopped too' % (
            failed.name, ': %s' % got[rank, 'error'] if (rank, 'error') in got
            else ' with exit code %s (its output is above)' % failed.exitcode))
    digests = {rank: got.get((rank, 'digest')) for rank in range(len(gpus))}
    if len(set(digests.values())) != 1:
        raise SolveError('the ranks finished with different weights (digests %s): NCCL did not keep them in sync'
                         % digests)
    return got[0, 'final']


def wait_for(processes):
    """Wait until all exit 0 (returns None) or one fails (returns it, others maybe still running)."""
    running = list(processes)
    while running:
        multiprocessing.connection.wait([p.sentinel for p in running])
        for process in [p for p in running if p.exitcode is not None]:
            if process.exitcode != 0:
                return process
            running.remove(process)
    return None


def run_rank(rank, gpus, uid, reports, plan, say):
    """One rank's process: Caffe told its rank, then the driver (rank 0) or a follower."""
    caffe = import_caffe()
    caffe.set_solver_count(len(gpus))
    caffe.set_solver_rank(rank)
    caffe.set_multiprocess(True)  # Caffe refuses Python layers in multi-GPU training otherwise
    try:
        if rank == 0:
            final = run_plan(plan, gpus[0], say, nccl_uid=uid)
            reports.put((0, 'final', final))
            reports.put((0, 'digest', params_digest(read_weights(final))))
        else:
            reports.put((rank, 'digest', follow(plan, gpus[rank], uid)))
    except (OSError, ValueError, RuntimeError) as err:
        reports.put((rank, 'error', str(err)))
        sys.exit(1)


def follow(plan, gpu, uid):
    """A rank other than 0: the run's solver on its own GPU, rank 0's weights through NCCL, as many
    iterations; returns the digest of its final weights."""
    caffe = select_device(gpu)
    with tempfile.TemporaryDirectory(prefix='rank-nets-') as folder:
        nets = plan.nets_for(folder)
        solver, _ = solver_for_run(caffe, nets, plan.variant.name, plan.variant.outputs, plan.loss_sampling)
    if plan.resume:
        snapshots.restore(solver, plan.resume)  # the iteration and momentum history; weights come from rank 0
    nccl = attach_nccl(caffe, solver, uid)
    solver.step(plan.total - solver.iter)
    del nccl
    return params_digest(net_params(solver.net))
