"""Datasets: Caffe Python data layers (one base, one subclass per dataset), label PNGs, the
downloads (`python -m caffe_fcn.data fetch ...`, behind `make data-*` / `make weights-*`) and tiny
fixture datasets in the real formats (`caffe_fcn.data.fixtures`)."""
