"""What an exported model says about itself, in its metadata_props: the variant, what each input
must hold and the heads its outputs score.

Preprocessing is not folded into the model: its inputs are the deploy net's inputs, already
preprocessed the way the variant's data layer does it (caffe_fcn.data: colour as BGR minus the
dataset mean, HHA minus its mean, depth as log depth minus its mean). That keeps the model
equal to Caffe's deploy net blob for blob, keeps NYUD's depth transform (a logarithm with a rule
for missing readings, not a subtraction) out of the graph, and leaves one preprocessing code for
both engines. The metadata states the means, so a caller outside this project can feed it.
"""
import json

from caffe_fcn.data.constants import COLOUR_MEANS, NYUD_HHA_MEAN, NYUD_LOG_DEPTH_MEAN

KIND_STEPS = {
    'color': 'RGB image -> BGR channel order, float32, minus mean (BGR order), HxWx3 -> 3xHxW '
             '(caffe_fcn.data.transform.rgb_to_blob)',
    'hha': 'HHA image, channels in file order, float32, minus mean, HxWx3 -> 3xHxW (caffe_fcn.data.nyud.hha_to_blob)',
    'depth': 'natural log of the stored depth minus mean; pixels without a reading (0) read 0 '
             '(caffe_fcn.data.nyud.depth_to_blob)',
}


def input_kinds(variant):
    """{input blob: 'color' | 'hha' | 'depth'}: what each image input of `variant` holds."""
    tops = variant.data[variant.test_split].params.get('tops')
    if tops is None:
        return {i.name: 'color' for i in variant.inputs}
    return {i.name: kind for i, kind in zip(variant.inputs, [t for t in tops if t != 'label'])}


def preprocessing(variant):
    """{input blob: {'holds', 'steps', 'mean'}} for every image input of `variant`."""
    colour_mean = variant.data[variant.test_split].params.get('mean', COLOUR_MEANS[variant.dataset])
    means = {'color': list(colour_mean), 'hha': list(NYUD_HHA_MEAN), 'depth': [NYUD_LOG_DEPTH_MEAN]}
    return {name: {'holds': kind, 'steps': KIND_STEPS[kind], 'mean': means[kind]}
            for name, kind in input_kinds(variant).items()}


def metadata(variant, weights_name):
    """The model's metadata_props (strings; lists and dicts as JSON)."""
    return {
        'variant': variant.name,
        'caffe_weights': weights_name,
        'inputs': json.dumps(preprocessing(variant)),
        'outputs': json.dumps([{'head': o.name, 'score': o.score, 'classes': o.classes} for o in variant.outputs]),
        'preprocessing': 'not folded in: feed each input preprocessed as its entry in "inputs" says; '
                         'outputs are Caffe score blobs (argmax over axis 1 gives the labels)',
    }


def read_metadata(model):
    """The metadata_props of an onnx.ModelProto or an onnxruntime session's ModelMetadata as a dict."""
    if hasattr(model, 'custom_metadata_map'):
        return dict(model.custom_metadata_map)
    return {prop.key: prop.value for prop in model.metadata_props}
