"""Every variant's layers, in order, as listed in the reference sheet (fcn-reference.md section 7,
copied here by hand in its notation), and its solver and data settings."""
import ast

import pytest

from caffe_fcn.nets import build
from caffe_fcn.nets.registry import VARIANTS, get_variant
from nets_support import caffe

P = caffe.proto.caffe_pb2

VGG16 = """\
conv1_1:Convolution k3 s1 p100 n64
conv1_2:Convolution k3 s1 p1 n64
pool1:Pooling MAX k2 s2
conv2_1:Convolution k3 s1 p1 n128
conv2_2:Convolution k3 s1 p1 n128
pool2:Pooling MAX k2 s2
conv3_1:Convolution k3 s1 p1 n256
conv3_2:Convolution k3 s1 p1 n256
conv3_3:Convolution k3 s1 p1 n256
pool3:Pooling MAX k2 s2
conv4_1:Convolution k3 s1 p1 n512
conv4_2:Convolution k3 s1 p1 n512
conv4_3:Convolution k3 s1 p1 n512
pool4:Pooling MAX k2 s2
conv5_1:Convolution k3 s1 p1 n512
conv5_2:Convolution k3 s1 p1 n512
conv5_3:Convolution k3 s1 p1 n512
pool5:Pooling MAX k2 s2
fc6:Convolution k7 s1 p0 n4096
drop6:Dropout
fc7:Convolution k1 s1 p0 n4096
drop7:Dropout
"""
ALEXNET = """\
conv1:Convolution k11 s4 p100 n96
pool1:Pooling MAX k3 s2
norm1:LRN
conv2:Convolution k5 s1 p2 n256 g2
pool2:Pooling MAX k3 s2
norm2:LRN
conv3:Convolution k3 s1 p1 n384
conv4:Convolution k3 s1 p1 n384 g2
conv5:Convolution k3 s1 p1 n256 g2
pool5:Pooling MAX k3 s2
fc6:Convolution k6 s1 p0 n4096
drop6:Dropout
fc7:Convolution k1 s1 p0 n4096
drop7:Dropout
"""
# BVLC GoogLeNet's deploy.prototxt (Caffe's models/bvlc_googlenet), transcribed: the stem, then per
# inception module its 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5 and pool_proj widths; its average
# pooling, classifier and auxiliary classifiers are not part of the FCN.
GOOGLENET_STEM = """\
conv1/7x7_s2:Convolution k7 s2 p100 n64
pool1/3x3_s2:Pooling MAX k3 s2
pool1/norm1:LRN
conv2/3x3_reduce:Convolution k1 s1 p0 n64
conv2/3x3:Convolution k3 s1 p1 n192
conv2/norm2:LRN
pool2/3x3_s2:Pooling MAX k3 s2
"""
BVLC_INCEPTION = [('3a', 64, 96, 128, 16, 32, 32), ('3b', 128, 128, 192, 32, 96, 64),
                  ('4a', 192, 96, 208, 16, 48, 64), ('4b', 160, 112, 224, 24, 64, 64),
                  ('4c', 128, 128, 256, 24, 64, 64), ('4d', 112, 144, 288, 32, 64, 64),
                  ('4e', 256, 160, 320, 32, 128, 128), ('5a', 256, 160, 320, 32, 128, 128),
                  ('5b', 384, 192, 384, 48, 128, 128)]


def inception_listing(module, w1, w3r, w3, w5r, w5, wp):
    p = 'inception_%s/' % module
    return ''.join(line + '\n' for line in [
        p + '1x1:Convolution k1 s1 p0 n%d' % w1, p + '3x3_reduce:Convolution k1 s1 p0 n%d' % w3r,
        p + '3x3:Convolution k3 s1 p1 n%d' % w3, p + '5x5_reduce:Convolution k1 s1 p0 n%d' % w5r,
        p + '5x5:Convolution k5 s1 p2 n%d' % w5, p + 'pool:Pooling MAX k3 s1 p1',
        p + 'pool_proj:Convolution k1 s1 p0 n%d' % wp, p + 'output:Concat'])


