"""The classification ablation (Zhang et al., ECCV 2016) on the paper's backbone.

``quantize``  the 261 in-gamut ab bins, soft encoding, class rebalancing, annealed-mean
              decoding
``loss``      the rebalanced cross-entropy the training step uses for ``head: classification``
"""
