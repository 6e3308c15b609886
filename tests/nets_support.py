"""Shared by the nets tests: Caffe in CPU mode."""
from caffe_fcn.backend import select_device

caffe = select_device()
