"""TensorFlow SavedModel exports (a folder): Keras 3's ``Model.export(format="tf_saved_model")``, and running one.

The folder serves the network under the signature ``serving_default`` (input ``L``, any batch), for
TensorFlow Serving, TensorFlow.js's converter or any TensorFlow program. It is fp32 only: TensorFlow
has no post-training fp16 or int8 for a SavedModel (its quantizers write LiteRT files: ``--format
litert``). The provenance is ``assets/colorization.json`` inside the folder (and the sidecar beside it).

:class:`SavedModelModel` runs such a folder on TensorFlow (it does import TensorFlow, unlike the
other runtimes). A SavedModel is a TensorFlow program, so before it is loaded every operation in
its graphs is checked (:func:`check_operations`): only the arithmetic, shape and variable operations
a convolutional network uses may run on a call or at load; the checkpoint operations (which read
and write files) only in the functions that save and restore its variables, never reachable from
the serving graph. A folder with any other operation (file I/O, Python callbacks) is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from colorization.export import SAVED_MODEL_FILE
from colorization.export.runtime import ExportedModel, Port, static_shape, unusable
from colorization.weights import WeightsError

PROVENANCE_FILE = "assets/colorization.json"
SIGNATURE = "serving_default"
NETWORK_OPS = frozenset(
    "AddV2 AssignVariableOp BiasAdd Cast ConcatV2 Const Conv2D DepthToSpace ExpandDims Fill Identity IdentityN Maximum "
    "MatMul Mean Minimum Mul NoOp Pack Pad PartitionedCall Placeholder ReadVariableOp RealDiv Relu Relu6 Reshape "
    "ResizeBilinear ResizeNearestNeighbor Rsqrt Shape Sigmoid Slice Softmax Squeeze StatefulPartitionedCall "
    "StopGradient StridedSlice Sub Tanh Tile Transpose VarHandleOp VarIsInitializedOp Exp Log Sum Max Square".split()
)
CHECKPOINT_OPS = frozenset(
    "DisableCopyOnRead MergeV2Checkpoints RestoreV2 SaveV2 Select ShardedFilename StaticRegexFullMatch "
    "StringJoin".split()
)


def write(network, work: Path, output: Path, record: dict, calibration, overwrite: bool) -> None:
    """Write ``network`` to the folder ``output`` as a SavedModel, with ``assets/colorization.json``."""
    import keras

    staged = work / "saved_model"
    spec = keras.InputSpec(shape=(None, *network.input_shape[1:]), dtype="float32", name="L")
    network.export(str(staged), format="tf_saved_model", verbose=False, input_signature=[spec])
    (staged / PROVENANCE_FILE).parent.mkdir(exist_ok=True)
    (staged / PROVENANCE_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    load_saved_model(staged)  # the folder runs and fits the network path, or nothing is written
    if output.exists() and overwrite:  # a SavedModel (check_request refuses any other folder)
        os.replace(output, work / "replaced")
    os.rename(staged, output)  # fails, changing nothing, if another writer made output meanwhile


class SavedModelModel(ExportedModel):
    """A SavedModel folder run by TensorFlow (:class:`~colorization.export.runtime.ExportedModel`)."""

    suffix = ".pb"
    kind = "TensorFlow SavedModel"

    def __init__(self, path: str | Path, threads: int | None = None):
        path = Path(path)
        if not (path / SAVED_MODEL_FILE).is_file():
            raise WeightsError(f"{path}: not a SavedModel folder (no {SAVED_MODEL_FILE} in it)")
        super().__init__(path / SAVED_MODEL_FILE, threads)
        self.path = path

    def open(self, threads: int | None):
        import tensorflow as tf

        folder = self.path.parent
        check_operations(self.path)
        try:
            self.function = tf.saved_model.load(str(folder)).signatures[SIGNATURE]
        except Exception as error:  # damaged variables, a missing signature
            raise unusable(folder, self.kind, error) from None
        (inputs,), outputs = self.function.structured_input_signature[1:], self.function.structured_outputs
        ports = [
            [
                Port(name, static_shape(spec.shape.as_list()), spec.dtype.name, spec.dtype == tf.float32)
                for name, spec in group
            ]
            for group in (inputs.items() if isinstance(inputs, dict) else [], outputs.items())
        ]
        return ports[0], ports[1], read_provenance(folder)

    def run(self, x: np.ndarray) -> np.ndarray:
        return next(iter(self.function(**{self.input_name: x}).values())).numpy()


def load_saved_model(path: str | Path, threads: int | None = None) -> SavedModelModel:
    """A SavedModel folder, checked (:class:`SavedModelModel`)."""
    return SavedModelModel(path, threads)


def check_operations(pb: Path) -> None:
    """:class:`WeightsError` unless every operation in ``pb``'s graphs is a network or variable one, and the
    checkpoint (file) operations appear only where no signature (the serving one, the init op) reaches."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString(pb.read_bytes())
    except Exception as error:  # protobuf's DecodeError
        raise unusable(pb.parent, SavedModelModel.kind, error) from None
    for graph in saved.meta_graphs:
        functions = {f.signature.name: f for f in graph.graph_def.library.function}
        served = signature_nodes(graph)
        reachable = called(served, functions)
        for name, function in functions.items():
            allowed = NETWORK_OPS if name in reachable else NETWORK_OPS | CHECKPOINT_OPS
            refuse_others(pb.parent, {node.op for node in function.node_def} - allowed, name)
        refuse_others(pb.parent, {node.op for node in served} - NETWORK_OPS, "serving graph")
        refuse_others(pb.parent, {node.op for node in graph.graph_def.node} - NETWORK_OPS - CHECKPOINT_OPS, "graph")


def signature_nodes(graph) -> list:
    """The graph's nodes that its signatures' outputs depend on (what a call or the init op runs)."""
    nodes = {node.name: node for node in graph.graph_def.node}
    todo = [t.name for sig in graph.signature_def.values() for t in sig.outputs.values()]
    found: dict = {}
    while todo:
        name = todo.pop().lstrip("^").split(":")[0]
        if name in nodes and name not in found:
            found[name] = nodes[name]
            todo.extend(nodes[name].input)
    return list(found.values())


def called(nodes, functions: dict) -> set[str]:
    """The names of the functions ``nodes`` call, directly or through other functions."""
    found, todo = set(), list(nodes)
    while todo:
        for attr in todo.pop().attr.values():
            for name in [attr.func.name, *(f.name for f in attr.list.func)]:
                if name in functions and name not in found:
                    found.add(name)
                    todo.extend(functions[name].node_def)
    return found


def refuse_others(folder: Path, others: set, where: str) -> None:
    if others:
        raise WeightsError(
            f"{folder}: the SavedModel's {where} holds operations a colorization network does not use "
            f"({', '.join(sorted(others)[:5])}); refused, since they could read or write files or run code"
        )


def read_provenance(folder: Path) -> dict[str, str]:
    """The provenance in ``assets/colorization.json`` (empty for a SavedModel made elsewhere)."""
    path = folder / PROVENANCE_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return (
        {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in record.items()}
        if isinstance(record, dict)
        else {}
    )
