"""Caffemodels that never overwrite anything silently."""
import os

from caffe_fcn.surgery.params import SurgeryError


def check_writable(path, overwrite=False):
    """Refuse to replace an existing file unless asked to (call it before any long work)."""
    if os.path.exists(path) and not overwrite:
        raise SurgeryError('%s already exists; delete it or pass --force to replace it' % path)


def save_caffemodel(net, path, overwrite=False):
    """Write `net`'s parameters to `path` (folders made as needed); a crash never leaves half a file there."""
    check_writable(path, overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    partial = path + '.partial'
    net.save(partial)
    os.replace(partial, path)
    return path
