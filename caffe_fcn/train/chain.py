"""`make <variant>`: train every stage a variant needs, in order, skipping the stages already trained
and resuming an interrupted one from its last complete snapshot.

    python -m caffe_fcn.train.chain VARIANT [--gpu ID | --gpus ID,ID,...] [--rounds N] [--steps N] [--save-predictions]
                                            [--loss-sampling P] [--recipe paper [--table 1|2]] [--keep N]

voc-fcn8s starts from voc-fcn16s, which starts from voc-fcn32s, which starts from the
convolutionalized VGG16 (weights/vgg16-fcn.caffemodel): each stage's registry `init` names the
stages upstream of it. A stage is done when its run left runs/<stage>/<stage>.caffemodel. A stage
whose run folder holds snapshots but no final model was interrupted (a kill, a full disk, a crash):
it is resumed from its latest snapshot with the schedule its log records, so `make <variant>` again
is how to go on after any interruption. Before anything trains, the datasets and start weights of
all remaining stages and their run folders are checked, and whatever is missing is listed with the
command that makes it. With --recipe/--table every stage trains under that training profile
(caffe_fcn.train.recipes), into runs/<profile>/<stage>/.
"""
import os
import sys

from caffe_fcn import atomic, cli
from caffe_fcn.nets.files import NetFiles
from caffe_fcn.nets.registry import get_variant
from caffe_fcn.paths import default_run_dir, stage_model
from caffe_fcn.train.prerequisites import missing
from caffe_fcn.train.recipes import DEFAULT as DEFAULT_RECIPE, table_of, with_profile
from caffe_fcn.train.snapshots import snapshot_states
from caffe_fcn.train.multigpu import train_on_gpus
from caffe_fcn.train.solve import SolveError, add_keep, train


def profiled(name, recipe='heavy', table=None):
    """Variant `name` under the training profile of `recipe` and `table` (caffe_fcn.train.recipes)."""
    return with_profile(get_variant(name), recipe, table)


def trained_stage(name, recipe='heavy', table=None):
    """Where the run of stage `name` under that profile leaves its final model."""
    return stage_model(name, profiled(name, recipe, table).profile)


def remaining(name, recipe='heavy', table=None):
    """(trained stages it can start from, stages still to train in order) for variant `name`: the
    stages upstream of a trained stage are not needed. Every stage trains under the same profile."""
    if os.path.exists(trained_stage(name, recipe, table)):
        return [name], []
    done, todo = [], []
    for source in get_variant(name).init.upstream:
        source_done, source_todo = remaining(source, recipe, table)
        done += [s for s in source_done if s not in done]
        todo += [s for s in source_todo if s not in todo]
    return done, todo + [name]


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.train.chain', __doc__, 'python -m caffe_fcn.train.chain voc-fcn8s --gpu 0')
    cli.add_variant(parser)
    cli.add_gpu(parser)
    cli.add_gpus(parser)
    cli.add_schedule(parser)
    cli.add_save_predictions(parser)
    cli.add_training_profile(parser)
    add_keep(parser)
    return cli.run(parser, _chain, argv)


def _chain(args):
    name = args.variant.name
    recipe = args.recipe or DEFAULT_RECIPE
    profile = dict(recipe=recipe, table=table_of(name, recipe, args.table))
    done, todo = remaining(name, **profile)
    for stage in done:
        print('%s: trained, skipped (%s)' % (stage, os.path.relpath(trained_stage(stage, **profile))))
    variants = [profiled(stage, **profile) for stage in todo]
    runs = {v.name: default_run_dir(v.name, v.profile) for v in variants}
    resumed = [stage for stage in todo if snapshot_states(runs[stage])]
    problems = missing(variants, resumed=resumed)
    if problems:
        raise SolveError('make %s cannot start:\n%s' % (name, '\n'.join(problems)))
    for stage in todo:
        atomic.check_folder(runs[stage], 'the run folder of %s' % stage)
    for number, stage in enumerate(todo, 1):
        run = runs[stage]
        states = snapshot_states(run)
        nets = NetFiles(get_variant(stage))
        print('%s: %s (stage %d of %d)' % (stage, 'resuming from %s' % os.path.relpath(states[-1][1])
                                           if states else 'training', number, len(todo)))
        options = dict(out_dir=run, rounds=args.rounds, steps=args.steps, resume=states[-1][1] if states else None,
                       save_predictions=args.save_predictions, keep=args.keep, loss_sampling=args.loss_sampling,
                       **profile)
        if args.gpus:
            train_on_gpus(args.gpus, nets.variant, nets, **options)
        else:
            train(nets.variant, nets, gpu=args.gpu, **options)


if __name__ == '__main__':
    sys.exit(main())
