"""Images too large for one Caffe forward, segmented in overlapping tiles.

Caffe refuses any blob of more than 2^31 - 1 elements with a CHECK that aborts the process, and each
convolution keeps an im2col buffer of (input channels / group x kernel area) x (output pixels) floats.
In full-size FCN-8s the first to pass the limit is conv1_2's buffer, 576 x (H + 198) x (W + 198):
a 2000 x 1500 photo needs 2.15e9. `largest_count` finds such sizes from the deploy net's definition
(the shape rules of Caffe's layers, checked against Caffe's own reshape in the tests) before Caffe
sees them.

Such an image is segmented in square tiles whose largest blob fits. A tile starts on a multiple of the
net's stride (32), so every layer's grid in it is the whole image's grid (the net's coordinate maps
anchor output pixel (y, x) at input (y, x), caffe_fcn.nets.coord_map); tiles overlap by twice a margin
of half the receptive field of a score pixel (and a stride), and each score pixel is taken from the tile in which it
lies deepest. Its receptive field then lies inside that tile, so it is computed from the same pixels
as in one forward of the whole image: the tiled scores equal the untiled ones (to float rounding),
which the tests check on an image that fits.
"""
import math

from caffe_fcn.errors import UserError

BLOB_LIMIT = 2 ** 31 - 1  # Caffe's Blob::Reshape: count <= INT_MAX
PASS_THROUGH = ('ReLU', 'Dropout', 'LRN', 'Scale', 'Power', 'Sigmoid', 'TanH', 'BatchNorm', 'Split', 'Softmax')


class TilingError(UserError, ValueError):
    pass


def _spatial(param, name, default):
    """Caffe's per-axis (h, w) values of a convolution or pooling parameter `name` (kernel, stride, pad)."""
    h, w = getattr(param, name + '_h', 0), getattr(param, name + '_w', 0)
    if h or w:
        return h, w
    field = getattr(param, name + '_size' if name == 'kernel' and hasattr(param, 'kernel_size') else name)
    values = list(field) if hasattr(field, '__len__') else ([field] if field else [])
    if not values:
        return default, default
    return (values[0], values[-1])


def _geometry(proto):
    """Yield (layer, kernel (h, w), stride (h, w), pad (h, w), dilation (h, w)) for sized layers."""
    for layer in proto.layer:
        if layer.type in ('Convolution', 'Deconvolution'):
            p = layer.convolution_param
            dilation = (list(p.dilation) or [1])
            yield layer, _spatial(p, 'kernel', 1), _spatial(p, 'stride', 1), _spatial(p, 'pad', 0), \
                (dilation[0], dilation[-1])
        elif layer.type == 'Pooling':
            p = layer.pooling_param
            yield layer, _spatial(p, 'kernel', 1), _spatial(p, 'stride', 1), _spatial(p, 'pad', 0), (1, 1)
        else:
            yield layer, None, None, None, None