GOOGLENET = GOOGLENET_STEM + ''.join(
    ('pool3/3x3_s2:Pooling MAX k3 s2\n' if m[0] == '4a' else 'pool4/3x3_s2:Pooling MAX k3 s2\n' if m[0] == '5a'
     else '') + inception_listing(*m) for m in BVLC_INCEPTION) + 'inception_5b/drop:Dropout\n'
GOOGLENET_HEAD = """\
score_fr:Convolution k1 s1 p0 n21
upscore:Deconvolution k63 s32 p0 n21 nobias
score:Crop axis2 off98
"""
HEAD_32S = """\
score_fr:Convolution k1 s1 p0 n{n}
upscore:Deconvolution k64 s32 p0 n{n} nobias
score:Crop axis2 off19
"""
HEAD_16S = """\
score_fr:Convolution k1 s1 p0 n{n}
upscore2:Deconvolution k4 s2 p0 n{n} nobias
score_pool4:Convolution k1 s1 p0 n{n}
score_pool4c:Crop axis2 off5
fuse_pool4:Eltwise
upscore16:Deconvolution k32 s16 p0 n{n} nobias
score:Crop axis2 off27
"""
HEAD_8S = """\
score_fr:Convolution k1 s1 p0 n{n}
upscore2:Deconvolution k4 s2 p0 n{n} nobias
score_pool4:Convolution k1 s1 p0 n{n}
score_pool4c:Crop axis2 off5
fuse_pool4:Eltwise
upscore_pool4:Deconvolution k4 s2 p0 n{n} nobias
score_pool3:Convolution k1 s1 p0 n{n}
score_pool3c:Crop axis2 off9
fuse_pool3:Eltwise
upscore8:Deconvolution k16 s8 p0 n{n} nobias
score:Crop axis2 off31
"""
HEAD_8S_ATONCE = """\
score_fr:Convolution k1 s1 p0 n21
upscore2:Deconvolution k4 s2 p0 n21 nobias
scale_pool4:Scale
score_pool4:Convolution k1 s1 p0 n21
score_pool4c:Crop axis2 off5
fuse_pool4:Eltwise
upscore_pool4:Deconvolution k4 s2 p0 n21 nobias
scale_pool3:Scale
score_pool3:Convolution k1 s1 p0 n21
score_pool3c:Crop axis2 off9
fuse_pool3:Eltwise
upscore8:Deconvolution k16 s8 p0 n21 nobias
score:Crop axis2 off31
"""
ALEXNET_HEAD = """\
score_fr:Convolution k1 s1 p0 n21
upscore:Deconvolution k63 s32 p0 n21 nobias
score:Crop axis2 off18
"""
LOSS = 'loss:SoftmaxWithLoss\n'


def two_heads(head):
    """SIFT Flow: the head twice, '_sem' (33 classes, loss 'loss') and '_geo' (3, 'loss_geo')."""
    def tagged(tag, n):
        lines = []
        for line in head.format(n=n).splitlines():
            name, rest = line.split(':')
            name = name[:-1] + tag + 'c' if name.endswith('c') and 'pool' in name else name + tag
            lines.append(name + ':' + rest + '\n')
        return ''.join(lines)
    return tagged('_sem', 33) + LOSS + tagged('_geo', 3) + 'loss_geo:SoftmaxWithLoss\n'


def stream(suffix):
    return ''.join(line.split(':')[0] + suffix + ':' + line.split(':')[1] + '\n'
                   for line in VGG16.splitlines())


