"""Shared by the nets tests: load a NetParameter into real Caffe."""
import os
import tempfile

from caffe_fcn.backend import select_device

caffe = select_device()


def load(proto):
    """A caffe.Net (TEST phase) from a NetParameter, via a temporary prototxt file."""
    with tempfile.NamedTemporaryFile('w', suffix='.prototxt', delete=False) as f:
        f.write(str(proto))
    try:
        return caffe.Net(f.name, caffe.TEST)
    finally:
        os.remove(f.name)
