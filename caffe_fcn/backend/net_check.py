"""Checks a net or solver definition before Caffe reads it.

Caffe meets an unknown layer type, a Python layer it cannot import, a bottom blob that no earlier
layer makes, an unknown solver type or learning rate policy with a C++ CHECK that aborts the whole
process (exit 134), some of them only at the first training step. These checks name the file, the
layer or field, and the fix, before Caffe sees the definition.
"""
import difflib
import importlib

from caffe_fcn.backend import import_caffe
from caffe_fcn.errors import UserError

#: The solver types and learning rate policies of BVLC Caffe (solver_factory, SGDSolver::GetLearningRate).
SOLVER_TYPES = ('SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam')
LR_POLICIES = ('fixed', 'step', 'exp', 'inv', 'multistep', 'poly', 'sigmoid')


class NetDefinitionError(UserError, ValueError):
    pass


def _one_of(value, known, what):
    close = difflib.get_close_matches(value, known, n=1)
    return ('did you mean %r?' % close[0]) if close else 'known %ss: %s' % (what, ', '.join(sorted(known)))


def check_net(proto, source):
    """Refuse a NetParameter that Caffe would abort on; `source` names where it came from (a file)."""
    known = set(import_caffe().layer_type_list())
    made = set()
    for layer in proto.layer:
        where = '%s: layer %r' % (source, layer.name)
        if layer.type not in known:
            raise NetDefinitionError('%s has type %r, which this Caffe does not know: %s; fix the type in %s'
                                     % (where, layer.type, _one_of(layer.type, known, 'layer type'), source))
        if layer.type == 'Python':
            _check_python_layer(layer, where)
        for bottom in layer.bottom:
            if bottom not in made:
                raise NetDefinitionError('%s reads bottom %r, which no layer before it makes (tops so far: %s); '
                                         'fix the bottom in %s' % (where, bottom, ', '.join(sorted(made)) or 'none', source))
        made.update(layer.top)
    return proto


def _check_python_layer(layer, where):
    module, name = layer.python_param.module, layer.python_param.layer
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError as err:
        raise NetDefinitionError('%s: python_param.module %r cannot be imported (%s)' % (where, module, err)) from err
    if found is None:
        raise NetDefinitionError('%s: module %r has no layer class %r (python_param.layer)' % (where, module, name))


def check_solver(proto, source):
    """Refuse a SolverParameter whose solver type or learning rate policy Caffe does not know."""
    if proto.type and proto.type not in SOLVER_TYPES:
        raise NetDefinitionError('%s: solver type %r is not one of Caffe\'s: %s' % (
            source, proto.type, _one_of(proto.type, SOLVER_TYPES, 'solver type')))
    if proto.lr_policy not in LR_POLICIES:
        raise NetDefinitionError('%s: lr_policy %r is not one of Caffe\'s: %s' % (
            source, proto.lr_policy, _one_of(proto.lr_policy, LR_POLICIES, 'policy')))
    return proto
