"""A net on one screen, the way the reference's generators read: one line per layer with its type,
kernel/stride/pad, outputs and crop offset, the in-place ReLU and Dropout that follow it folded into
its line, and its inputs where they are not simply the line above (skips, fusions, crops). A
GoogLeNet inception module is one line, `Inception(1x1 | 3x3 reduce>3x3 | 5x5 reduce>5x5 | pool>proj)`
with the widths of its branches and its concatenated outputs.

    python -m caffe_fcn.nets voc-fcn32s --layers [--net deploy]
"""
COLUMNS = ('layer', 'type', 'k', 's', 'p', 'outputs', 'crop', 'inputs', 'then')
FOLDED = ('ReLU', 'Dropout')


def _geometry(layer):
    """(kernel, stride, pad, outputs) as text, blank where the layer has none."""
    if layer.type in ('Convolution', 'Deconvolution'):
        c = layer.convolution_param
        return (str(c.kernel_size[0]), str(c.stride[0] if c.stride else 1), str(c.pad[0] if c.pad else 0),
                str(c.num_output))
    if layer.type == 'Pooling':
        p = layer.pooling_param
        return str(p.kernel_size), str(p.stride), str(p.pad), ''
    if layer.type == 'InnerProduct':
        return '', '', '', str(layer.inner_product_param.num_output)
    return '', '', '', ''


def _module(layer):
    """'inception_3a' for the layers of an inception module (names inception_3a/...), else None."""
    prefix, slash, _ = layer.name.partition('/')
    return prefix if slash and prefix.startswith('inception_') else None


def _inception_row(module, layers, previous_top):
    """The one row of an inception module: its branch widths and concatenated outputs."""
    width = {layer.name[len(module) + 1:]: layer.convolution_param.num_output
             for layer in layers if layer.type == 'Convolution'}
    branches = '%(1x1)d | %(3x3_reduce)d>%(3x3)d | %(5x5_reduce)d>%(5x5)d | pool>%(pool_proj)d' % width
    first = list(layers[0].bottom)
    return dict(layer=module, type='Inception(%s)' % branches, k='', s='', p='',
                outputs=str(sum(width[b] for b in ('1x1', '3x3', '5x5', 'pool_proj'))), crop='',
                inputs='' if first == [previous_top] else ', '.join(first), then='relu')


def rows(proto):
    """One dict per listed layer (keys: COLUMNS), in net order."""
    listed, previous_top, module = [], None, []
    for layer in proto.layer:
        if module or (_module(layer) and layer.type != 'Dropout'):
            module.append(layer)
            if layer.type == 'Concat' and layer.name == _module(layer) + '/output':
                listed.append(_inception_row(_module(layer), module, previous_top))
                previous_top, module = layer.top[0], []
            continue
        if layer.type in FOLDED and listed and list(layer.bottom) == list(layer.top) == [previous_top]:
            listed[-1]['then'] += (' ' if listed[-1]['then'] else '') + layer.type.lower()
            continue
        kernel, stride, pad, outputs = _geometry(layer)
        kind = layer.type
        if kind == 'Pooling':
            kind += ' ' + ('MAX', 'AVE', 'STOCHASTIC')[layer.pooling_param.pool]
        inputs = list(layer.bottom)
        if kind in ('Python', 'Input'):
            inputs = ['-> ' + ', '.join(layer.top)]
        elif inputs == [previous_top]:
            inputs = []
        listed.append(dict(layer=layer.name, type=kind, k=kernel, s=stride, p=pad, outputs=outputs,
                           crop=str(layer.crop_param.offset[0]) if kind == 'Crop' else '',
                           inputs=', '.join(inputs), then=''))
        previous_top = layer.top[0] if layer.top else None
    return listed


def layer_table(proto, title):
    """The listing as text: a title line, a header and one line per listed layer."""
    table = [dict(zip(COLUMNS, COLUMNS))] + rows(proto)
    widths = {c: max(len(row[c]) for row in table) for c in COLUMNS}
    numeric = ('k', 's', 'p', 'outputs', 'crop')
    lines = ['  '.join(row[c].rjust(widths[c]) if c in numeric else row[c].ljust(widths[c]) for c in COLUMNS).rstrip()
             for row in table]
    return '\n'.join([title] + lines) + '\n'