SECTION_7 = {
    'voc-fcn32s': 'data:Python\n' + VGG16 + HEAD_32S.format(n=21) + LOSS,
    'voc-fcn16s': 'data:Python\n' + VGG16 + HEAD_16S.format(n=21) + LOSS,
    'voc-fcn8s': 'data:Python\n' + VGG16 + HEAD_8S.format(n=21) + LOSS,
    'voc-fcn8s-atonce': 'data:Python\n' + VGG16 + HEAD_8S_ATONCE + LOSS,
    'voc-fcn-alexnet': 'data:Python\n' + ALEXNET + ALEXNET_HEAD + LOSS,
    'nyud-fcn32s-color': 'data:Python\n' + VGG16 + HEAD_32S.format(n=40) + LOSS,
    'nyud-fcn32s-hha': 'data:Python\n' + VGG16 + HEAD_32S.format(n=40) + LOSS,
    'nyud-fcn32s-color-d': 'color:Python\ndata:Concat\n'
                           + VGG16.replace('conv1_1:', 'conv1_1_bgrd:')
                           + HEAD_32S.format(n=40) + LOSS,
    'nyud-fcn32s-color-hha': 'color:Python\n' + stream('color')
                             + 'score_frcolor:Convolution k1 s1 p0 n40\n' + stream('hha')
                             + 'score_frhha:Convolution k1 s1 p0 n40\nscore_fused:Eltwise\n'
                             + HEAD_32S.format(n=40).split('\n', 1)[1] + LOSS,
    'siftflow-fcn32s': 'data:Python\n' + VGG16 + two_heads(HEAD_32S),
    'siftflow-fcn16s': 'data:Python\n' + VGG16 + two_heads(HEAD_16S),
    'siftflow-fcn8s': 'data:Python\n' + VGG16 + two_heads(HEAD_8S),
    'pascalcontext-fcn32s': 'data:Python\n' + VGG16 + HEAD_32S.format(n=60) + LOSS,
    'pascalcontext-fcn16s': 'data:Python\n' + VGG16 + HEAD_16S.format(n=60) + LOSS,
    'pascalcontext-fcn8s': 'data:Python\n' + VGG16 + HEAD_8S.format(n=60) + LOSS,
}


def notation(layer):
    """A layer in section 7's notation: name:Type kK sS pP nN [gG] [nobias] (ReLUs omitted)."""
    text = '%s:%s' % (layer.name, layer.type)
    if layer.type in ('Convolution', 'Deconvolution'):
        c = layer.convolution_param
        text += ' k%d s%d p%d n%d' % (c.kernel_size[0], c.stride[0] if c.stride else 1,
                                     c.pad[0] if c.pad else 0, c.num_output)
        text += ' g%d' % c.group if c.group != 1 else ''
        text += ' nobias' if not c.bias_term else ''
    elif layer.type == 'Pooling':
        p = layer.pooling_param
        text += ' %s k%d s%d' % (P.PoolingParameter.PoolMethod.Name(p.pool), p.kernel_size,
                                 p.stride)
        text += ' p%d' % p.pad if p.pad else ''
    elif layer.type == 'Crop':
        text += ' axis%d off%d' % (layer.crop_param.axis, layer.crop_param.offset[0])
    return text


def listing(proto):
    return ''.join(notation(l) + '\n' for l in proto.layer if l.type != 'ReLU')


# The paper's nets that the reference release lacks: FCN-32s-fixed is FCN-32s with a frozen trunk;
# FCN-GoogLeNet is BVLC GoogLeNet's trunk with a 32s head (the crop offset derived: 98).
PAPER = {
    'voc-fcn32s-fixed': SECTION_7['voc-fcn32s'],
    'voc-fcn-googlenet': 'data:Python\n' + GOOGLENET + GOOGLENET_HEAD + LOSS,
}
LISTINGS = {**SECTION_7, **PAPER}


def test_the_registry_holds_the_sheets_fifteen_variants_the_papers_and_no_unlisted_one():
    assert sorted(VARIANTS) == sorted(LISTINGS)


@pytest.mark.parametrize('name', sorted(LISTINGS))
def test_training_net_layers_match_section_7_or_the_paper(name):
    v = get_variant(name)
    assert listing(build.net_proto(v, v.train_split)) == LISTINGS[name]


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_every_relu_follows_its_layer_in_place(name):
    v = get_variant(name)
    proto = build.net_proto(v, v.train_split)
    for before, layer in zip(proto.layer, proto.layer[1:]):
        if layer.type == 'ReLU':
            assert before.type == 'Convolution'
            assert list(layer.bottom) == list(layer.top) == [before.top[0]]
            assert layer.name.startswith('relu') or '/relu_' in layer.name  # GoogLeNet: conv1/relu_7x7


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_testing_net_differs_only_in_the_data_split(name):
    v = get_variant(name)
    train, test = build.net_proto(v, v.train_split), build.net_proto(v, v.test_split)
    for a, b in zip(train.layer, test.layer):
        if a.type == 'Python':
            pa, pb = (ast.literal_eval(l.python_param.param_str) for l in (a, b))
            assert (pa['split'], pb['split']) == (v.data[v.train_split].params['split'],
                                                  v.data[v.test_split].params['split'])
        else:
            assert a == b
    assert len(train.layer) == len(test.layer)


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_deploy_net_is_the_training_net_with_inputs_and_without_dropout_and_loss(name):
    v = get_variant(name)
    train, deploy = build.net_proto(v, v.train_split), build.net_proto(v, 'deploy')
    kept = [l for l in train.layer if l.type not in ('Python', 'Dropout', 'SoftmaxWithLoss')]
    inputs = [l for l in deploy.layer if l.type == 'Input']
    assert deploy.layer[len(inputs):] == kept
    assert [l.top[0] for l in inputs] == [i.name for i in v.inputs]
    assert [list(l.input_param.shape[0].dim) for l in inputs] == \
        [[1, i.channels, 500, 500] for i in v.inputs]
    if len(inputs) == 1:
        assert inputs[0].name == 'input'


