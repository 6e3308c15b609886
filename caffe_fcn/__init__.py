"""caffe-fcn: Fully Convolutional Networks for Semantic Segmentation on BVLC Caffe."""
