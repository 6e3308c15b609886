"""The FCN variants of the paper's reference release, and those only the paper describes
(FCN-32s-fixed, FCN-GoogLeNet), one registry entry each.

A Variant is data: which dataset and trunk, which head, its outputs, its data layer per net,
its solver settings, how it is initialised and how long it trains. `build.net_proto` turns it
into Caffe nets; `make nets` writes them to nets/<name>/ and solvers/<name>.prototxt.
`dataclasses.replace(variant, widths=(4,) * 6)` gives a narrow twin with the same geometry.

Init kinds (what `caffe_fcn.surgery` does to start training) and their `sources`:
  'ilsvrc'        transplant the convolutionalized ILSVRC net ('vgg16-fcn', 'alexnet-fcn', 'googlenet-fcn':
                  weights/<source>.caffemodel, written by `make <source>`)
  'ilsvrc-depth'  the same, and conv1_1_bgrd takes conv1_1's RGB filters for its first three
                  input channels and their mean for the depth channel (NYUD color-depth)
  'stage'         transplant the trained variant (32s -> 16s -> 8s); new score layers start at zero
  'streams'       transplant each trained single-stream variant into the stream of the same
                  position in `inputs` (layer names + that stream's suffix)
"""
from dataclasses import dataclass
from typing import Optional

from caffe_fcn.data.constants import (CONTEXT_CLASSES, NYUD_CLASSES, SIFTFLOW_GEOMETRIC_CLASSES,
                                      SIFTFLOW_SEMANTIC_CLASSES, VOC_CLASSES, VOC_MEAN_BGR)
from caffe_fcn.errors import UserError
from caffe_fcn.paths import stage_model, weights_file

DATASETS = ('voc', 'nyud', 'siftflow', 'context')
HEADS = ('32s', '16s', '8s', '8s-atonce')  # built by caffe_fcn.nets.heads
FUSIONS = (None, 'early', 'late')
INIT_KINDS = ('ilsvrc', 'ilsvrc-depth', 'stage', 'streams')
SEED = 1337
# The trunks (built by caffe_fcn.nets.trunks) and their stage widths: VGG16 conv1_x, conv2_x,
# conv3_x, conv4_x, conv5_x, fc6/fc7; AlexNet conv1, conv2, conv3, conv4, conv5, fc6/fc7;
# GoogLeNet conv1, conv2, inception 3, 4, 5, whose full widths differ per branch (trunks.INCEPTION):
# a narrow twin gives every convolution of a stage the stage's width.
FULL_WIDTHS = {'vgg16': (64, 128, 256, 512, 512, 4096),
               'alexnet': (96, 256, 384, 384, 256, 4096),
               'googlenet': None}
STAGES = {'vgg16': 6, 'alexnet': 6, 'googlenet': 5}


class VariantError(UserError, ValueError):
    """A variant that cannot be: an unknown name, a registry entry that contradicts itself, or a net
    its layers cannot build (widths that do not fit the trunk, a crop that cannot be aligned)."""


def check_widths(trunk, widths):
    """The widths to build `trunk` with: the full ones for None, else a validated tuple, one per stage."""
    if widths is None:
        return FULL_WIDTHS[trunk]
    widths = tuple(widths)
    if len(widths) != STAGES[trunk] or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0
                                               for w in widths):
        like = ', like %s' % (FULL_WIDTHS[trunk],) if FULL_WIDTHS[trunk] else ': conv1, conv2, inception 3, 4, 5'
        raise VariantError('widths for the %s trunk must be %d positive integers (one per stage%s); got %r'
                           % (trunk, STAGES[trunk], like, widths))
    if trunk == 'alexnet' and any(w % 2 for w in widths[:5]):
        raise VariantError('widths for the alexnet trunk: conv1..conv5 widths must be even '
                           '(conv2, conv4 and conv5 use 2 groups); got %r' % (widths,))
    return widths


@dataclass(frozen=True)
class Output:
    """One head: its score blob, label blob, loss layer and class count. Head layers carry
    `tag` in their names (score_fr_sem, upscore_sem, ...); the score blob is 'score' + tag."""
    name: str
    score: str
    label: str
    loss: str
    classes: int
    tag: str = ''


