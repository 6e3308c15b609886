"""Reading the files datasets are made of, with errors that name the file at fault.

Nothing here knows Caffe: these return plain numpy arrays (HxWx3 uint8 RGB images, 2-D label
arrays as stored on disk) for the data layers to transform.
"""
import os

import numpy as np
import scipy.io
from PIL import Image, ImageOps

from caffe_fcn.errors import UserError


class DataError(UserError, ValueError):
    """A dataset file, split or data-layer parameter is missing or malformed."""


def open_image(path):
    """Open and fully decode an image file (PIL decodes lazily; corrupt or truncated files are
    caught here, not at first use)."""
    if not os.path.isfile(path):
        raise DataError('image file %s does not exist' % path)
    try:
        image = Image.open(path)
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError('cannot decode %s (corrupt or truncated file?): %s' % (path, err)) from err
    return image


#: Pillow modes of 16-bit single-channel images (PNG, TIFF), which convert('RGB') clips to white.
SIXTEEN_BIT_GREY = ('I;16', 'I;16B', 'I;16L', 'I;16N')


def load_rgb(path, orient=False):
    """An image as HxWx3 uint8 RGB. Greyscale, palette and CMYK files are converted to RGB (the
    reference release crashed on VOC's greyscale JPEGs instead); 16-bit greyscale keeps its high byte,
    as Pillow itself reduces 16-bit colour PNGs. With `orient`, an EXIF orientation is applied, so the
    array is the photo as viewers display it; data layers read pixels as stored, as the reference did."""
    image = open_image(path)
    if orient:
        image = ImageOps.exif_transpose(image)
    if image.mode in SIXTEEN_BIT_GREY:
        grey = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode in ('I', 'F'):
        raise DataError('%s holds %s pixels (mode %s), which have no one 8-bit reading: save it with 8 or 16 '
                        'bits per channel' % (path, '32-bit integer' if image.mode == 'I' else 'floating-point',
                                               image.mode))
    if image.mode != 'RGB':
        image = image.convert('RGB')
    return np.array(image, dtype=np.uint8)


def load_three_channel(path):
    """A 3-channel PNG that is not a photograph (NYUD's HHA encoding) as HxWx3 uint8, channels in
    file order. Other channel counts are an error: converting them would invent data."""
    image = open_image(path)
    if image.mode != 'RGB':
        raise DataError('%s is a %s image; a 3-channel (RGB-mode) image is required' % (path, image.mode))
    return np.array(image, dtype=np.uint8)


def load_single_channel(path):
    """A single-channel image (8- or 16-bit greyscale PNG, e.g. depth) as a 2-D array of its stored
    integer values."""
    image = open_image(path)
    if image.mode not in ('L', 'I', 'I;16', 'I;16B', 'I;16L'):
        raise DataError('%s is a %s image; a single-channel (greyscale) image is required'
                        % (path, image.mode))
    return np.array(image)


def load_mat_variable(path, name):
    """Variable `name` of a MATLAB .mat file (v5 format, as scipy.io reads it)."""
    if not os.path.isfile(path):
        raise DataError('.mat file %s does not exist' % path)
    try:
        contents = scipy.io.loadmat(path)
    except (OSError, ValueError, TypeError, NotImplementedError) as err:
        raise DataError('cannot read %s as a MATLAB .mat file: %s' % (path, err)) from err
    if name not in contents:
        found = sorted(k for k in contents if not k.startswith('__'))
        raise DataError('%s has no variable %r (it holds %s)' % (path, name, ', '.join(found) or 'nothing'))
    return contents[name]


def load_mat_struct_field(path, name, field):
    """Field `field` of the 1x1 MATLAB struct `name` in a .mat file (SBD's GTcls.Segmentation)."""
    struct = load_mat_variable(path, name)
    if struct.dtype.names is None or field not in struct.dtype.names:
        raise DataError('%s: variable %r is not a struct with a field %r (fields: %s)'
                        % (path, name, field, ', '.join(struct.dtype.names or ()) or 'none'))
    if struct.size != 1:
        raise DataError('%s: struct %r has %d elements, expected 1' % (path, name, struct.size))
    return struct.flat[0][field]


def read_split(path):
    """The ids of a split file: one per line, blank lines ignored (a missing final newline is
    fine: NYUD's train.txt has none)."""
    if not os.path.isfile(path):
        folder = os.path.dirname(path)
        known = sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.txt')) if os.path.isdir(folder) else []
        raise DataError('split file %s does not exist (splits found in %s: %s)'
                        % (path, folder, ', '.join(known) or 'none'))
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise DataError('split file %s lists no ids' % path)
    return ids
