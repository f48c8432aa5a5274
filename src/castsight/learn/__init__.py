"""Teach the learned detector from good images only (needs torch: the ``train`` extra).

``synth`` makes training samples (superimposed defects with exact masks),
``net`` is the network, ``train`` the loop, ``export`` the ONNX export and
check, ``calibrate`` the threshold and the validation report, ``teach``
puts them together for ``castsight teach``. Inference lives in the core:
:mod:`castsight.detect.learned` (onnxruntime, no torch).
"""