def test_deploy_voc_fcn8s_has_the_reference_47_layers():
    assert len(build.net_proto(get_variant('voc-fcn8s'), 'deploy').layer) == 47


# The param specs the reference writes (section 1 of the sheet), as (lr_mult, decay_mult) pairs
# with None for a field left unset: VGG16's trunk and every score layer carry the 1/1, 2/0 pair;
# FCN-AlexNet's trunk carries none (Caffe's defaults); deconvolutions and the at-once Scale
# layers a single lr_mult 0; every other layer none. FCN-32s-fixed's trunk learns nothing:
# lr_mult 0 for weights and bias (a single spec would leave the bias at Caffe's default 1).
PAIR = [(1, 1), (2, 0)]
FIXED_SPEC = [(0, None)]
TRUNK_NAMES = {trunk: [line.split(':')[0] for line in listing.splitlines()]
               for trunk, listing in (('vgg16', VGG16), ('alexnet', ALEXNET), ('googlenet', GOOGLENET))}
TRUNK_SPECS = {'vgg16': PAIR, 'alexnet': [], 'googlenet': PAIR}  # BVLC GoogLeNet's train_val: the pair
FROZEN_SPECS = [(0, 0), (0, 0)]


def written_specs(layer):
    return [(p.lr_mult if p.HasField('lr_mult') else None,
             p.decay_mult if p.HasField('decay_mult') else None) for p in layer.param]


def reference_specs(variant, layer):
    """The reference's param specs of `layer` of `variant`, from its name and type."""
    trunk_layers = set(TRUNK_NAMES[variant.trunk]) | {'conv1_1_bgrd'}
    trunk_layers |= {name + i.name for name in trunk_layers for i in variant.inputs}
    if layer.name in trunk_layers and layer.type == 'Convolution':
        return FROZEN_SPECS if variant.name.endswith('-fixed') else TRUNK_SPECS[variant.trunk]
    if layer.name.startswith('score_') and layer.type == 'Convolution':
        return PAIR
    if layer.type in ('Deconvolution', 'Scale'):
        return FIXED_SPEC
    return []


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_every_layer_has_the_reference_param_specs(name):
    v = get_variant(name)
    for net in v.nets:
        for layer in build.net_proto(v, net).layer:
            assert written_specs(layer) == reference_specs(v, layer), (net, layer.name)


def test_fcn_alexnet_trunk_carries_no_param_specs_as_the_reference_net_py():
    proto = build.net_proto(get_variant('voc-fcn-alexnet'), 'train')
    specs = {layer.name: written_specs(layer) for layer in proto.layer}
    assert all(specs[name] == [] for name in TRUNK_NAMES['alexnet'])
    assert specs['score_fr'] == PAIR and specs['upscore'] == FIXED_SPEC


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_learned_layers_have_no_filler_and_the_reference_loss(name):
    v = get_variant(name)
    for layer in build.net_proto(v, v.train_split).layer:
        if layer.type == 'Convolution':
            assert not layer.convolution_param.HasField('weight_filler')
        if layer.type == 'Deconvolution':
            assert not layer.convolution_param.bias_term
        if layer.type == 'Scale':
            assert layer.scale_param.filler.value == pytest.approx(
                {'scale_pool4': 0.01, 'scale_pool3': 1e-4}[layer.name])
        if layer.type == 'SoftmaxWithLoss':
            assert layer.loss_param.ignore_label == 255
            assert layer.loss_param.normalize == (v.trunk in ('alexnet', 'googlenet'))
        if layer.type == 'Eltwise' and layer.name == 'score_fused':
            assert list(layer.eltwise_param.coeff) == [0.5, 0.5]


