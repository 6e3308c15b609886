"""Trained FCNs out of Caffe: a variant's deploy net and weights as one ONNX model, and ONNX Runtime
as a second engine for inference and scoring.

    caffe_to_onnx(net_param, net)            any Caffe net of the supported layer types -> onnx.ModelProto
    variant_model(nets, weights)             a variant's deploy net with its weights, described (metadata)
    export_variant(nets, weights, out_dir)   the same written to <out_dir>/<variant>.onnx

CLI: python -m caffe_fcn.export VARIANT --weights FILE --out DIR (make export VARIANT=... WEIGHTS=...).
"""
