"""Training profiles of the VOC variants: a recipe (solver and loss) and the splits of a table.

  heavy  the reference release's recipe, the registry's own settings and the default: batch of
         one image, momentum 0.99, loss summed over pixels, learning rates 1e-10 .. 1e-14
         (FCN-AlexNet: normalised loss, 1e-4, momentum 0.9, 20 images per batch). Its README
         credits it with about 5 mean IU points over the paper's.
  paper  CVPR Section 4.3: SGD with momentum 0.9, 20 images per batch (iter_size 20, as Caffe
         trains one image at a time here), loss averaged over labelled pixels, fixed learning
         rates 1e-3 (AlexNet), 1e-4 (VGG16), 5e-5 (GoogLeNet), each skip stage 100 times lower
         than the stage it starts from (Section 4.2: FCN-16s at 1e-6, FCN-8s at 1e-8); weight
         decay "5^-4 or 2^-4": we take 5e-4 for AlexNet and VGG16 and 2e-4 for GoogLeNet, the
         decay each was trained on ILSVRC with. Biases at twice the rate, zero-initialised score
         layers and dropout where the classifier had it are the nets' own (both recipes).

Tables (the splits a profile trains and scores on):
  1  VOC2011 train (1,112 images) -> VOC2011 val (1,111): CVPR Table 1 (AlexNet, VGG16, GoogLeNet)
  2  SBD train (8,498) -> seg11valid (736): CVPR Table 2 and the release (the registry's splits)

The paper gives no iteration count: a profile keeps the variant's rounds x steps (--rounds and
--steps change them). A profile other than heavy on table 2 trains into runs/<profile>/<variant>/,
e.g. runs/paper-table1/voc-fcn-alexnet/, with its nets generated into that folder's nets/.
"""
import dataclasses

from caffe_fcn.data.constants import VOC_MEAN_BGR
from caffe_fcn.errors import UserError
from caffe_fcn.nets.registry import SEED, DataSpec, get_variant

RECIPES = ('heavy', 'paper')
TABLES = {1: 'VOC2011 train -> VOC2011 val', 2: 'SBD train -> seg11valid'}
DEFAULT = 'heavy'

PAPER_BASE_LR = {'alexnet': 1e-3, 'vgg16': 1e-4, 'googlenet': 5e-5}
PAPER_WEIGHT_DECAY = {'alexnet': 5e-4, 'vgg16': 5e-4, 'googlenet': 2e-4}
PAPER_IMAGES_PER_BATCH = 20
PAPER_MOMENTUM = 0.9
STAGE_LR_DROP = 100
# The CVPR paper's VOC nets and the table each is reported in (Table 1 for the trunk comparison,
# Table 2 for the skip nets; FCN-VGG16 is FCN-32s, in both).
PAPER_TABLE = {'voc-fcn-alexnet': 1, 'voc-fcn-googlenet': 1, 'voc-fcn32s': 2,
               'voc-fcn32s-fixed': 2, 'voc-fcn16s': 2, 'voc-fcn8s': 2}
VOC2011_VAL_IMAGES = 1111


class RecipeError(UserError, ValueError):
    pass


def profile_name(recipe, table):
    """'heavy' for the release's recipe on its own splits, else e.g. 'paper-table1'."""
    return recipe if (recipe, table) == (DEFAULT, 2) else '%s-table%d' % (recipe, table)


def _table1_data():
    def spec(split):
        return DataSpec('caffe_fcn.data.voc', 'VOCSegDataLayer', dict(
            voc_dir='data/pascal/VOC2011', split=split, mean=VOC_MEAN_BGR, seed=SEED))
    return {'train': spec('train'), 'val': spec('val')}


def _stage_depth(variant):
    """How many skip stages lie between `variant` and its ILSVRC start (32s: 0, 16s: 1, 8s: 2)."""
    depth = 0
    while variant.init.kind == 'stage':
        variant, depth = get_variant(variant.init.sources[0]), depth + 1
    return depth


def _paper_solver(variant):
    return dict(variant.solver,
                base_lr=PAPER_BASE_LR[variant.trunk] / STAGE_LR_DROP ** _stage_depth(variant),
                momentum=PAPER_MOMENTUM, weight_decay=PAPER_WEIGHT_DECAY[variant.trunk],
                iter_size=PAPER_IMAGES_PER_BATCH)


def with_profile(variant, recipe=DEFAULT, table=None):
    """`variant` trained by `recipe` on the splits of `table` (default: the paper's table of the
    variant for 'paper', 2 for 'heavy'); the variant itself for the default profile."""
    if recipe not in RECIPES:
        raise RecipeError('unknown recipe %r; choose one of %s' % (recipe, ', '.join(RECIPES)))
    if table is not None and table not in TABLES:
        raise RecipeError('unknown table %r; choose 1 (%s) or 2 (%s)' % (table, TABLES[1], TABLES[2]))
    if (recipe, table) in ((DEFAULT, None), (DEFAULT, 2)):
        return variant
    if variant.dataset != 'voc':
        raise RecipeError('%s: recipes and tables are the VOC variants\' (CVPR Tables 1 and 2); the %s '
                          'variants train with the release\'s settings only' % (variant.name, variant.dataset))
    if recipe == 'paper' and variant.name not in PAPER_TABLE:
        raise RecipeError('%s is not in the CVPR paper, so it has no paper recipe; the paper\'s VOC nets: %s'
                          % (variant.name, ', '.join(sorted(PAPER_TABLE))))
    table = table or PAPER_TABLE[variant.name]
    changes = dict(profile=profile_name(recipe, table))
    if table == 1:
        changes.update(data=_table1_data(), solver=dict(variant.solver, test_iter=VOC2011_VAL_IMAGES))
    if recipe == 'paper':
        changes.update(solver=_paper_solver(dataclasses.replace(variant, **changes)), normalize_loss=True)
    return dataclasses.replace(variant, **changes)


def table_of(name, recipe=DEFAULT, table=None):
    """The table a run of variant `name` uses: `table` if given, else the paper's for its recipe."""
    if table is not None or recipe == DEFAULT:
        return table
    return PAPER_TABLE.get(name)
