"""Shared by the nets tests: Caffe in CPU mode, and a train or test net that runs without its dataset."""
from caffe_fcn.backend import select_device

caffe = select_device()


def with_input_layers(variant, proto, height, width):
    """A copy of a train/val net whose Python data layer is replaced by Input layers of the
    same tops (images 1xCxHxW, labels 1x1xHxW): the net runs without its dataset."""
    channels = {i.name: i.channels for i in variant.inputs}
    out = caffe.proto.caffe_pb2.NetParameter()
    out.CopyFrom(proto)
    del out.layer[:]
    for layer in proto.layer:
        if layer.type != 'Python':
            out.layer.add().CopyFrom(layer)
            continue
        for top in layer.top:
            stand_in = out.layer.add(name=top, type='Input')
            stand_in.top.append(top)
            stand_in.input_param.shape.add(dim=[1, channels.get(top, 1), height, width])
    return out