@dataclass(frozen=True)
class DataTop:
    """An image input of the net (blob name and channel count)."""
    name: str
    channels: int


@dataclass(frozen=True)
class DataSpec:
    """The Python data layer of one net: module, class name and its param_str dict."""
    module: str
    layer: str
    params: dict


@dataclass(frozen=True)
class Init:
    """How a variant's starting weights are made (one of INIT_KINDS) and from what: `sources`, a
    tuple of names (a single name is taken as a tuple of one)."""
    kind: str
    sources: tuple

    def __post_init__(self):
        if isinstance(self.sources, str):
            object.__setattr__(self, 'sources', (self.sources,))

    @property
    def upstream(self):
        """The variants whose trained weights this init starts from (none for an ILSVRC start)."""
        return self.sources if self.kind in ('stage', 'streams') else ()

    def weights_files(self, profile='heavy'):
        """[(weights file, command that makes it)], one per source, in order: weights/<source>.caffemodel
        for an ILSVRC start, else the final model of each upstream variant's default run under the
        training `profile` (caffe_fcn.train.recipes)."""
        if self.upstream:
            return [(stage_model(s, profile), make_command(s, profile)) for s in self.upstream]
        return [(weights_file(s), 'make %s' % s) for s in self.sources]


def profile_args(profile):
    """The solve/chain options that select training profile `profile` ('' for the registry's own):
    'paper-table1' -> '--recipe paper --table 1' (profile names: caffe_fcn.train.recipes)."""
    if profile == 'heavy':
        return ''
    recipe, _, table = profile.partition('-table')
    return '--recipe %s --table %s' % (recipe, table)


def make_command(name, profile='heavy'):
    """The make command that trains variant `name` (and the stages before it) under `profile`."""
    args = profile_args(profile)
    return 'make %s' % name + (' SOLVE_ARGS="%s"' % args if args else '')


@dataclass(frozen=True)
class Variant:
    name: str
    dataset: str
    trunk: str
    head: str
    outputs: tuple
    train_split: str
    test_split: str
    data: dict
    solver: dict
    init: Init
    rounds: int
    steps: int
    inputs: tuple = (DataTop('data', 3),)
    fusion: Optional[str] = None
    normalize_loss: bool = False
    widths: Optional[tuple] = None
    frozen_trunk: bool = False  # the trunk never learns (lr_mult 0): FCN-32s-fixed
    profile: str = 'heavy'  # the training profile its solver and data follow (caffe_fcn.train.recipes)
    #: where its nets and solver were written when not nets/<name> (a run's twin, e.g. the demo's)
    net_dir: Optional[str] = None

    @property
    def nets(self):
        """The net names written for this variant, in order."""
        return (self.train_split, self.test_split, 'deploy')

    def __post_init__(self):
        check_variant(self)


def check_variant(v):
    """Refuse an inconsistent entry with a message naming the variant and the field."""
    def fail(what):
        raise VariantError('variant %r: %s (see caffe_fcn/nets/registry.py)' % (v.name, what))
    if v.dataset not in DATASETS:
        fail('dataset %r is not one of %s' % (v.dataset, DATASETS))
    if v.head not in HEADS:
        fail('head %r is not one of %s' % (v.head, HEADS))
    if v.fusion not in FUSIONS:
        fail('fusion %r is not one of %s' % (v.fusion, FUSIONS))
    if v.fusion == 'late' and (v.head != '32s' or len(v.outputs) != 1):
        fail('late fusion is built for a single 32s head only')
    if v.trunk == 'googlenet' and v.head != '32s':
        fail('the googlenet trunk has no pool4/pool3 to fuse: its head is 32s only')
    if v.fusion == 'early' and v.trunk != 'vgg16':
        fail('early fusion renames conv1_1 of the vgg16 trunk only')
    if v.fusion is None and len(v.inputs) != 1:
        fail('%d inputs need fusion early or late' % len(v.inputs))
    if v.fusion is not None and len(v.inputs) < 2:
        fail('fusion %r needs at least two inputs' % v.fusion)
    if v.init.kind not in INIT_KINDS:
        fail('init kind %r is not one of %s' % (v.init.kind, INIT_KINDS))
    if len(v.init.sources) != (len(v.inputs) if v.init.kind == 'streams' else 1):
        fail('init %r starts from one source%s, got %s' % (
            v.init.kind, ' per input' if v.init.kind == 'streams' else '', ', '.join(v.init.sources) or 'none'))
    if v.trunk not in FULL_WIDTHS:
        fail('trunk %r is not one of %s' % (v.trunk, tuple(FULL_WIDTHS)))
    try:
        check_widths(v.trunk, v.widths)
    except VariantError as err:
        fail(err)
    if set(v.data) != {v.train_split, v.test_split}:
        fail('data must describe the nets %s and %s' % (v.train_split, v.test_split))
    if not all(o.score == 'score' + o.tag for o in v.outputs):
        fail("each output's score blob must be 'score' + its tag")
    if len({o.score for o in v.outputs}) != len(v.outputs):
        fail('outputs need distinct tags')


