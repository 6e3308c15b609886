"""How big the demo is: the full demo (`make demo`) and the fast one the tests run end to end.

Demo settings that differ from the paper's, and why (all set through the variant's fields):
- Narrow trunk widths: VGG16's geometry (kernels, strides, pads, so every crop offset) is kept,
  its channel counts are cut so that all stages train in minutes on two CPU cores.
- Adam (beta 0.9 / 0.999) instead of SGD with momentum 0.99, and a loss normalised by the number
  of labelled pixels (normalize_loss, as FCN-AlexNet has it): the paper's unnormalised loss at
  lr 1e-10 to 1e-14 is tuned for 100k iterations from ILSVRC weights. A few hundred iterations
  from a small classifier need per-parameter step sizes: the first layer sees raw pixel values
  (about 64 times the scale of deeper activations), and one SGD rate either blows it up or
  starves the rest.
- One rate for all three FCN stages (the paper lowers it at each stage).
"""
from dataclasses import dataclass

DEMO_WIDTHS = (8, 16, 32, 64, 64, 128)


def adam(base_lr):
    return dict(type='Adam', base_lr=base_lr, momentum=0.9, momentum2=0.999, lr_policy='fixed',
                weight_decay=0.0005)


@dataclass(frozen=True)
class Stage:
    """One FCN stage: its head, and rounds x steps iterations (scored after every round)."""
    head: str
    rounds: int
    steps: int


@dataclass(frozen=True)
class DemoConfig:
    name: str
    train_images: int
    val_images: int
    widths: tuple
    pretrain_iterations: int
    pretrain_batch: int
    pretrain_test_batches: int
    pretrain_solver: dict
    stages: tuple
    fcn_solver: dict
    overlays: int
    seed: int = 1337
    min_side: int = 96
    max_side: int = 200


FULL = DemoConfig(
    name='full', train_images=300, val_images=100, widths=DEMO_WIDTHS,
    pretrain_iterations=500, pretrain_batch=8, pretrain_test_batches=25,
    pretrain_solver=adam(3e-4),
    stages=(Stage('32s', 5, 200), Stage('16s', 2, 200), Stage('8s', 2, 200)),
    fcn_solver=adam(4e-4), overlays=4)

FAST = DemoConfig(
    name='fast', train_images=12, val_images=4, widths=(4, 4, 4, 8, 8, 8),
    pretrain_iterations=4, pretrain_batch=2, pretrain_test_batches=2,
    pretrain_solver=adam(3e-4),
    stages=(Stage('32s', 2, 3), Stage('16s', 1, 3), Stage('8s', 1, 3)),
    fcn_solver=adam(4e-4), overlays=2, max_side=120)
