"""The demo's "ILSVRC pre-training": a narrow VGG16 classifier trained by Caffe on crops.

The classifier is the project's ILSVRC classifier form (`caffe_fcn.nets.trunks.vgg16` with
fc='fc': fc6/fc7/fc8 as InnerProduct, classifier padding, 224 x 224 input) at demo widths, fed
by `caffe_fcn.demo.crops.CropLayer`, started from He-normal weights (fc8 at zero, as the FCN's
score layers start: large random class scores at the start stall training) and trained by Caffe.
It has no Dropout: a few hundred iterations that see each crop about once cannot overfit, and
dropping half of a 128-wide fc6/fc7 stalled learning (the FCN nets keep drop6/drop7).
Its weights are then convolutionalized by the surgery the real VGG16 goes through
(`caffe_fcn.surgery.transplant`: InnerProduct weights become convolution kernels).
"""
import os
import time

import numpy as np

from caffe_fcn import atomic
from caffe_fcn.backend import import_caffe
from caffe_fcn.backend.weights import save_weights
from caffe_fcn.demo.random_init import he_init, trunk_layers
from caffe_fcn.nets import layers
from caffe_fcn.nets.trunks import CLASSIFIER_PAD1, vgg16

caffe = import_caffe()
L = caffe.layers


def classifier_net(widths, classes, crop_params, phase):
    """The classifier's train or test net: crops -> VGG16 (fc form) -> fc8 -> loss, accuracy."""
    n = caffe.NetSpec()
    n.data, n.label = L.Python(module='caffe_fcn.demo.crops', layer='CropLayer', ntop=2,
                               param_str=repr(dict(crop_params)))
    top = vgg16(n, n.data, widths=widths, pad1=CLASSIFIER_PAD1['vgg16'], fc='fc', dropout=False)
    n.fc8 = L.InnerProduct(top, num_output=classes, param=layers.LEARNED)
    n.loss = L.SoftmaxWithLoss(n.fc8, n.label)
    n.accuracy = L.Accuracy(n.fc8, n.label)
    proto = n.to_proto()
    proto.name = 'demo-classifier-' + phase
    return proto


def solver_text(train_net, test_net, settings):
    """Solver prototxt: train_net, one test_net (run by `pretrain`, not by Caffe) and `settings`."""
    solver = caffe.proto.caffe_pb2.SolverParameter()
    solver.train_net = train_net
    solver.test_net.append(test_net)
    solver.test_iter.append(1)
    solver.test_interval = 10 ** 9
    solver.test_initialization = False
    for key, value in settings.items():
        setattr(solver, key, value)
    return str(solver)


def _write(path, text):
    return atomic.write_text(path, text)


def val_accuracy(solver, batches):
    """Mean accuracy of the test net (sharing the trained weights) over `batches` batches of val crops."""
    net = solver.test_nets[0]
    net.share_with(solver.net)
    accuracy = [float(net.forward()['accuracy']) for _ in range(batches)]
    return float(np.mean(accuracy))


def pretrain(out_dir, widths, classes, crop_params, solver_settings, iterations, test_batches,
             seed, log=print):
    """Train the classifier in `out_dir`. Returns the caffemodels of its starting (He-normal) and
    trained weights, and a summary dict."""
    os.makedirs(out_dir, exist_ok=True)
    train = _write(os.path.join(out_dir, 'train.prototxt'),
                   str(classifier_net(widths, classes, dict(crop_params, split='train'), 'train')))
    test = _write(os.path.join(out_dir, 'test.prototxt'),
                  str(classifier_net(widths, classes, dict(crop_params, split='val'), 'test')))
    solver_path = _write(os.path.join(out_dir, 'solver.prototxt'),
                         solver_text(train, test, solver_settings))
    solver = caffe.get_solver(solver_path)
    he_init(solver.net, trunk_layers(solver.net, stop_before='fc8'), seed)
    initial = os.path.join(out_dir, 'classifier-init.caffemodel')
    save_weights(solver.net, initial)
    start = time.time()
    history = []
    chunk = max(1, iterations // 5)
    done = 0
    while done < iterations:
        step = min(chunk, iterations - done)
        losses = []
        for _ in range(step):
            solver.step(1)
            losses.append(float(solver.net.blobs['loss'].data))
        done += step
        history.append({'iteration': done, 'train_loss': float(np.mean(losses))})
        log('  classifier: iteration %d/%d, train loss %.3f' % (done, iterations, history[-1]['train_loss']))
    accuracy = val_accuracy(solver, test_batches)
    weights = os.path.join(out_dir, 'classifier.caffemodel')
    save_weights(solver.net, weights)
    summary = {'iterations': iterations, 'history': history, 'val_accuracy': accuracy,
               'val_crops': test_batches * crop_params['batch'], 'seconds': round(time.time() - start, 1)}
    log('  classifier: val crop accuracy %.3f (%d crops, chance %.2f), %.0f s'
        % (accuracy, summary['val_crops'], 1.0 / classes, summary['seconds']))
    return initial, weights, summary
