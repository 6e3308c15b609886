"""VOC variants that read small fixture datasets instead of SBD and VOC2011, so the training and
scoring benchmarks run the real data layers on any machine (no download)."""
import dataclasses
import os

from caffe_fcn.data.fixtures import write_sbd, write_voc
from caffe_fcn.nets.registry import DataSpec

from bench.nets import bench_variant

#: The size of a typical PASCAL VOC image, height x width.
VOC_IMAGE = (375, 500)


def fixture_variant(name, folder, train_images, val_images, size=VOC_IMAGE, quick=False):
    """Registered VOC variant `name` (its narrow twin when `quick`) with its train net reading
    `train_images` SBD-format fixture images and its val net `val_images` VOC-format ones, all of
    `size`, written under `folder`. The solver and loss settings stay the variant's own."""
    variant = bench_variant(name, quick)
    if variant.dataset != 'voc':
        raise ValueError('fixture_variant builds VOC variants only, not %r (%s)' % (name, variant.dataset))
    train, val = variant.data[variant.train_split], variant.data[variant.test_split]
    sbd = write_sbd(os.path.join(folder, 'sbd'), {'train': train_images}, sizes=(size,))
    voc = write_voc(os.path.join(folder, 'voc'), {'seg11valid': val_images}, sizes=(size,))
    data = {variant.train_split: DataSpec(train.module, train.layer, dict(train.params, **sbd.params)),
            variant.test_split: DataSpec(val.module, val.layer, dict(val.params, **voc.params))}
    return dataclasses.replace(variant, data=data)
