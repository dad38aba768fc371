"""Exact rewrites of a recogniser graph that ONNX Runtime runs faster on CPU.

PReLU(x) = x for x >= 0 and a*x below; when every slope a is <= 1 that is max(x, a*x)
for every x, so a Mul and a Max give bit-identical outputs. ORT's CPU PReLU kernel is
slow next to those two (w600k_mbf: 34 PReLUs, slopes <= 0.944; measured in docs/bench.md,
"Pipeline speed-ups"). The `onnx` package is imported only here, and only when a model
is rewritten for the first time (the result is cached, facebank.models.model_cache).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Bumped whenever the rewrite changes, so cached files of an older rewrite are not reused.
REWRITE_VERSION = "prelu-max-v1"


def prelu_as_max(source: Path) -> bytes | None:
    """The serialised model with every PReLU as Max(x, a*x), or None when that would not
    be exact (a slope above 1, a slope that is not a constant) or there is no PReLU."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    constants = {init.name: init for init in model.graph.initializer}
    nodes: list[onnx.NodeProto] = []
    rewrote = False
    for node in model.graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        if slope not in constants or np.any(numpy_helper.to_array(constants[slope]) > 1.0):
            return None
        scaled = f"{node.output[0]}__scaled"
        nodes.append(helper.make_node("Mul", [x, slope], [scaled], name=f"{node.name}__mul"))
        out = node.output[0]
        nodes.append(helper.make_node("Max", [x, scaled], [out], name=f"{node.name}__max"))
        rewrote = True
    if not rewrote:
        return None
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return bytes(model.SerializeToString())
