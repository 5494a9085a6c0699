"""Exact rewrites of an exported ONNX graph that onnxruntime does not make itself.

``fold_zero_pads``: a zero ``Pad`` with constant amounts in front of a ``Conv`` becomes that
convolution's own (possibly asymmetric) padding. PyTorch's convolutions pad symmetrically, so
TensorFlow's SAME padding at stride 2 (EfficientNet's) exports as a ``Pad`` node; onnxruntime
keeps it, copies the tensor out of its blocked NCHWc layout and back around it, and spends
about a quarter of the style engine's encoder time there at 512 px (docs/feature_engine.md).
ONNX's ``Conv`` takes begin and end pads per axis, so the merged graph computes the same sums.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..errors import require_extra

# ops whose outputs are computed here when all their inputs are constants (the exporters build
# a Pad's amounts from constants through these)
_CONSTANT_OPS = frozenset(
    {"Constant", "ConstantOfShape", "Cast", "Concat", "Reshape", "Slice", "Transpose",
     "Unsqueeze", "Squeeze", "Gather"}
)  # fmt: skip


def _attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _constants(graph) -> dict[str, np.ndarray]:
    """Every tensor of ``graph`` that does not depend on its inputs: initializers, and the
    outputs of constant-only ``_CONSTANT_OPS`` nodes, evaluated with ONNX's reference runtime."""
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    known = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type in _CONSTANT_OPS and all(not n or n in known for n in node.input):
            values = ReferenceEvaluator(node).run(None, {n: known[n] for n in node.input if n})
            known.update(zip(node.output, values, strict=True))
    return known


def _conv_padding(pad, readers, known: dict, graph_outputs: set[str]):
    """(the Conv that alone reads ``pad``, its new pads), or None where folding would change
    what the graph computes."""
    inputs = list(pad.input) + ["", ""]
    amounts = known.get(inputs[1])
    value = known.get(inputs[2]) if inputs[2] else np.zeros(1)
    if amounts is None or value is None or np.any(value != 0) or inputs[3]:
        return None  # amounts or value depend on the input, a non-zero value, or axes given
    if _attributes(pad).get("mode", b"constant") != b"constant" or pad.output[0] in graph_outputs:
        return None
    users = readers[pad.output[0]]
    if len(users) != 1 or users[0].op_type != "Conv" or users[0].input[0] != pad.output[0]:
        return None
    conv, conv_attrs = users[0], _attributes(users[0])
    if conv_attrs.get("auto_pad", b"NOTSET") != b"NOTSET":
        return None
    amounts = [int(a) for a in amounts]
    rank = len(amounts) // 2
    if min(amounts) < 0 or any(amounts[:2]) or any(amounts[rank : rank + 2]):
        return None  # cropping, or padding the batch or channel axis
    extra = amounts[2:rank] + amounts[rank + 2 :]
    old = list(conv_attrs.get("pads", [0] * len(extra)))
    return conv, [a + b for a, b in zip(old, extra, strict=True)]


def _drop_dead_nodes(graph) -> None:
    """Remove the nodes no graph output depends on (a folded Pad's constant amounts)."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(n for n in node.input if n)
    kept = []
    for node in reversed(keep):  # copies: the originals go with the field's old contents
        kept.append(type(node)())
        kept[-1].CopyFrom(node)
    del graph.node[:]
    graph.node.extend(kept)


def fold_zero_pads(data: bytes) -> bytes:
    """A serialized ONNX model with every foldable zero ``Pad`` merged into its ``Conv``."""
    onnx = require_extra("onnx", "onnx", "ONNX support")
    model = onnx.load_model_from_string(data)
    graph = model.graph
    known = _constants(graph)
    readers = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            readers[name].append(node)
    graph_outputs = {o.name for o in graph.output}
    folded = []
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        found = _conv_padding(pad, readers, known, graph_outputs)
        if found is None:
            continue
        conv, pads = found
        for attribute in [a for a in conv.attribute if a.name == "pads"]:
            conv.attribute.remove(attribute)
        conv.attribute.append(onnx.helper.make_attribute("pads", pads))
        conv.input[0] = pad.input[0]
        folded.append(pad)
    if not folded:
        return data
    for pad in folded:
        graph.node.remove(pad)
    _drop_dead_nodes(graph)
    return model.SerializeToString()
