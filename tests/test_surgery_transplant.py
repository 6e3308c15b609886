"""transplant, expand_score and add_depth_channel on real Caffe nets, against hand-computed layouts."""
import numpy as np
import pytest

from caffe_fcn.backend import net_from_proto
from caffe_fcn.backend.weights import WeightsError, load_weights, read_weights
from caffe_fcn.surgery import SurgeryError, add_depth_channel, expand_score, transplant
from surgery_nets import L, caffe, randomize


def classifier(fc6_form='ip', score_outputs=None, suffix='', bias=True):
    """conv1 (3x3) on a 2x3x3 input, then fc6 as InnerProduct or as the equivalent 3x3 Convolution."""
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 2, 5, 5]))
    n['conv1' + suffix] = L.Convolution(n.data, num_output=2, kernel_size=3, bias_term=bias)
    if fc6_form == 'ip':
        n['fc6' + suffix] = L.InnerProduct(n['conv1' + suffix], num_output=6)
    else:
        n['fc6' + suffix] = L.Convolution(n['conv1' + suffix], num_output=6, kernel_size=3)
    if score_outputs:
        n['score_fr' + suffix] = L.Convolution(n['fc6' + suffix], num_output=score_outputs, kernel_size=1)
    return net_from_proto(n)


def test_fc_weight_lands_in_conv_weight_in_row_major_order():
    source, target = classifier('ip'), classifier('conv')
    randomize(source, 0)
    report = transplant(target, source)
    fc = source.params['fc6'][0].data  # 6 x (2*3*3)
    conv = target.params['fc6'][0].data  # 6 x 2 x 3 x 3
    for o, c, h, w in [(0, 0, 0, 0), (5, 1, 2, 2), (3, 1, 0, 2), (2, 0, 2, 1)]:
        assert conv[o, c, h, w] == fc[o, c * 9 + h * 3 + w]
    np.testing.assert_array_equal(target.params['fc6'][1].data, source.params['fc6'][1].data)
    assert report.reshaped == ['fc6'] and report.copied == ['conv1']


def test_report_lists_dropped_source_layers_and_untouched_target_layers():
    source = classifier('ip')
    target = classifier('conv', score_outputs=4)
    randomize(source, 1)
    report = transplant(target, source)
    assert report.copied == ['conv1'] and report.reshaped == ['fc6']
    assert report.dropped == [] and report.untouched == ['score_fr']
    np.testing.assert_array_equal(target.params['score_fr'][0].data, 0)

    back = classifier('conv')
    report = transplant(back, target)
    assert report.dropped == ['score_fr'] and report.untouched == []


def test_suffix_sends_each_layer_to_its_suffixed_twin():
    source, target = classifier('conv'), classifier('conv', suffix='color')
    randomize(source, 2)
    report = transplant(target, source, suffix='color')
    assert report.copied == ['conv1color', 'fc6color'] and report.dropped == []
    np.testing.assert_array_equal(target.params['fc6color'][0].data, source.params['fc6'][0].data)


def test_mismatched_blob_is_an_error_naming_the_layer_and_both_shapes_and_nothing_is_copied():
    source = classifier('conv')
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 2, 5, 5]))
    n.conv1 = L.Convolution(n.data, num_output=2, kernel_size=3)
    n.fc6 = L.Convolution(n.conv1, num_output=6, kernel_size=2)  # 6x2x2x2: 48 elements, not 108
    target = net_from_proto(n)
    randomize(source, 3)
    with pytest.raises(SurgeryError, match=r"weights of layer 'fc6': source shape \(6, 2, 3, 3\) does not fit "
                                           r"target 'fc6' shape \(6, 2, 2, 2\)"):
        transplant(target, source)
    np.testing.assert_array_equal(target.params['conv1'][0].data, 0)