# Section 7's solvers: base_lr, momentum, iter_size, max_iter, test_iter, snapshot (None: unset).
SOLVERS = {
    'voc-fcn32s': (1e-10, 0.99, 1, 100000, 736, 4000),
    'voc-fcn32s-fixed': (1e-10, 0.99, 1, 100000, 736, 4000),
    'voc-fcn16s': (1e-12, 0.99, 1, 100000, 736, 4000),
    'voc-fcn8s': (1e-14, 0.99, 1, 100000, 736, 4000),
    'voc-fcn8s-atonce': (1e-10, 0.99, 1, 300000, 736, 4000),
    'voc-fcn-alexnet': (1e-4, 0.9, 20, 100000, 736, 4000),
    'voc-fcn-googlenet': (5e-5, 0.9, 20, 100000, 736, 4000),
    'nyud-fcn32s-color': (1e-10, 0.99, 1, 300000, 654, 2000),
    'nyud-fcn32s-hha': (1e-10, 0.99, 1, 300000, 654, 2000),
    'nyud-fcn32s-color-d': (1e-10, 0.99, 1, 300000, 654, 2000),
    'nyud-fcn32s-color-hha': (1e-12, 0.99, 1, 300000, 654, 2000),
    'siftflow-fcn32s': (1e-10, 0.99, 1, 300000, 200, None),
    'siftflow-fcn16s': (1e-12, 0.99, 1, 300000, 200, None),
    'siftflow-fcn8s': (1e-12, 0.99, 1, 300000, 200, None),
    'pascalcontext-fcn32s': (1e-10, 0.99, 1, 300000, 5105, 4000),
    'pascalcontext-fcn16s': (1e-12, 0.99, 1, 300000, 5105, 4000),
    'pascalcontext-fcn8s': (1e-14, 0.99, 1, 300000, 5105, 4000),
}
# Section 7's schedules: rounds x steps.
SCHEDULES = {'voc': (25, 4000), 'nyud': (50, 2000), 'siftflow': (50, 2000),
             'context': (50, 8000)}


@pytest.mark.parametrize('name', sorted(SOLVERS))
def test_solver_settings_match_section_7(name):
    v = get_variant(name)
    s = build.solver_proto(v)
    base_lr, momentum, iter_size, max_iter, test_iter, snapshot = SOLVERS[name]
    assert (s.base_lr, s.momentum, s.iter_size, s.max_iter, list(s.test_iter)) == (
        pytest.approx(base_lr), pytest.approx(momentum), iter_size, max_iter, [test_iter])
    assert (s.snapshot if s.HasField('snapshot') else None) == snapshot
    decay = 2e-4 if v.trunk == 'googlenet' else 5e-4  # BVLC GoogLeNet's own, see recipes.py
    assert (s.lr_policy, s.weight_decay, s.average_loss, s.display) == (
        'fixed', pytest.approx(decay), 20, 20)
    assert not s.test_initialization and s.test_interval > s.max_iter
    assert s.train_net == 'nets/%s/%s.prototxt' % (name, v.train_split)
    assert list(s.test_net) == ['nets/%s/%s.prototxt' % (name, v.test_split)]
    assert s.snapshot_prefix == 'runs/%s/snapshots/%s' % (name, name)
    rounds = 75 if name == 'voc-fcn8s-atonce' else SCHEDULES[v.dataset][0]
    assert (v.rounds, v.steps) == (rounds, SCHEDULES[v.dataset][1])


