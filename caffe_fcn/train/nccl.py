"""Caffe's NCCL on one solver of a multi-GPU run (caffe_fcn.train.multigpu), as BVLC's python/train.py
wires it: rank 0's weights are broadcast to every rank, then each iteration the gradients are summed
across ranks (layer by layer as backward produces them, when layer_wise_reduce is on, Caffe's default)
and divided by the number of ranks, so every solver applies the same update."""
import hashlib

import numpy as np


def attach_nccl(caffe, solver, uid):
    """Join the NCCL clique `uid` with `solver` (the process's rank and count set beforehand with
    caffe.set_solver_rank / set_solver_count) and broadcast rank 0's weights. The solver keeps a raw
    pointer to the returned object: hold it as long as the solver steps."""
    nccl = caffe.NCCL(solver, uid)
    nccl.bcast()
    solver.add_callback(nccl)
    if solver.param.layer_wise_reduce:
        solver.net.after_backward(nccl)
    return nccl


def params_digest(params):
    """sha256 over `{layer: [arrays]}` (a net's parameters, or read_weights of a caffemodel) in layer
    name order: ranks that stayed in sync give the same digest."""
    digest = hashlib.sha256()
    for name in sorted(params):
        for array in params[name]:
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()