def test_equal_count_but_different_conv_shape_is_refused():
    source = {'fc6': [np.zeros((6, 2, 3, 3), np.float32), np.zeros(6, np.float32)]}
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 18, 1, 1]))
    n.fc6 = L.Convolution(n.data, num_output=6, kernel_size=1)  # 6 x 18 x 1 x 1: same count, other layout
    with pytest.raises(SurgeryError, match="layer 'fc6'"):
        transplant(net_from_proto(n), source)


def test_missing_bias_is_an_error_naming_the_layer():
    with pytest.raises(SurgeryError, match="'conv1' has 2 parameter blobs in the source but 'conv1' has 1"):
        transplant(classifier('conv', bias=False), classifier('conv'))


def test_expand_score_copies_old_classes_into_first_outputs_and_keeps_the_rest():
    old, new = classifier('conv', score_outputs=3), classifier('conv', score_outputs=5)
    randomize(old, 4)
    new.params['score_fr'][0].data[...] = 9
    new.params['score_fr'][1].data[...] = 8
    expand_score(new, 'score_fr', old, 'score_fr')
    np.testing.assert_array_equal(new.params['score_fr'][0].data[:3], old.params['score_fr'][0].data)
    np.testing.assert_array_equal(new.params['score_fr'][1].data[:3], old.params['score_fr'][1].data)
    np.testing.assert_array_equal(new.params['score_fr'][0].data[3:], 9)
    np.testing.assert_array_equal(new.params['score_fr'][1].data[3:], 8)


def test_expand_score_refuses_a_narrower_target():
    with pytest.raises(SurgeryError, match="'score_fr' weights"):
        expand_score(classifier('conv', score_outputs=2), 'score_fr', classifier('conv', score_outputs=3), 'score_fr')


def test_depth_channel_is_mean_of_colour_filters():
    source = {'conv1_1': [np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2),
                          np.array([1, 2], np.float32)]}
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 4, 4, 4]))
    n.conv1_1_bgrd = L.Convolution(n.data, num_output=2, kernel_size=2)
    net = net_from_proto(n)
    add_depth_channel(net, 'conv1_1_bgrd', source, 'conv1_1')
    weights = net.params['conv1_1_bgrd'][0].data
    np.testing.assert_array_equal(weights[:, :3], source['conv1_1'][0])
    # filter 0 holds 0..11 as channel-major 3x2x2: channel means are 4..7
    np.testing.assert_array_equal(weights[0, 3], [[4, 5], [6, 7]])
    np.testing.assert_array_equal(net.params['conv1_1_bgrd'][1].data, [1, 2])
    with pytest.raises(SurgeryError, match='exactly one input channel more'):
        add_depth_channel(net, 'conv1_1_bgrd', {'conv1_1': [np.zeros((2, 2, 2, 2)), np.zeros(2)]}, 'conv1_1')


def test_caffemodel_written_by_caffe_reads_back_blob_for_blob(tmp_path):
    net = classifier('conv', score_outputs=4)
    randomize(net, 5)
    path = str(tmp_path / 'net.caffemodel')
    net.save(path)
    params = read_weights(path)
    assert list(params) == ['conv1', 'fc6', 'score_fr']
    for name in params:
        for read, blob in zip(params[name], net.params[name]):
            np.testing.assert_array_equal(read, blob.data)
    fresh = classifier('conv', score_outputs=4)
    assert transplant(fresh, params).copied == ['conv1', 'fc6', 'score_fr']
    np.testing.assert_array_equal(fresh.params['fc6'][0].data, net.params['fc6'][0].data)


def test_missing_or_foreign_weights_files_are_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match='nope.caffemodel does not exist'):
        read_weights(str(tmp_path / 'nope.caffemodel'))
    junk = tmp_path / 'junk.caffemodel'
    junk.write_bytes(b'\xff\xfe not a protobuf \x00' * 10)
    with pytest.raises(WeightsError, match='junk.caffemodel is not a Caffe'):
        read_weights(str(junk))


