"""Export a trained network to ONNX (dynamic batch, height and width) and check it.

The check runs the same random normalised-looking inputs (two sizes) through
PyTorch and onnxruntime and records the largest absolute logit difference;
an export that disagrees by more than :data:`MAX_LOGIT_DIFF` is refused.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from castsight.errors import CastsightError
from castsight.learn.net import DefectNet

MAX_LOGIT_DIFF = 1e-3
OPSET = 17


def export_onnx(net: DefectNet) -> bytes:
    """ONNX bytes of ``net`` in eval mode; input ``x`` (N,C,H,W), output ``logit``."""
    net = net.eval().cpu()
    side = 4 * net.multiple
    dummy = torch.zeros(1, net.channels, side, side)
    buf = io.BytesIO()
    axes = {0: "n", 2: "h", 3: "w"}
    with warnings.catch_warnings():  # the TorchScript exporter announces its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (dummy,),
            buf,  # type: ignore[arg-type]
            input_names=["x"],
            output_names=["logit"],
            dynamic_axes={"x": axes, "logit": axes},
            opset_version=OPSET,
            dynamo=False,
        )
    return buf.getvalue()


def verify_onnx(net: DefectNet, onnx_bytes: bytes, seed: int = 0) -> float:
    """Largest |torch - onnxruntime| logit over two test inputs; raises if too large."""
    import onnxruntime as ort

    net = net.eval().cpu()
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    m = net.multiple
    for h, w in ((4 * m, 4 * m), (6 * m, 10 * m)):
        x = rng.normal(0.0, 1.5, (2, net.channels, h, w)).astype(np.float32)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        got = sess.run(["logit"], {"x": x})[0]
        worst = max(worst, float(np.abs(np.asarray(got) - ref).max()))
    if not worst <= MAX_LOGIT_DIFF:
        raise CastsightError(None, f"ONNX export disagrees with PyTorch by {worst:.2e} (logits)")
    return worst
