"""Stand-in nets for the data-layer tests: one project data layer, its tops kept alive by a
Silence layer, built with Caffe's NetSpec and run by real Caffe."""
import os

from caffe_fcn.backend import select_device

caffe = select_device()

LAYERS = {
    'voc': ('caffe_fcn.data.voc', 'VOCSegDataLayer', ('data', 'label')),
    'sbd': ('caffe_fcn.data.sbd', 'SBDSegDataLayer', ('data', 'label')),
    'nyud': ('caffe_fcn.data.nyud', 'NYUDSegDataLayer', None),
    'siftflow': ('caffe_fcn.data.siftflow', 'SIFTFlowSegDataLayer', ('data', 'sem', 'geo')),
    'context': ('caffe_fcn.data.context', 'PASCALContextSegDataLayer', ('data', 'label')),
}


def data_spec(dataset, params, tops=None):
    """A NetSpec whose data layer is the dataset's, with tops named `tops` (default: its usual tops)."""
    module, layer, default_tops = LAYERS[dataset]
    tops = tops or default_tops
    n = caffe.NetSpec()
    outputs = caffe.layers.Python(module=module, layer=layer, ntop=len(tops), param_str=repr(params))
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for name, output in zip(tops, outputs):
        setattr(n, name, output)
    return n, outputs


def write_net(spec, folder, name='net'):
    path = os.path.join(str(folder), name + '.prototxt')
    with open(path, 'w') as f:
        f.write(str(spec.to_proto()))
    return path


def data_net(folder, dataset, params, tops=None):
    """The real Caffe net (TEST phase) of the dataset's layer alone; net.layers[0] is the layer."""
    spec, outputs = data_spec(dataset, params, tops)
    spec.silence = caffe.layers.Silence(*outputs, ntop=0)
    return caffe.Net(write_net(spec, folder), caffe.TEST)