def test_old_v1_format_is_sent_to_the_ilsvrc_converter(tmp_path):
    from caffe.proto import caffe_pb2
    proto = caffe_pb2.NetParameter()
    layer = proto.layers.add()
    layer.name = 'conv1'
    layer.blobs.add().data.extend([1.0, 2.0])
    path = tmp_path / 'old.caffemodel'
    path.write_bytes(proto.SerializeToString())
    with pytest.raises(WeightsError, match='old V1 layer format'):
        read_weights(str(path))


def test_weights_that_do_not_fit_a_net_are_refused_before_caffe_loads_them(tmp_path):
    path = str(tmp_path / 'score3.caffemodel')
    source = classifier('conv', score_outputs=3)
    randomize(source, 0)  # nonzero, so a partial copy into the nets below would show
    source.save(path)
    load_weights(classifier('conv', score_outputs=3), path)
    wider = classifier('conv', score_outputs=6)
    before = {name: [blob.data.copy() for blob in blobs] for name, blobs in wider.params.items()}
    with pytest.raises(WeightsError, match=r"layer 'score_fr' holds blobs of shapes \[\(3, 6, 1, 1\), \(3,\)\], the net "
                                           r"expects \[\(6, 6, 1, 1\), \(6,\)\]: is it the right model\? get it from X"):
        load_weights(wider, path, 'get it from X')
    for name, blobs in wider.params.items():  # refused before any layer was copied
        for blob, old in zip(blobs, before[name]):
            np.testing.assert_array_equal(blob.data, old)
    with pytest.raises(WeightsError, match="has no layer 'conv1color'"):
        load_weights(classifier('conv', suffix='color'), path)


def test_load_weights_loads_what_caffe_copy_from_loads(tmp_path):
    path = str(tmp_path / 'net.caffemodel')
    saved = classifier('conv', score_outputs=4)
    randomize(saved, 6)
    saved.save(path)
    by_caffe, by_python = classifier('conv', score_outputs=4), classifier('conv', score_outputs=4)
    by_caffe.copy_from(path)
    load_weights(by_python, path)
    for name in saved.params:
        for a, b in zip(by_caffe.params[name], by_python.params[name]):
            np.testing.assert_array_equal(a.data, b.data)
    assert by_python.params['fc6'][0].data.any()


def test_load_weights_refuses_same_count_in_another_shape_as_caffe_does(tmp_path):
    path = str(tmp_path / 'ip.caffemodel')
    classifier('ip').save(path)  # fc6 6 x 18: the same numbers as the 6 x 2 x 3 x 3 convolution
    with pytest.raises(WeightsError, match=r"layer 'fc6' holds blobs of shapes \[\(6, 18\), \(6,\)\]"):
        load_weights(classifier('conv'), path)


@pytest.mark.parametrize('fields', [
    dict(shape=(2, 3, 4)),                      # current blobs
    dict(legacy=(1, 2, 3, 4)),                  # pre-2015 num/channels/height/width
    dict(shape=(5,), diff=True),                # a diff after the data
    dict(shape=(0,)),                           # empty
])
def test_blob_data_read_from_wire_bytes_equals_protobufs_repeated_field(fields):
    from caffe.proto import caffe_pb2
    from caffe_fcn.backend.weights import _blob_array
    rng = np.random.default_rng(3)
    blob = caffe_pb2.BlobProto()
    dims = fields.get('shape') or fields['legacy']
    if 'shape' in fields:
        blob.shape.dim.extend(dims)
    else:
        blob.num, blob.channels, blob.height, blob.width = dims
    values = rng.standard_normal(int(np.prod(dims))).astype(np.float32)
    blob.data.extend(values.tolist())
    if fields.get('diff'):
        blob.diff.extend((values * 2).tolist())
    expected = np.array(blob.data, dtype=np.float32).reshape(dims)
    np.testing.assert_array_equal(_blob_array(blob), expected)