def shapes(proto, height, width):
    """({blob: (channels, height, width)}, {conv layer: im2col buffer count}) of a deploy NetParameter
    (Input layers) reshaped to height x width, by Caffe's shape rules."""
    blobs, buffers = {}, {}
    for layer, kernel, stride, pad, dilation in _geometry(proto):
        bottoms = [blobs[b] for b in layer.bottom]
        if layer.type == 'Input':
            for top, shape in zip(layer.top, layer.input_param.shape):
                blobs[top] = (shape.dim[1], height, width)
            continue
        if layer.type in ('Convolution', 'Deconvolution'):
            channels, h, w = bottoms[0]
            p = layer.convolution_param
            span = [dilation[i] * (kernel[i] - 1) + 1 for i in (0, 1)]
            if layer.type == 'Convolution':
                out = [(size + 2 * pad[i] - span[i]) // stride[i] + 1 for i, size in enumerate((h, w))]
                buffers[layer.name] = channels // p.group * kernel[0] * kernel[1] * out[0] * out[1]
            else:
                out = [stride[i] * (size - 1) + span[i] - 2 * pad[i] for i, size in enumerate((h, w))]
                buffers[layer.name] = p.num_output // p.group * kernel[0] * kernel[1] * h * w
            top = (p.num_output, out[0], out[1])
        elif layer.type == 'Pooling':
            channels, h, w = bottoms[0]
            out = []
            for i, size in enumerate((h, w)):
                n = int(math.ceil((size + 2 * pad[i] - kernel[i]) / float(stride[i]))) + 1
                if pad[i] and (n - 1) * stride[i] >= size + pad[i]:
                    n -= 1
                out.append(n)
            top = (channels, out[0], out[1])
        elif layer.type == 'Crop':
            axis = layer.crop_param.axis if layer.crop_param.HasField('axis') else 2
            top = bottoms[0][:axis - 1] + bottoms[1][axis - 1:]
        elif layer.type == 'Eltwise' or layer.type in PASS_THROUGH:
            top = bottoms[0]
        elif layer.type == 'Concat':
            top = (sum(b[0] for b in bottoms),) + bottoms[0][1:]
        else:
            raise TilingError('layer %r of type %r has no shape rule here; cannot size the net for tiling'
                              % (layer.name, layer.type))
        for name in layer.top:
            blobs[name] = top
    return blobs, buffers


def largest_count(proto, height, width):
    """(elements, what) of the largest blob or im2col buffer of the net at height x width."""
    blobs, buffers = shapes(proto, height, width)
    counts = [(c * h * w, 'blob %r' % name) for name, (c, h, w) in blobs.items()]
    counts += [(count, 'the im2col buffer of %r' % name) for name, count in buffers.items()]
    return max(counts)


def score_field(proto, score):
    """(receptive field in input pixels of one pixel of blob `score`, the net's coarsest stride)."""
    field, jump = {}, {}
    for layer, kernel, stride, _, dilation in _geometry(proto):
        if layer.type == 'Input':
            for top in layer.top:
                field[top], jump[top] = 1, 1
            continue
        bottom = layer.bottom[0]
        if layer.type == 'Convolution' or layer.type == 'Pooling':
            span = max(dilation[i] * (kernel[i] - 1) + 1 for i in (0, 1))
            f, j = field[bottom] + (span - 1) * jump[bottom], jump[bottom] * max(stride)
        elif layer.type == 'Deconvolution':
            cells = max(int(math.ceil(kernel[i] / float(stride[i]))) for i in (0, 1))
            f, j = field[bottom] + (cells - 1) * jump[bottom], jump[bottom] / float(max(stride))
        elif layer.type in ('Eltwise', 'Concat'):
            f, j = max(field[b] for b in layer.bottom), jump[bottom]
        else:
            f, j = field[bottom], jump[bottom]
        for top in layer.top:
            field[top], jump[top] = f, j
    return field[score], int(max(jump.values()))


class Plan:
    """Where the tiles of a height x width image lie: along each axis, (tile start, tile end, first and
    end of the output rows or columns taken from it)."""

    def __init__(self, proto, scores, height, width, limit=BLOB_LIMIT):
        field = max(score_field(proto, s)[0] for s in scores)
        self.stride = score_field(proto, scores[0])[1]
        self.margin = _ceil_to(int(math.ceil(field / 2.0)) + self.stride, self.stride)  # a stride to spare
        count, what = largest_count(proto, height, width)
        self.whole = count <= limit
        self.tile = self._largest_tile(proto, limit)
        if not self.whole and self.tile - 2 * self.margin < self.stride:
            raise TilingError('the net\'s receptive field (%d pixels) leaves no room for tiles whose blobs fit '
                              'Caffe\'s limit of %d elements: shrink the image below %d x %d'
                              % (field, limit, height, width))
        self.count, self.what = count, what
        self.rows = [(0, height, 0, height)] if self.whole else self._axis(height)
        self.columns = [(0, width, 0, width)] if self.whole else self._axis(width)

    def _largest_tile(self, proto, limit):
        """The largest square side, a stride multiple, whose blobs fit `limit` (0 if none does)."""
        low, high = 0, self.stride
        while largest_count(proto, high, high)[0] <= limit:
            low, high = high, high * 2
        while high - low > self.stride:
            middle = _ceil_to((low + high) // 2, self.stride)
            if largest_count(proto, middle, middle)[0] <= limit:
                low = middle
            else:
                high = middle
        return low

    def _axis(self, size):
        step = self.tile - 2 * self.margin
        starts = [0]
        while starts[-1] + self.tile < size:
            starts.append(starts[-1] + step)
        tiles = []
        for index, start in enumerate(starts):
            end = size if index == len(starts) - 1 else start + self.tile
            keep_from = 0 if index == 0 else (start + tiles[-1][1]) // 2
            tiles.append((start, end, keep_from, size))
            if index:
                previous = tiles[-2]
                tiles[-2] = previous[:3] + (keep_from,)
        return tiles

    @property
    def tiles(self):
        """[((y0, y1, x0, x1) of a tile, (y0, y1, x0, x1) of the output taken from it)]."""
        return [((r[0], r[1], c[0], c[1]), (r[2], r[3], c[2], c[3])) for r in self.rows for c in self.columns]


def _ceil_to(value, multiple):
    return int(math.ceil(value / float(multiple))) * multiple
