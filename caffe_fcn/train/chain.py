"""`make <variant>`: train every stage a variant needs, in order, skipping the stages already trained.

    python -m caffe_fcn.train.chain voc-fcn8s [--gpu ID | --gpus ID,ID,...] [--rounds N] [--steps N] [--save-predictions]

voc-fcn8s starts from voc-fcn16s, which starts from voc-fcn32s, which starts from the
convolutionalised VGG16 (weights/vgg16-fcn.caffemodel). A stage is done when its run left
runs/<stage>/<stage>.caffemodel. Before anything trains, the datasets and the ILSVRC weights of
all remaining stages are checked, and whatever is missing is listed with the command that makes it.
"""
import argparse
import os
import sys

from caffe_fcn.train.prerequisites import default_init_weights, missing_data
from caffe_fcn.backend import check_device
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.paths import ROOT
from caffe_fcn.train.run_folder import default_run_dir, final_model
from caffe_fcn.train import multigpu
from caffe_fcn.train.solve import train


def sources(name):
    """The variants whose trained weights `name` starts from (none for an ILSVRC start)."""
    init = get_variant(name).init
    return {'stage': (init.source,), 'streams': init.source}.get(init.kind, ())


def stages(name):
    """Every variant in `name`'s chain, sources first, `name` last."""
    order = []
    for source in sources(name):
        order += [stage for stage in stages(source) if stage not in order]
    return order + [name]


def remaining(name):
    """(trained stages it can start from, stages still to train in order) for variant `name`: the
    sources of a trained stage are not needed."""
    if os.path.exists(final_model(default_run_dir(name), name)):
        return [name], []
    done, todo = [], []
    for source in sources(name):
        source_done, source_todo = remaining(source)
        done += [s for s in source_done if s not in done]
        todo += [s for s in source_todo if s not in todo]
    return done, todo + [name]


def missing_inputs(names):
    """Lines naming each missing dataset or start weights file of the stages `names`, with the
    command that makes it. Weights that an earlier stage of `names` produces are not missing."""
    datasets, weights = {}, {}
    for name in names:
        variant = get_variant(name)
        for folder, how in missing_data(variant).items():
            datasets.setdefault((folder, how), []).append(name)
        for path, command in default_init_weights(variant):
            made_here = any(path == final_model(default_run_dir(n), n) for n in names)
            if not os.path.isfile(path) and not made_here:
                weights.setdefault((os.path.relpath(path, ROOT), '`%s`' % command), []).append(name)
    return (['%s is missing or incomplete (read by %s): run %s' % (folder, ', '.join(users), how)
             for (folder, how), users in datasets.items()] +
            ['%s does not exist (needed to start %s): run %s' % (path, ', '.join(users), how)
             for (path, how), users in weights.items()])


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m caffe_fcn.train.chain', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('variant')
    parser.add_argument('--gpu', type=int, help='CUDA device (default: CPU)')
    parser.add_argument('--gpus', type=multigpu.gpu_list, metavar='ID,ID,...',
                        help='train each stage on several GPUs with NCCL (caffe_fcn.train.multigpu)')
    parser.add_argument('--rounds', type=int, help='rounds per stage (default: the reference schedule)')
    parser.add_argument('--steps', type=int, help='iterations per round (default: the reference schedule)')
    parser.add_argument('--save-predictions', action='store_true')
    args = parser.parse_args(argv)
    if args.gpu is not None and args.gpus:
        parser.error('--gpu and --gpus exclude each other')
    try:
        check_device(args.gpu)
        done, todo = remaining(args.variant)
        for name in done:
            print('%s: trained, skipped (%s)' % (name, os.path.relpath(final_model(default_run_dir(name), name))))
        problems = missing_inputs(todo)
        if problems:
            sys.exit('make %s cannot start:\n%s' % (args.variant, '\n'.join(problems)))
        for name in todo:
            print('%s: training (stage %d of %d)' % (name, todo.index(name) + 1, len(todo)))
            nets = NetFiles(os.path.join('nets', name))
            if args.gpus:
                multigpu.train_on_gpus(args.gpus, nets.variant, nets, rounds=args.rounds, steps=args.steps,
                                       save_predictions=args.save_predictions)
            else:
                train(nets.variant, nets, rounds=args.rounds, steps=args.steps, gpu=args.gpu,
                      save_predictions=args.save_predictions)
    except (OSError, ValueError, RuntimeError) as err:
        sys.exit('make %s: %s' % (args.variant, err))


if __name__ == '__main__':
    main()
