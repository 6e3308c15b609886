"""FCN heads: from a coarse score map back to the input grid, at stride 32, 16 or 8.

Layer names are the reference release's (they are the contract with released weights); `tag`
is appended to every head layer (SIFT Flow's two heads use '_sem' and '_geo'), and each crop
of a pool score adds a final 'c' (score_pool4c, score_pool4_semc).

  32s        upscore (x32) -> crop
  16s        upscore2 (x2) + crop(score_pool4) -> upscore16 (x16) -> crop
  8s         ... + crop(score_pool3) after upscore_pool4 (x2) -> upscore8 (x8) -> crop
  8s-atonce  8s with pool4 scaled by 0.01 and pool3 by 1e-4 (fixed) before their score
             layers, so that all strides can be learned at once from the trunk
"""
from caffe_fcn.nets import layers
from caffe_fcn.nets.registry import HEADS, VariantError

# A 64-pixel kernel (twice the stride) puts AlexNet's output half a pixel off its input grid;
# the 63-pixel kernel of the reference aligns it (the crop offset is derived, not chosen).
# GoogLeNet's grid is off by the same half pixel (its crop offset would be 98.5), so 63 too.
UPSCORE32_KERNEL = {'vgg16': 64, 'alexnet': 63, 'googlenet': 63}
ATONCE_SCALES = {'pool4': 0.01, 'pool3': 1e-4}


def _pool_score(n, pool, classes, tag, atonce):
    """score_<pool> on <pool> (scaled first for at-once training)."""
    bottom = n[pool]
    if atonce:
        n['scale_' + pool + tag] = bottom = layers.fixed_scale(bottom, ATONCE_SCALES[pool])
    n['score_' + pool + tag] = layers.score(bottom, classes)
    return n['score_' + pool + tag]


def upsample_head(n, coarse, head, classes, like, final, trunk='vgg16', tag=''):
    """Add `head`'s layers from the coarse score top `coarse` (stride 32) to a score top named
    `final` on the grid of `like` (the input). Pool scores read n['pool4'], n['pool3']."""
    if head not in HEADS:
        raise VariantError('unknown head %r; choose one of %s' % (head, ', '.join(HEADS)))
    if head == '32s':
        n['upscore' + tag] = layers.upsample(coarse, classes, UPSCORE32_KERNEL[trunk], 32)
        n[final] = layers.crop(n, n['upscore' + tag], like)
        return n[final]
    atonce = head == '8s-atonce'
    n['upscore2' + tag] = layers.upsample(coarse, classes, 4, 2)
    pool4 = _pool_score(n, 'pool4', classes, tag, atonce)
    n['score_pool4' + tag + 'c'] = layers.crop(n, pool4, n['upscore2' + tag])
    n['fuse_pool4' + tag] = layers.fuse(n['upscore2' + tag], n['score_pool4' + tag + 'c'])
    if head == '16s':
        n['upscore16' + tag] = layers.upsample(n['fuse_pool4' + tag], classes, 32, 16)
        n[final] = layers.crop(n, n['upscore16' + tag], like)
        return n[final]
    n['upscore_pool4' + tag] = layers.upsample(n['fuse_pool4' + tag], classes, 4, 2)
    pool3 = _pool_score(n, 'pool3', classes, tag, atonce)
    n['score_pool3' + tag + 'c'] = layers.crop(n, pool3, n['upscore_pool4' + tag])
    n['fuse_pool3' + tag] = layers.fuse(n['upscore_pool4' + tag], n['score_pool3' + tag + 'c'])
    n['upscore8' + tag] = layers.upsample(n['fuse_pool3' + tag], classes, 16, 8)
    n[final] = layers.crop(n, n['upscore8' + tag], like)
    return n[final]


def late_fusion(n, scores):
    """Two-stream late fusion (NYUD color-HHA): the streams' score_fr<suffix> tops averaged by
    an Eltwise SUM with equal coefficients, into score_fused."""
    n.score_fused = layers.fuse(*scores, coeff=[1.0 / len(scores)] * len(scores))
    return n.score_fused
