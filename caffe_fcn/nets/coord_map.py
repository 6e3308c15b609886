"""Coordinate maps: how each layer moves the image grid, and the crop offsets they imply.

Every layer maps an input coordinate x to an output coordinate y = a*x + b:
  Convolution, Pooling:  a = 1/stride,  b = (pad - (k - 1)/2) / stride
  Deconvolution:         a = stride,    b = (k - 1)/2 - pad
  element-wise layers (ReLU, Dropout, LRN, Scale, Eltwise, Concat, ...): identity
with k the effective kernel size (dilation*(k-1)+1). Composing the maps from the net's inputs
(every data or Input top is taken to lie on the same image grid) gives each top's map; a crop of
`bottom` onto the grid of `like` needs equal scales, and its offset is b(bottom) - b(like), which
must be a non-negative integer. Caffe's own `caffe.coord_map` does the same with asserts and
without Concat (needed by the NYUD color-depth net); this one says which crop cannot be aligned.
Maps are exact (fractions), and computed on NetSpec tops before they are written out.
"""
from fractions import Fraction

from caffe_fcn.nets.registry import VariantError

IDENTITY_TYPES = frozenset([
    'ReLU', 'PReLU', 'ELU', 'Sigmoid', 'TanH', 'AbsVal', 'Power', 'Exp', 'Log', 'BNLL',
    'Dropout', 'LRN', 'MVN', 'BatchNorm', 'Scale', 'Bias', 'Eltwise', 'Concat', 'Split',
    'Softmax', 'Threshold'])


class CoordMap:
    """y = scale * x + shift, both exact fractions."""
    __slots__ = ('scale', 'shift')

    def __init__(self, scale, shift):
        self.scale = Fraction(scale)
        self.shift = Fraction(shift)

    def then(self, other):
        """This map followed by `other`."""
        return CoordMap(other.scale * self.scale, other.scale * self.shift + other.shift)

    def __eq__(self, other):
        return (self.scale, self.shift) == (other.scale, other.shift)

    def __repr__(self):
        return 'CoordMap(scale=%s, shift=%s)' % (self.scale, self.shift)


IDENTITY = CoordMap(1, 0)


def _describe(top, names):
    name = names.get(id(top)) if names else None
    return "'%s'" % name if name else 'a %s output' % top.fn.type_name


def _spatial(params, field, default, layer):
    """One spatial value of a layer parameter; anisotropic settings cannot be mapped."""
    stem = 'kernel' if field == 'kernel_size' else field  # kernel_h, stride_h, pad_h
    values = []
    for key in (field, stem + '_h', stem + '_w'):
        value = params.get(key)
        if value is None:
            continue
        values.extend(value if isinstance(value, (list, tuple)) else [value])
    if not values:
        return default
    if len(set(values)) != 1:
        raise VariantError('coordinate map: %s has different %s per axis (%s); only square '
                         'geometry can be aligned by a crop' % (layer, field, values))
    return values[0]


def layer_map(fn, layer='layer'):
    """The coordinate map of one NetSpec layer (a caffe.net_spec Function)."""
    kind = fn.type_name
    if kind in IDENTITY_TYPES:
        return IDENTITY
    if kind in ('Convolution', 'Deconvolution'):
        params = dict(fn.params, **fn.params.get('convolution_param', {}))
    elif kind == 'Pooling':
        params = dict(fn.params, **fn.params.get('pooling_param', {}))
        if params.get('global_pooling'):
            raise VariantError('coordinate map: %s is a global pooling; its output has no grid '
                             'to align' % layer)
    else:
        raise VariantError('coordinate map: no rule for layer type %s (%s); add it to '
                         'caffe_fcn/nets/coord_map.py' % (kind, layer))
    kernel = _spatial(params, 'kernel_size', None, layer)
    if kernel is None:
        raise VariantError('coordinate map: %s has no kernel_size' % layer)
    stride = _spatial(params, 'stride', 1, layer)
    pad = _spatial(params, 'pad', 0, layer)
    dilation = _spatial(params, 'dilation', 1, layer) if kind != 'Pooling' else 1
    centre = Fraction(dilation * (kernel - 1), 2)
    if kind == 'Deconvolution':
        return CoordMap(stride, centre - pad)
    return CoordMap(Fraction(1, stride), (pad - centre) / stride)


def top_map(top, names=None, _cache=None):
    """The map from the image grid (the net's inputs) to the grid of `top`."""
    cache = {} if _cache is None else _cache
    fn = top.fn
    if fn in cache:
        return cache[fn]
    layer = _describe(top, names)
    if not fn.inputs:
        result = IDENTITY
    elif fn.type_name == 'Crop':
        params = dict(fn.params, **fn.params.get('crop_param', {}))
        offset = params.get('offset', 0)
        offset = offset[0] if isinstance(offset, (list, tuple)) else offset
        bottom = top_map(fn.inputs[0], names, cache)
        result = CoordMap(bottom.scale, bottom.shift - offset)
    else:
        maps = [top_map(bottom, names, cache) for bottom in fn.inputs]
        if any(m != maps[0] for m in maps[1:]):
            raise VariantError('coordinate map: the inputs of %s (%s) lie on different grids %s; '
                             'crop them onto one grid first' % (layer, fn.type_name, maps))
        result = maps[0].then(layer_map(fn, layer))
    cache[fn] = result
    return result


def crop_offset(bottom, like, names=None):
    """The offset that crops `bottom` onto the grid of `like` (an int >= 0).

    `names` maps id(top) -> name, for error messages. Raises VariantError when the two grids
    have different scales or the offset is fractional or negative."""
    cache = {}
    source, target = top_map(bottom, names, cache), top_map(like, names, cache)
    what = 'crop of %s onto %s' % (_describe(bottom, names), _describe(like, names))
    if source.scale != target.scale:
        raise VariantError('%s: the grids have different scales (%s vs %s); a crop cannot align '
                         'them' % (what, source.scale, target.scale))
    offset = source.shift - target.shift
    if offset.denominator != 1 or offset < 0:
        raise VariantError('%s: the offset would be %s, not a non-negative integer; change the '
                         'padding or kernel sizes so the grids line up' % (what, offset))
    return int(offset)
