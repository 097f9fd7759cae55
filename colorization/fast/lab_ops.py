"""CIE Lab with ``keras.ops``: the twin of :mod:`colorization.lab` that runs inside a
compiled training step, on any Keras backend (TensorFlow on the CPU, JAX on a GPU).

* :func:`rgb_to_lab_ops`, :func:`lab_to_rgb_ops`: the same formulas and constants as
  scikit-image (tests hold them within 0.01 in L, a and b);
* :func:`lab_batch`: a training batch as the network eats it: uint8 RGB, optionally
  mirrored per image, to (scaled L, ab / 128) -- the one place a batch is flipped and
  scaled, used by both training loops and the data benchmark.
"""

from __future__ import annotations

from keras import ops

from colorization.lab import LAB_EPSILON, LAB_KAPPA, RGB_FROM_XYZ, WHITE_D65, XYZ_FROM_RGB, scale_ab, scale_l


def rgb_to_lab_ops(rgb):
    """``keras.ops`` version of :func:`rgb_to_lab` for use inside a training step.

    Parameters
    ----------
    rgb : tensor, shape (..., 3)
        Float sRGB in [0, 1] (cast uint8 with ``rgb / 255`` first).

    Returns
    -------
    tensor, shape (..., 3), float32
        L, a, b with the same formulas and constants as scikit-image.
    """
    rgb = ops.cast(rgb, "float32")
    linear = ops.where(
        rgb > 0.04045,
        ops.power((ops.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    matrix = ops.convert_to_tensor((XYZ_FROM_RGB / WHITE_D65[:, None]).T, "float32")
    xyz = ops.matmul(linear, matrix)  # already divided by the reference white
    f = ops.where(
        xyz > LAB_EPSILON,
        ops.power(ops.maximum(xyz, LAB_EPSILON), 1.0 / 3.0),
        LAB_KAPPA * xyz + 16.0 / 116.0,
    )
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return ops.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb_ops(lab):
    """``keras.ops`` version of :func:`lab_to_rgb`: Lab -> sRGB float in [0, 1]."""
    lab = ops.cast(lab, "float32")
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = ops.maximum(fy - lab[..., 2] / 200.0, 0.0)  # as skimage: negative Z -> 0
    f = ops.stack([fx, fy, fz], axis=-1)
    xyz = ops.where(f > 0.2068966, f * f * f, (f - 16.0 / 116.0) / LAB_KAPPA)
    matrix = ops.convert_to_tensor((RGB_FROM_XYZ * WHITE_D65[None, :]).T, "float32")
    linear = ops.matmul(xyz, matrix)
    srgb = ops.where(
        linear > 0.0031308,
        1.055 * ops.power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )
    return ops.clip(srgb, 0.0, 1.0)


def lab_batch(rgb_uint8, flip=None):
    """uint8 RGB batch -> the network's input and target.

    Parameters
    ----------
    rgb_uint8 : array or tensor (B, H, W, 3), uint8 (or float in 0..255)
    flip : array or tensor (B,), optional
        Per-image flags (bool or 0/1); where set, the image is mirrored left-right.

    Returns
    -------
    (L_scaled, ab_scaled) : tensors (B, H, W, 1) and (B, H, W, 2), float32
        ``scale_l(L)`` in [-1, 1] and ``scale_ab(ab)`` = ab / 128, with the formulas
        of :func:`colorization.lab.rgb_to_lab`.
    """
    rgb = rgb_uint8
    if flip is not None:
        rgb = ops.where(ops.reshape(ops.cast(flip, "bool"), (-1, 1, 1, 1)), ops.flip(rgb, axis=2), rgb)
    lab_values = rgb_to_lab_ops(ops.cast(rgb, "float32") / 255.0)
    return scale_l(lab_values[..., :1]), scale_ab(lab_values[..., 1:])