def _solver(base_lr, test_iter, snapshot, max_iter, momentum=0.99, iter_size=1, weight_decay=0.0005):
    settings = dict(base_lr=base_lr, lr_policy='fixed', momentum=momentum,
                    weight_decay=weight_decay, iter_size=iter_size, max_iter=max_iter,
                    test_iter=test_iter, average_loss=20, display=20)
    if snapshot is not None:
        settings['snapshot'] = snapshot
    return settings


def _semantic(classes):
    return (Output('semantic', 'score', 'label', 'loss', classes),)


def voc(name, head, init, base_lr, trunk='vgg16', rounds=25, max_iter=100000,
        momentum=0.99, iter_size=1, normalize_loss=False, frozen_trunk=False, weight_decay=0.0005):
    """PASCAL VOC: trained on SBD train (8,498 images), scored on VOC2011 seg11valid (736)."""
    common = dict(mean=VOC_MEAN_BGR, seed=SEED)
    return Variant(
        name=name, dataset='voc', trunk=trunk, head=head, outputs=_semantic(VOC_CLASSES),
        train_split='train', test_split='val',
        data={'train': DataSpec('caffe_fcn.data.sbd', 'SBDSegDataLayer',
                                dict(sbd_dir='data/sbd/dataset', split='train', **common)),
              'val': DataSpec('caffe_fcn.data.voc', 'VOCSegDataLayer',
                              dict(voc_dir='data/pascal/VOC2011', split='seg11valid', **common))},
        solver=_solver(base_lr, 736, 4000, max_iter, momentum, iter_size, weight_decay),
        init=init, rounds=rounds, steps=4000, normalize_loss=normalize_loss,
        frozen_trunk=frozen_trunk)


def nyud(name, modalities, init, base_lr, fusion=None):
    """NYUDv2 (40 classes): trainval, test (654 images). `modalities` are the data
    layer's image tops (color, hha, depth); a single-modality net calls its input 'data'."""
    channels = {'color': 3, 'hha': 3, 'depth': 1}
    if len(modalities) == 1:
        inputs = (DataTop('data', channels[modalities[0]]),)
    else:
        inputs = tuple(DataTop(m, channels[m]) for m in modalities)
    def spec(split):
        return DataSpec('caffe_fcn.data.nyud', 'NYUDSegDataLayer', dict(
            nyud_dir='data/nyud', split=split, tops=list(modalities) + ['label'], seed=SEED))
    return Variant(
        name=name, dataset='nyud', trunk='vgg16', head='32s', outputs=_semantic(NYUD_CLASSES),
        train_split='trainval', test_split='test',
        data={'trainval': spec('trainval'), 'test': spec('test')},
        solver=_solver(base_lr, 654, 2000, 300000), init=init, rounds=50, steps=2000,
        inputs=inputs, fusion=fusion)


def siftflow(name, head, init, base_lr):
    """SIFT Flow: two heads, semantic (33 classes) and geometric (3); trainval 2,486, test 200.
    The reference solver sets no snapshot interval (the driver snapshots each round)."""
    def spec(split):
        return DataSpec('caffe_fcn.data.siftflow', 'SIFTFlowSegDataLayer', dict(
            siftflow_dir='data/sift-flow', split=split, seed=SEED))
    return Variant(
        name=name, dataset='siftflow', trunk='vgg16', head=head,
        outputs=(Output('semantic', 'score_sem', 'sem', 'loss', SIFTFLOW_SEMANTIC_CLASSES, '_sem'),
                 Output('geometric', 'score_geo', 'geo', 'loss_geo', SIFTFLOW_GEOMETRIC_CLASSES, '_geo')),
        train_split='trainval', test_split='test',
        data={'trainval': spec('trainval'), 'test': spec('test')},
        solver=_solver(base_lr, 200, None, 300000), init=init, rounds=50, steps=2000)


