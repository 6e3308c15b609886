"""Train an FCN variant: `python solve.py nets/<variant> [options]` (see caffe_fcn/train/solve.py or --help)."""
import sys

from caffe_fcn.train.solve import main

if __name__ == '__main__':
    sys.exit(main())
