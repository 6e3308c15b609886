"""The embedded demo: the whole FCN pipeline in miniature, offline, on a laptop's CPU.

    python -m caffe_fcn.demo data       [--fast] [--data DIR]              make the toy dataset
    python -m caffe_fcn.demo run        [--fast] [--data DIR] [--out DIR] [--gpu ID]  every stage, then the report
    python -m caffe_fcn.demo ablation   [--fast] [--data DIR] [--out DIR] [--gpu ID]  FCN-32s from random init

Defaults: --data data/demo, --out runs/demo (--fast: data/demo-fast, runs/demo-fast).
"""
import sys
import time

from caffe_fcn import cli
from caffe_fcn.demo import dataset, pipeline, report
from caffe_fcn.demo.config import FAST, FULL


def main(argv=None):
    parser = cli.parser('python -m caffe_fcn.demo', __doc__, 'python -m caffe_fcn.demo run --fast')
    parser.add_argument('command', choices=('data', 'run', 'ablation'))
    parser.add_argument('--fast', action='store_true', help='the tiny configuration the tests run')
    parser.add_argument('--data', metavar='DIR', help='dataset folder (VOC layout)')
    cli.add_out(parser, 'the folder for the runs and the report')
    cli.add_gpu(parser)
    return cli.run(parser, _demo, argv)


def _demo(args):
    config = FAST if args.fast else FULL
    data_dir = args.data or ('data/demo-fast' if args.fast else 'data/demo')
    out_dir = args.out or ('runs/demo-fast' if args.fast else 'runs/demo')
    start = time.time()
    if args.command == 'data':
        dataset.generate(data_dir, config.seed, config.train_images, config.val_images,
                         config.min_side, config.max_side)
        return
    if args.command == 'run':
        pipeline.run(config, data_dir, out_dir, gpu=args.gpu)
    else:
        pipeline.run_ablation(config, data_dir, out_dir, gpu=args.gpu)
    print(report.write(out_dir, data_dir, command=args.command, seconds=time.time() - start))


if __name__ == '__main__':
    sys.exit(main())
