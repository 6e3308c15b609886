"""Registry entries are checked: an inconsistent variant is refused with its name and field."""
import dataclasses

import pytest

from caffe_fcn.nets import trunks
from caffe_fcn.nets.registry import INIT_KINDS, VARIANTS, Init, VariantError, get_variant
from nets_support import caffe


@pytest.mark.parametrize('change, message', [
    (dict(head='4s'), "head '4s' is not one of"),
    (dict(dataset='cityscapes'), "dataset 'cityscapes'"),
    (dict(trunk='resnet50'), "trunk 'resnet50'"),
    (dict(widths=(4, 4, 4)), 'widths for the vgg16 trunk must be 6 positive integers'),
    (dict(init=Init('imagenet', 'vgg16-fcn')), "init kind 'imagenet'"),
    (dict(data={}), 'data must describe the nets train and val'),
    (dict(fusion='early'), "fusion 'early' needs at least two inputs"),
])
def test_inconsistent_entries_are_refused_naming_the_variant(change, message):
    with pytest.raises(ValueError, match="variant 'voc-fcn8s': " + message):
        dataclasses.replace(get_variant('voc-fcn8s'), **change)


def test_late_fusion_is_only_built_for_32s():
    with pytest.raises(ValueError, match="'nyud-fcn32s-color-hha': late fusion .* 32s"):
        dataclasses.replace(get_variant('nyud-fcn32s-color-hha'), head='16s')


def test_alexnet_widths_must_split_into_two_groups():
    n = caffe.NetSpec()
    n.data = caffe.layers.Input(shape=dict(dim=[1, 3, 8, 8]))
    with pytest.raises(ValueError, match='conv1..conv5 widths must be even'):
        trunks.alexnet(n, n.data, widths=(3, 4, 4, 4, 4, 4))


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown variant 'voc-fcn4s'; known variants: .*voc-fcn8s"):
        get_variant('voc-fcn4s')


def test_every_init_names_a_known_kind_and_its_sources_exist():
    for v in VARIANTS.values():
        assert v.init.kind in INIT_KINDS and isinstance(v.init.sources, tuple)
        if v.init.kind == 'ilsvrc':
            assert v.init.sources == ('%s-fcn' % v.trunk,) and v.init.upstream == ()
        if v.init.kind == 'stage':
            (source,) = [get_variant(s) for s in v.init.upstream]
            assert (source.dataset, source.trunk, source.outputs) == (v.dataset, v.trunk, v.outputs)
        if v.init.kind == 'streams':
            sources = [get_variant(s) for s in v.init.upstream]
            assert [s.data[s.train_split].params['tops'][0] for s in sources] == \
                [i.name for i in v.inputs]


def test_an_init_with_the_wrong_number_of_sources_is_refused():
    with pytest.raises(VariantError, match="'voc-fcn8s': init 'stage' starts from one source, got voc-fcn32s, voc-fcn16s"):
        dataclasses.replace(get_variant('voc-fcn8s'), init=Init('stage', ('voc-fcn32s', 'voc-fcn16s')))
    with pytest.raises(VariantError, match="init 'streams' starts from one source per input, got nyud-fcn32s-color "):
        dataclasses.replace(get_variant('nyud-fcn32s-color-hha'), init=Init('streams', 'nyud-fcn32s-color'))