# Data layers: module, class and params per split (paths relative to the repository root).
VOC_MEAN = (104.00699, 116.66877, 122.67892)
DATA = {
    'voc': {'train': ('caffe_fcn.data.sbd', 'SBDSegDataLayer', dict(
                sbd_dir='data/sbd/dataset', split='train', mean=VOC_MEAN, seed=1337)),
            'val': ('caffe_fcn.data.voc', 'VOCSegDataLayer', dict(
                voc_dir='data/pascal/VOC2011', split='seg11valid', mean=VOC_MEAN, seed=1337))},
    'siftflow': {s: ('caffe_fcn.data.siftflow', 'SIFTFlowSegDataLayer', dict(
        siftflow_dir='data/sift-flow', split=s, seed=1337)) for s in ('trainval', 'test')},
    'context': {s: ('caffe_fcn.data.context', 'PASCALContextSegDataLayer', dict(
        context_dir='data/pascal-context', voc_dir='data/pascal/VOC2010', split=s, seed=1337))
        for s in ('train', 'val')},
}
NYUD_TOPS = {'nyud-fcn32s-color': (['color', 'label'], ['data', 'label']),
             'nyud-fcn32s-hha': (['hha', 'label'], ['data', 'label']),
             'nyud-fcn32s-color-d': (['color', 'depth', 'label'], ['color', 'depth', 'label']),
             'nyud-fcn32s-color-hha': (['color', 'hha', 'label'], ['color', 'hha', 'label'])}


@pytest.mark.parametrize('name', sorted(VARIANTS))
def test_data_layers_read_the_reference_splits_from_repository_paths(name):
    v = get_variant(name)
    for net in (v.train_split, v.test_split):
        layer = build.net_proto(v, net).layer[0]
        params = ast.literal_eval(layer.python_param.param_str)
        if v.dataset == 'nyud':
            modalities, tops = NYUD_TOPS[name]
            expected = ('caffe_fcn.data.nyud', 'NYUDSegDataLayer', dict(
                nyud_dir='data/nyud', split=net, tops=modalities, seed=1337))
        else:
            expected = DATA[v.dataset][net]
            tops = ['data', 'sem', 'geo'] if v.dataset == 'siftflow' else ['data', 'label']
        assert (layer.python_param.module, layer.python_param.layer, params) == expected
        assert list(layer.top) == tops
        assert not any(str(p).startswith(('/', '..')) for p in params.values())


def extent(proto, top):
    """(receptive field in input pixels, stride, parameter layers on the deepest path) of blob `top`:
    rf grows by (k - 1) x the stride so far at each convolution or pooling; Concat takes the largest."""
    seen = {}
    for layer in proto.layer:
        if layer.type in ('Input', 'Python'):
            for t in layer.top:
                seen[t] = (1, 1, 0)
            continue
        ins = [seen[b] for b in layer.bottom if b in seen]
        if not ins or layer.type in ('Deconvolution', 'Crop', 'SoftmaxWithLoss', 'Softmax'):
            continue
        size, jump, depth = max(i[0] for i in ins), ins[0][1], max(i[2] for i in ins)
        if layer.type == 'Convolution':
            c = layer.convolution_param
            k, s = c.kernel_size[0], c.stride[0] if c.stride else 1
            size, jump, depth = size + (k - 1) * jump, jump * s, depth + 1
        elif layer.type == 'Pooling':
            p = layer.pooling_param
            size, jump = size + (p.kernel_size - 1) * jump, jump * p.stride
        elif layer.type == 'InnerProduct':
            depth += 1
        seen[layer.top[0]] = (size, jump, depth)
    return seen[top]


@pytest.mark.parametrize('name, rf, depth', [('voc-fcn-alexnet', 355, 8), ('voc-fcn32s', 404, 16),
                                             ('voc-fcn-googlenet', 907 - 6 * 32, 22)])
def test_cvpr_table_1_receptive_field_depth_and_stride(name, rf, depth):
    """CVPR Table 1: receptive field 355 / 404 / 907, 8 / 16 / 22 conv layers, max stride 32. FCN-
    GoogLeNet discards the 7x7 average pooling over its stride-32 grid that the 907 counts (it adds
    6 x 32 pixels): its score_fr sees 715; the classifier itself sees 907 (below)."""
    assert extent(build.net_proto(get_variant(name), 'deploy'), 'score_fr') == (rf, 32, depth)


def test_bvlc_googlenet_classifier_sees_907_pixels_through_22_layers():
    from caffe_fcn.nets import ilsvrc
    proto = ilsvrc.classifier('googlenet')
    assert extent(proto, 'pool5/7x7_s1')[:2] == (907, 32)
    assert extent(proto, 'loss3/classifier')[2] == 22
