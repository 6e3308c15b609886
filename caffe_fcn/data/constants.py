"""Each dataset's numbers, importable without Caffe: its class counts and the means its data layer
subtracts (the registry, infer and the data layers read them from here)."""

#: Mean pixel of the ILSVRC training images, BGR: what the VGG16 and AlexNet trunks were trained with.
#: The VOC, SBD and PASCAL-Context layers subtract it.
VOC_MEAN_BGR = (104.00699, 116.66877, 122.67892)
VOC_CLASSES = 21

NYUD_COLOR_MEAN_BGR = (116.190, 97.203, 92.318)
NYUD_HHA_MEAN = (132.431, 94.076, 118.477)
NYUD_LOG_DEPTH_MEAN = 7.844
NYUD_CLASSES = 40

SIFTFLOW_MEAN_BGR = (114.578, 115.294, 108.353)
SIFTFLOW_SEMANTIC_CLASSES = 33
SIFTFLOW_GEOMETRIC_CLASSES = 3

CONTEXT_CLASSES = 60  # the 59 classes and background

#: The mean each dataset's data layer subtracts from colour images where its params name none.
COLOUR_MEANS = {'voc': VOC_MEAN_BGR, 'context': VOC_MEAN_BGR, 'siftflow': SIFTFLOW_MEAN_BGR,
                'nyud': NYUD_COLOR_MEAN_BGR}
