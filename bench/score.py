"""Scoring cost: `caffe_fcn.evaluate.score.score` over N fixture images of VOC size (500x375) against N bare
`net.forward()` calls of the same FCN-8s val net (random weights), in the same process.

Both sides run the net's real VOC data layer on the same N images; what scoring adds is the argmax,
the confusion matrix and the loss bookkeeping. The two sides alternate which goes first from run
to run, after one untimed warm-up forward.
"""
import sys
import tempfile

from bench import common
from bench.fixtures import VOC_IMAGE, fixture_variant
from bench.nets import load_net, randomize, write_net
from caffe_fcn.evaluate.score import score

VARIANT = 'voc-fcn8s'
TARGET_RATIO = 1.05
FULL = dict(images=5, size=VOC_IMAGE)
QUICK = dict(images=3, size=(75, 100))


def measure(run, quick, images, size):
    with tempfile.TemporaryDirectory(prefix='bench-score-') as folder:
        variant = fixture_variant(VARIANT, folder, train_images=1, val_images=images, size=size, quick=quick)
        net = load_net(write_net(variant, variant.test_split, folder + '/val.prototxt'))
        randomize(net)
        net.forward()  # warm-up: the first forward allocates every blob

        def forwards():
            for _ in range(images):
                net.forward()
        sides = {'score': lambda: score(net, variant.outputs), 'forwards': forwards}
        order = ['score', 'forwards'] if run % 2 == 0 else ['forwards', 'score']
        seconds = {side: common.timed(sides[side]) for side in order}
    return {'images': images, 'score_s': seconds['score'], 'forwards_s': seconds['forwards'],
            'score_per_image_s': seconds['score'] / images, 'forward_per_image_s': seconds['forwards'] / images,
            'score_over_forwards': seconds['score'] / seconds['forwards']}


def targets(median):
    return [common.Target('scoring time / its forwards', median['score_over_forwards'], TARGET_RATIO, 'x')]


def rows(median):
    """(figure, median, target) rows for the README table."""
    return [('scoring %d images / their bare forwards' % median['images'],
             '%.3fx (%.3g s vs %.3g s per image)' % (median['score_over_forwards'], median['score_per_image_s'],
                                                   median['forward_per_image_s']),
             '<= %gx' % TARGET_RATIO)]


def main(argv=None):
    parser = common.argument_parser('score', __doc__)
    common.add_images(parser, FULL['images'])
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.images:
        sizes['images'] = args.images
    settings = dict(sizes, variant=VARIANT, weights='random (He normal)', quick=args.quick)
    return common.run_benchmark('score', args, argv, settings,
                                lambda run: measure(run, args.quick, sizes['images'], sizes['size']),
                                targets=targets)


if __name__ == '__main__':
    common.run_main(main, 'score')
