"""Where every dataset and weight file comes from, where it goes, and how the download is checked.

Checksums are only those published for these exact files: the MD5s of the VOC and SBD archives
(as listed in torchvision's dataset table) and the SHA-1s of bvlc_reference_caffenet.caffemodel and
bvlc_googlenet.caffemodel (the readmes of Caffe's models/bvlc_reference_caffenet and models/bvlc_googlenet). No checksum or size is published for the others, so their content is checked instead:
an archive must read to the end (which checks its gzip or zip CRCs) and hold the expected layout,
and a caffemodel must parse as a Caffe NetParameter holding the expected layers.

Paths are relative to the repository root. Downloads are kept under data/<dataset>/downloads/
(delete them by hand once unpacked, if space matters); weights go to weights/.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Checksum:
    algorithm: str   # 'md5', 'sha1' or 'sha256' (hashlib names)
    hexdigest: str


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    download_to: str              # where the downloaded file is kept
    checksum: Checksum = None     # None: none is published; the content is checked instead
    # Archives: paths the dataset's top folder in the archive must hold (it may sit anywhere
    # inside), and (path in that folder, destination) pairs moved into place; '' is the folder itself.
    marker: tuple = ()
    place: tuple = ()
    copies: tuple = ()            # (file, destination) pairs copied once everything is placed
    layers: tuple = ()            # caffemodels: layers the file must hold

    @property
    def is_archive(self):
        return bool(self.place)

    @property
    def destinations(self):
        return tuple(dest for _, dest in self.place) if self.is_archive else (self.download_to,)


VOC_SITE = 'http://host.robots.ox.ac.uk/pascal/VOC/'
SIFTFLOW_SCENES = 'spatial_envelope_256x256_static_8outdoorcategories'
VOC_LAYOUT = ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation')


def _voc(year, archive, md5, marker=VOC_LAYOUT, copies=()):
    return Source(name='voc%d' % year, url='%svoc%d/%s' % (VOC_SITE, year, archive),
                  download_to='data/pascal/downloads/' + archive, checksum=Checksum('md5', md5),
                  marker=marker, place=(('', 'data/pascal/VOC%d' % year),), copies=copies)


VOC2011 = _voc(2011, 'VOCtrainval_25-May-2011.tar', '6c3384ef61512963050cb5d687e5bf1e', copies=(
    ('data/pascal/seg11valid.txt', 'data/pascal/VOC2011/ImageSets/Segmentation/seg11valid.txt'),))
VOC2012 = _voc(2012, 'VOCtrainval_11-May-2012.tar', '6cd6e144f989b92b3379bac3b3de84fd')
VOC2010 = _voc(2010, 'VOCtrainval_03-May-2010.tar', 'da459979d0c395079b5c75ee67908abb',
               marker=('JPEGImages', 'ImageSets/Main'))

SBD = Source(
    name='sbd',
    url='http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/semantic_contours/benchmark.tgz',
    download_to='data/sbd/downloads/benchmark.tgz', checksum=Checksum('md5', '82b4d87ceb2ed10f6038a1cba92111cb'),
    marker=('img', 'cls', 'train.txt'), place=(('', 'data/sbd/dataset'),))

NYUD = Source(
    name='nyud', url='http://dl.caffe.berkeleyvision.org/nyud.tar.gz', download_to='data/nyud/downloads/nyud.tar.gz',
    marker=('data/images', 'segmentation'),
    place=(('data', 'data/nyud/data'), ('segmentation', 'data/nyud/segmentation')))

SIFTFLOW = Source(
    name='siftflow', url='http://www.cs.unc.edu/~jtighe/Papers/ECCV10/siftflow/SiftFlowDataset.zip',
    download_to='data/sift-flow/downloads/SiftFlowDataset.zip',
    marker=tuple('%s/%s' % (folder, SIFTFLOW_SCENES) for folder in ('Images', 'SemanticLabels', 'GeoLabels')),
    place=tuple((folder, 'data/sift-flow/' + folder) for folder in ('Images', 'SemanticLabels', 'GeoLabels')))

# The archive offered on the PASCAL-Context page (http://www.cs.stanford.edu/~roozbeh/pascal-context/).
PASCAL_CONTEXT = Source(
    name='pascal-context', url='http://www.cs.stanford.edu/~roozbeh/pascal-context/trainval.tar.gz',
    download_to='data/pascal-context/downloads/trainval.tar.gz',
    marker=('trainval',), place=(('trainval', 'data/pascal-context/trainval'),))

#: `make data-<name>` fetches these.
DATASETS = {
    'voc': (VOC2011,),
    'voc2012': (VOC2012,),
    'sbd': (SBD,),
    'nyud': (NYUD,),
    'siftflow': (SIFTFLOW,),
    'context': (VOC2010, PASCAL_CONTEXT),
}

VGG16_LAYERS = ('conv1_1', 'conv5_3', 'fc6', 'fc7', 'fc8')


def _fcn_pascal(stride, layers):
    name = 'fcn%ds-heavy-pascal' % stride
    return Source(name=name, url='http://dl.caffe.berkeleyvision.org/%s.caffemodel' % name,
                  download_to='weights/%s.caffemodel' % name, layers=('conv1_1', 'fc7', 'score_fr') + layers)


#: `make weights-<name>` fetches these.
WEIGHTS = {
    'vgg16': Source(
        name='vgg16', url='http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel',
        download_to='weights/VGG_ILSVRC_16_layers.caffemodel', layers=VGG16_LAYERS),
    # FCN-AlexNet is CaffeNet's layer order (pool before LRN), so its ILSVRC weights are CaffeNet's.
    'alexnet': Source(
        name='alexnet', url='http://dl.caffe.berkeleyvision.org/bvlc_reference_caffenet.caffemodel',
        download_to='weights/bvlc_reference_caffenet.caffemodel',
        checksum=Checksum('sha1', '4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46')),
    # FCN-GoogLeNet's ILSVRC weights: BVLC GoogLeNet (68.7% top-1), the public replication; the paper
    # used its own (68.5%), never released.
    'googlenet': Source(
        name='googlenet', url='http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel',
        download_to='weights/bvlc_googlenet.caffemodel',
        checksum=Checksum('sha1', '405fc5acd08a3bb12de8ee5e23a96bec22f08204')),
    'fcn32s-heavy-pascal': _fcn_pascal(32, ()),
    'fcn16s-heavy-pascal': _fcn_pascal(16, ('score_pool4',)),
    'fcn8s-heavy-pascal': _fcn_pascal(8, ('score_pool4', 'score_pool3')),
}
