"""Bilinear kernels against their closed form, and Caffe Deconvolutions filled by interp against scipy's
bilinear interpolation."""
import numpy as np
import pytest
from scipy import ndimage

from caffe_fcn.backend import net_from_proto
from caffe_fcn.surgery import SurgeryError, interp, upsample_filt
from surgery_nets import L, caffe


def triangle(size):
    """The 1-D bilinear ramp written out as counts: odd 2f-1 -> 1..f..1 over f; even 2f -> 1,3..2f-1..3,1 over 2f."""
    factor = (size + 1) // 2
    if size % 2:
        return np.r_[np.arange(1, factor + 1), np.arange(factor - 1, 0, -1)] / factor
    return np.r_[np.arange(1, 2 * factor, 2), np.arange(2 * factor - 1, 0, -2)] / (2 * factor)


@pytest.mark.parametrize('size', [3, 4, 16, 63, 64])
def test_kernel_is_outer_product_of_triangle_ramps(size):
    ramp = triangle(size)
    np.testing.assert_allclose(upsample_filt(size), np.outer(ramp, ramp), rtol=0, atol=1e-12)


def test_size_4_kernel_by_hand():
    ramp = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(upsample_filt(4), np.outer(ramp, ramp), rtol=0, atol=1e-12)


@pytest.mark.parametrize('size,stride', [(3, 2), (4, 2), (16, 8), (32, 16), (63, 32), (64, 32)])
def test_kernel_sums_to_stride_squared(size, stride):
    assert upsample_filt(size).sum() == pytest.approx(stride ** 2, rel=1e-12)


def test_bad_size_is_refused():
    with pytest.raises(SurgeryError, match='positive integer'):
        upsample_filt(0)


def deconv_net(channels, height, width, kernel, stride, group=1, kernel_w=None, num_output=None, name='upscore'):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, channels, height, width]))
    geometry = dict(kernel_size=kernel) if kernel_w is None else dict(kernel_h=kernel, kernel_w=kernel_w)
    n[name] = L.Deconvolution(n.data, convolution_param=dict(
        num_output=num_output or channels, stride=stride, group=group, bias_term=False, **geometry))
    return net_from_proto(n)


@pytest.mark.parametrize('kernel,stride,group', [(4, 2, 1), (16, 8, 1), (64, 32, 1), (63, 32, 1), (4, 2, 3)])
def test_interp_deconvolution_upsamples_like_scipy_bilinear_in_the_interior(kernel, stride, group):
    channels, height, width = 3, 5, 6
    net = deconv_net(channels, height, width, kernel, stride, group)
    assert interp(net) == ['upscore']
    rng = np.random.RandomState(0)
    image = rng.standard_normal((channels, height, width)).astype(np.float32)
    net.blobs['data'].data[0] = image
    out = net.forward()['upscore'][0]
    assert out.shape == (channels, (height - 1) * stride + kernel, (width - 1) * stride + kernel)
    # Output pixel y sits at input coordinate (y - (kernel-1)/2) / stride.
    ys = (np.arange(out.shape[1]) - (kernel - 1) / 2) / stride
    xs = (np.arange(out.shape[2]) - (kernel - 1) / 2) / stride
    inside_y = (ys >= 0) & (ys <= height - 1)
    inside_x = (xs >= 0) & (xs <= width - 1)
    grid = np.meshgrid(ys[inside_y], xs[inside_x], indexing='ij')
    for c in range(channels):
        expected = ndimage.map_coordinates(image[c].astype(np.float64), grid, order=1)
        np.testing.assert_allclose(out[c][np.ix_(inside_y, inside_x)], expected, rtol=0, atol=1e-5)


def test_interp_puts_kernels_on_the_channel_diagonal_only():
    net = deconv_net(4, 3, 3, 4, 2)
    net.params['upscore'][0].data[...] = 7
    interp(net)
    weights = net.params['upscore'][0].data
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(weights[i, j], upsample_filt(4) if i == j else 0)


def test_interp_finds_deconvolutions_by_type_not_name():
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 2, 4, 4]))
    n.upscore_conv = L.Convolution(n.data, num_output=2, kernel_size=1, weight_filler=dict(type='constant', value=3))
    n.grow = L.Deconvolution(n.upscore_conv, convolution_param=dict(num_output=2, kernel_size=4, stride=2,
                                                                    bias_term=False))
    net = net_from_proto(n)
    assert interp(net) == ['grow']
    np.testing.assert_array_equal(net.params['upscore_conv'][0].data, 3)
    np.testing.assert_array_equal(net.params['grow'][0].data[1, 1], upsample_filt(4))


def test_interp_refuses_non_square_kernel_naming_the_layer():
    net = deconv_net(2, 3, 3, 4, 2, kernel_w=2, name='upscore2')
    with pytest.raises(SurgeryError, match=r"'upscore2' has a 4x2 kernel"):
        interp(net)


def test_interp_refuses_channel_counts_neither_equal_nor_one():
    net = deconv_net(3, 3, 3, 4, 2, num_output=5, name='upscore8')
    with pytest.raises(SurgeryError, match=r"'upscore8' maps 3 input channels to 5"):
        interp(net)


def test_interp_refuses_a_layer_that_is_not_a_deconvolution():
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[1, 2, 4, 4]))
    n.score_fr = L.Convolution(n.data, num_output=2, kernel_size=1)
    net = net_from_proto(n)
    with pytest.raises(SurgeryError, match="'score_fr' is a Convolution"):
        interp(net, ['score_fr'])
    with pytest.raises(SurgeryError, match="'upscore' is absent"):
        interp(net, ['upscore'])
