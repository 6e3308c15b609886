"""Train an FCN variant: `python solve.py nets/<variant> [options]` (see caffe_fcn/solve.py or --help)."""
from caffe_fcn.solve import main

if __name__ == '__main__':
    main()
