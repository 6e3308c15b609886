"""Published FCN results (percent), as data: the paper's tables and the reference release's notes.

`variant` is this project's registry name for the net that reproduces the row (None where the
project has no such net); `split` is the split name our logs record ('seg11valid', 'test', 'val';
CVPR Table 1's 'val' is VOC2011 val), or the benchmark's own name for results only an evaluation
server can give ('VOC2012 test'); `profile` is the training profile that reproduces it
(caffe_fcn.train.recipes: 'heavy' is the registry's own settings, which are the release's, and
'paper-table1' / 'paper-table2' the paper's recipe on the splits of CVPR Table 1 / 2)."""
from dataclasses import dataclass

from caffe_fcn.nets.registry import make_command

METRICS = ('pixel_accuracy', 'mean_accuracy', 'mean_iu', 'frequency_weighted_iu')


@dataclass(frozen=True)
class Published:
    model: str
    variant: str | None
    split: str
    source: str
    pixel_accuracy: float | None = None
    mean_accuracy: float | None = None
    mean_iu: float | None = None
    frequency_weighted_iu: float | None = None
    output: str = 'semantic'
    profile: str = 'heavy'

    @property
    def command(self):
        """The command that trains the net this row reports (None where the project has none)."""
        return make_command(self.variant, self.profile) if self.variant else None


def _row(model, variant, split, source, scores=(None, None, None, None), output='semantic', profile='heavy'):
    return Published(model, variant, split, source, *scores, output=output, profile=profile)


T1, T2 = 'paper-table1', 'paper-table2'


RESULTS = (
    _row('FCN-AlexNet', 'voc-fcn-alexnet', 'val', 'CVPR Table 1', (None, None, 39.8, None), profile=T1),
    _row('FCN-VGG16', 'voc-fcn32s', 'val', 'CVPR Table 1', (None, None, 56.0, None), profile=T1),
    _row('FCN-GoogLeNet', 'voc-fcn-googlenet', 'val', 'CVPR Table 1', (None, None, 42.5, None), profile=T1),
    _row('FCN-32s-fixed', 'voc-fcn32s-fixed', 'seg11valid', 'CVPR Table 2', (83.0, 59.7, 45.4, 72.0), profile=T2),
    _row('FCN-32s', 'voc-fcn32s', 'seg11valid', 'CVPR Table 2', (89.1, 73.3, 59.4, 81.4), profile=T2),
    _row('FCN-16s', 'voc-fcn16s', 'seg11valid', 'CVPR Table 2', (90.0, 75.7, 62.4, 83.0), profile=T2),
    _row('FCN-8s', 'voc-fcn8s', 'seg11valid', 'CVPR Table 2', (90.3, 75.9, 62.7, 83.2), profile=T2),
    _row('FCN-8s', 'voc-fcn8s', 'VOC2011 test', 'CVPR Table 3', (None, None, 62.7, None), profile=T2),
    _row('FCN-8s', 'voc-fcn8s', 'VOC2012 test', 'CVPR Table 3', (None, None, 62.2, None), profile=T2),
    _row('FCN-32s heavy', 'voc-fcn32s', 'seg11valid', 'reference release', (None, None, 63.6, None)),
    _row('FCN-16s heavy', 'voc-fcn16s', 'seg11valid', 'reference release', (None, None, 65.0, None)),
    _row('FCN-8s heavy', 'voc-fcn8s', 'seg11valid', 'reference release', (None, None, 65.5, None)),
    _row('FCN-8s at-once heavy', 'voc-fcn8s-atonce', 'seg11valid', 'reference release', (None, None, 65.4, None)),
    _row('FCN-8s heavy', 'voc-fcn8s', 'VOC2012 test', 'reference release, PAMI', (None, None, 67.2, None)),
    _row('FCN-AlexNet', 'voc-fcn-alexnet', 'seg11valid', 'reference release', (None, None, 48.0, None)),
    _row('FCN-32s RGB', 'nyud-fcn32s-color', 'test', 'CVPR Table 4', (60.0, 42.2, 29.2, 43.9)),
    _row('FCN-32s RGBD', 'nyud-fcn32s-color-d', 'test', 'CVPR Table 4', (61.5, 42.4, 30.5, 45.5)),
    _row('FCN-32s HHA', 'nyud-fcn32s-hha', 'test', 'CVPR Table 4', (57.1, 35.2, 24.2, 40.4)),
    _row('FCN-32s RGB-HHA', 'nyud-fcn32s-color-hha', 'test', 'CVPR Table 4', (64.3, 44.9, 32.8, 48.0)),
    _row('FCN-16s RGB-HHA', None, 'test', 'CVPR Table 4', (65.4, 46.1, 34.0, 49.5)),
    _row('FCN-16s', 'siftflow-fcn16s', 'test', 'CVPR Table 5', (85.2, 51.7, 39.5, 76.1)),
    _row('FCN-16s', 'siftflow-fcn16s', 'test', 'CVPR Table 5', (94.3, None, None, None), output='geometric'),
    _row('FCN-32s', 'pascalcontext-fcn32s', 'val', 'CVPR Table 6', (63.8, 42.7, 31.8, 48.3)),
    _row('FCN-16s', 'pascalcontext-fcn16s', 'val', 'CVPR Table 6', (65.7, 46.2, 34.8, 50.7)),
    _row('FCN-8s', 'pascalcontext-fcn8s', 'val', 'CVPR Table 6', (65.9, 46.5, 35.1, 51.0)),
)


# CVPR Appendix A: mean IU of the ground truth down- and upsampled by each factor (a subset of
# VOC2011 val), the upper bound of a prediction at that stride.
APPENDIX_A = {128: 50.9, 64: 73.3, 32: 86.1, 16: 92.8, 8: 96.4, 4: 98.5}


def published_for(variant, split, output='semantic', profile=None):
    """Every published row for this variant, split and output head (and training profile, if
    given), in table order."""
    return [r for r in RESULTS if (r.variant, r.split, r.output) == (variant, split, output)
            and profile in (None, r.profile)]


def splits_published_for(variant, profile=None):
    """The splits that have any published number for this variant (and profile, if given)."""
    return sorted({r.split for r in RESULTS if r.variant == variant and profile in (None, r.profile)})


def profiles_published_for(variant, split, output='semantic'):
    """The training profiles with a published number for this variant, split and head."""
    return sorted({r.profile for r in published_for(variant, split, output)})
