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
import argparse
import multiprocessing
import multiprocessing.connection
import queue
import sys

from caffe_fcn.backend import check_device, import_caffe, select_device
from caffe_fcn.backend.weights import read_weights
from caffe_fcn.paths import resolve
from caffe_fcn.train.nccl import attach_nccl, net_params, params_digest
from caffe_fcn.train.run_folder import default_run_dir
from caffe_fcn.train.solve import SolveError, schedule, solver_for_run, train


def gpu_list(text):
    """'0,1' -> [0, 1]; refuses what NCCL cannot run (an argparse type)."""
    try:
        gpus = [int(part) for part in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('device ids separated by commas, e.g. 0,1; got %r' % text) from None
    if any(gpu < 0 for gpu in gpus):
        raise argparse.ArgumentTypeError('device ids are 0 or more, got %r' % text)
    if len(set(gpus)) != len(gpus):
        raise argparse.ArgumentTypeError('%s names a GPU twice: NCCL (2.5 and later) refuses two ranks on one device' % text)
    return gpus


def train_on_gpus(gpus, variant, nets, out_dir=None, weights=None, rounds=None, steps=None, resume=None,
                  save_predictions=False):
    """Train `variant` on `gpus` (see the module docstring); returns the final model's path."""
    for gpu in gpus:
        check_device(gpu)
    caffe = import_caffe()
    if not caffe.has_nccl():
        raise SolveError('--gpus needs a Caffe built with NCCL: run make setup CUDA=1')
    options = dict(out_dir=out_dir, weights=weights, rounds=rounds, steps=steps, resume=resume,
                   save_predictions=save_predictions)
    spawn = multiprocessing.get_context('spawn')
    reports = spawn.Queue()
    uid = caffe.NCCL.new_uid()
    ranks = [spawn.Process(target=run_rank, args=(rank, gpus, uid, reports, variant, nets, options),
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


def run_rank(rank, gpus, uid, reports, variant, nets, options):
    """One rank's process: Caffe told its rank, then the driver (rank 0) or a follower."""
    caffe = import_caffe()
    caffe.set_solver_count(len(gpus))
    caffe.set_solver_rank(rank)
    caffe.set_multiprocess(True)  # Caffe refuses Python layers in multi-GPU training otherwise
    try:
        if rank == 0:
            final = train(variant, nets, gpu=gpus[0], nccl_uid=uid, **options)
            reports.put((0, 'final', final))
            reports.put((0, 'digest', params_digest(read_weights(final))))
        else:
            reports.put((rank, 'digest', follow(variant, nets, gpus[rank], uid, options)))
    except (OSError, ValueError, RuntimeError) as err:
        reports.put((rank, 'error', str(err)))
        sys.exit(1)


def follow(variant, nets, gpu, uid, options):
    """A rank other than 0: the same solver, rank 0's weights through NCCL, the same number of
    iterations; returns the digest of its final weights."""
    caffe = select_device(gpu)
    rounds, steps = schedule(variant, options['rounds'], options['steps'])
    run_dir = resolve(options['out_dir'] or default_run_dir(variant.name))
    solver, _ = solver_for_run(caffe, nets, run_dir, variant.name, variant.outputs)
    if options['resume']:
        solver.restore(resolve(options['resume']))  # the iteration and momentum history; weights come from rank 0
    nccl = attach_nccl(caffe, solver, uid)
    solver.step(rounds * steps - solver.iter)
    del nccl
    return params_digest(net_params(solver.net))