def context(name, head, init, base_lr):
    """PASCAL-Context, 59 classes + background (60 outputs): VOC2010 train / val (5,105)."""
    def spec(split):
        return DataSpec('caffe_fcn.data.context', 'PASCALContextSegDataLayer', dict(
            context_dir='data/pascal-context', voc_dir='data/pascal/VOC2010', split=split,
            seed=SEED))
    return Variant(
        name=name, dataset='context', trunk='vgg16', head=head, outputs=_semantic(CONTEXT_CLASSES),
        train_split='train', test_split='val',
        data={'train': spec('train'), 'val': spec('val')},
        solver=_solver(base_lr, 5105, 4000, 300000), init=init, rounds=50, steps=8000)


VGG16_FCN = Init('ilsvrc', 'vgg16-fcn')

VARIANTS = {v.name: v for v in [
    voc('voc-fcn32s', '32s', VGG16_FCN, 1e-10),
    voc('voc-fcn16s', '16s', Init('stage', 'voc-fcn32s'), 1e-12),
    voc('voc-fcn8s', '8s', Init('stage', 'voc-fcn16s'), 1e-14),
    voc('voc-fcn8s-atonce', '8s-atonce', VGG16_FCN, 1e-10, rounds=75, max_iter=300000),
    # CVPR Table 2's FCN-32s-fixed: only the score layer learns (the paper's own addition; the
    # reference release has no such net).
    voc('voc-fcn32s-fixed', '32s', VGG16_FCN, 1e-10, frozen_trunk=True),
    voc('voc-fcn-alexnet', '32s', Init('ilsvrc', 'alexnet-fcn'), 1e-4, trunk='alexnet',
        momentum=0.9, iter_size=20, normalize_loss=True),
    # CVPR Table 1's FCN-GoogLeNet (promised by the release, never shipped): BVLC GoogLeNet without
    # its average pooling and classifiers, a 32s head. With no release recipe, its own settings are
    # the paper's (Section 4.3: 5e-5, momentum 0.9, 20 images a batch, normalised loss; weight
    # decay 2e-4, BVLC GoogLeNet's) on the release's splits.
    voc('voc-fcn-googlenet', '32s', Init('ilsvrc', 'googlenet-fcn'), 5e-5, trunk='googlenet',
        momentum=0.9, iter_size=20, normalize_loss=True, weight_decay=0.0002),
    nyud('nyud-fcn32s-color', ['color'], VGG16_FCN, 1e-10),
    nyud('nyud-fcn32s-hha', ['hha'], VGG16_FCN, 1e-10),
    nyud('nyud-fcn32s-color-d', ['color', 'depth'], Init('ilsvrc-depth', 'vgg16-fcn'), 1e-10,
         fusion='early'),
    nyud('nyud-fcn32s-color-hha', ['color', 'hha'],
         Init('streams', ('nyud-fcn32s-color', 'nyud-fcn32s-hha')), 1e-12, fusion='late'),
    siftflow('siftflow-fcn32s', '32s', VGG16_FCN, 1e-10),
    siftflow('siftflow-fcn16s', '16s', Init('stage', 'siftflow-fcn32s'), 1e-12),
    siftflow('siftflow-fcn8s', '8s', Init('stage', 'siftflow-fcn16s'), 1e-12),
    context('pascalcontext-fcn32s', '32s', VGG16_FCN, 1e-10),
    context('pascalcontext-fcn16s', '16s', Init('stage', 'pascalcontext-fcn32s'), 1e-12),
    context('pascalcontext-fcn8s', '8s', Init('stage', 'pascalcontext-fcn16s'), 1e-14),
]}


def get_variant(name):
    """The registered variant `name`; a VariantError lists the known names otherwise."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise VariantError('unknown variant %r; known variants: %s (python -m caffe_fcn.nets '
                         '--list)' % (name, ', '.join(sorted(VARIANTS)))) from None
