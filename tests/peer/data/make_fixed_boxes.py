"""Build fixed_boxes.onnx: a YOLO-shaped head whose output is three fixed boxes.

    .venv-peer/bin/python tests/peer/data/make_fixed_boxes.py

Input ``images`` (1, 3, H, W) float32; output ``(1, 8, 3)`` = (cx, cy, w, h and 4
class scores) for 3 anchors in network-input pixels, plus 0 * mean(images) so the
input is used. Needs ``onnx`` (peer venv); the tests need only onnxruntime.
"""

from __future__ import annotations

from pathlib import Path


def main() -> None:
    """Write fixed_boxes.onnx next to this file."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    boxes = np.zeros((1, 8, 3), np.float32)
    boxes[0, :, 0] = [40, 60, 20, 12, 0.9, 0.05, 0.02, 0.01]  # a pore at (15, 27, 10, 6) / 2
    boxes[0, :, 1] = [42, 60, 20, 12, 0.05, 0.6, 0.01, 0.01]  # overlaps box 0: NMS drops it
    boxes[0, :, 2] = [100, 100, 40, 40, 0.02, 0.01, 0.15, 0.01]  # crack, below conf 0.25
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["boxes", "z"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_boxes",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 8, 3])],
        initializer=[
            numpy_helper.from_array(boxes, "boxes"),
            numpy_helper.from_array(np.zeros((), np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(Path(__file__).with_name("fixed_boxes.onnx")))


if __name__ == "__main__":
    main()
