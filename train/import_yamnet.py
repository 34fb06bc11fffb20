"""Import YAMNet's AudioSet weights from the TFLite file into the Keras model of :mod:`soundpred.yamnet`.

    python -m train.import_yamnet                       # -> ~/.cache/soundpred/yamnet-audioset
    python -m train.import_yamnet --tflite PATH --out FOLDER

The TFLite export stores most kernels as int8 with per-tensor or per-output-channel scales
(zero point 0) and batch norm folded into float32 biases. Each tensor is dequantized
(``(q - zero_point) * scale``), transposed to Keras' kernel layout and assigned to the layer
of the same name; every layer of the body and the AudioSet head must receive its weights.
The bundle written is the AudioSet model (waveform in, 521 sigmoid scores out), task
``audioset``, with the class names: the backbone the classifier trainer starts from.
"""
from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from soundpred.bundle import save_bundle
from soundpred.data import cache_dir
from soundpred.paths import YAMNET_DIR
from soundpred.yamnet import YAMNET_FRONTEND, body_layer_names, build_yamnet, read_class_map

DEFAULT_TFLITE = YAMNET_DIR / "yamnet.tflite"
DEFAULT_CLASS_MAP = YAMNET_DIR / "yamnet_class_map.csv"
DEFAULT_OUT = cache_dir() / "yamnet-audioset"
_LAYER = re.compile(r"yamnet_frames/layer(\d+)/(conv|depthwise_conv|pointwise_conv)/")


def interpreter(path):
    """A ready ``tf.lite.Interpreter`` for the TFLite file (TensorFlow's bundled runtime)."""


    with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": it still ships with TF 2.21
        warnings.simplefilter("ignore")
        it = tf.lite.Interpreter(model_path=str(path))
    it.allocate_tensors()
    return it


def dequantize(it, detail: dict) -> np.ndarray:
    """A constant tensor as float32: int8 tensors times their (per-channel) scales."""
    q = it.get_tensor(detail["index"])
    if q.dtype == np.float32:
        return q
    params = detail["quantization_parameters"]
    scales, zeros = params["scales"].astype(np.float32), params["zero_points"].astype(np.float32)
    def along_axis(v):  # per-channel values lie along quantized_dimension; one value is per tensor
        shape = [1] * q.ndim
        if v.size > 1:
            shape[params["quantized_dimension"]] = v.size
        return v.reshape(shape)

    return (q.astype(np.float32) - along_axis(zeros)) * along_axis(scales)


def tflite_weights(path) -> dict[str, list[np.ndarray]]:
    """``{keras layer name: [kernel, bias]}`` in Keras layouts, read from the TFLite file."""
    it = interpreter(path)
    kernels, biases = {}, {}
    for d in it.get_tensor_details():
        name, shape = d["name"], tuple(d["shape"])
        m = _LAYER.match(name)
        if name == "yamnet_frames/dense/MatMul":
            kernels["audioset"] = dequantize(it, d).T  # (521, 1024) -> (1024, 521)
        elif name == "yamnet_frames/dense/BiasAdd/ReadVariableOp/resource":
            biases["audioset"] = it.get_tensor(d["index"])
        elif m is None or d["dtype"] not in (np.float32, np.int8):
            continue
        else:
            i, kind = int(m[1]), m[2]
            layer = f"layer{i}" if kind == "conv" else f"layer{i}_{'dw' if kind == 'depthwise_conv' else 'pw'}"
            if len(shape) == 1 and name.endswith("FusedBatchNormV3"):
                biases[layer] = it.get_tensor(d["index"])
            elif len(shape) == 4:
                # TFLite conv (out, h, w, in) and depthwise (1, h, w, channels) -> Keras (h, w, in, out)
                # and (h, w, channels, 1). Layers 4-14 also list a float32 copy of the depthwise kernel
                # that the interpreter fills at run time: the stored int8 constant wins.
                if d["dtype"] == np.int8 or layer not in kernels:
                    kernels[layer] = np.transpose(dequantize(it, d), (1, 2, 3, 0))
    missing = sorted(set(kernels) ^ set(biases))
    if missing:
        raise ValueError(f"{path}: kernel or bias missing for {missing}")
    return {k: [kernels[k], biases[k]] for k in kernels}


def load_weights(model, weights: dict[str, list[np.ndarray]]) -> None:
    """Assign every imported tensor; refuses a shape mismatch or a layer left without weights."""

    expected = set(body_layer_names()) | {"audioset"}
    if set(weights) != expected:
        raise ValueError(f"imported layers differ from the model's: missing {sorted(expected - set(weights))}, "
                         f"unexpected {sorted(set(weights) - expected)}")
    for name, values in weights.items():
        layer = model.get_layer(name)
        shapes = [tuple(v.shape) for v in layer.get_weights()]
        if shapes != [tuple(v.shape) for v in values]:
            raise ValueError(f"{name}: model wants {shapes}, file has {[v.shape for v in values]}")
        layer.set_weights(values)


def build_audioset_model(tflite=DEFAULT_TFLITE):
    """YAMNet as published (waveform -> 521 AudioSet scores) with the TFLite file's weights."""

    model = build_yamnet()
    load_weights(model, tflite_weights(tflite))
    return model


CARD = """---
library_name: keras
license: apache-2.0
tags: [audio, audio-classification, audioset, yamnet, soundpred]
---
# YAMNet (AudioSet, 521 classes) in Keras 3

Contains YAMNet weights, Copyright Google, Apache-2.0 (tensorflow/models
`research/audioset/yamnet`), imported from the int8 TFLite export by
`python -m train.import_yamnet` (dequantized; batch norm folded into the biases).
Waveform in (16 kHz mono, 0.975 s windows); 521 AudioSet sigmoid scores out.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tflite", type=Path, default=DEFAULT_TFLITE)
    ap.add_argument("--class-map", type=Path, default=DEFAULT_CLASS_MAP)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    model = build_audioset_model(args.tflite)
    save_bundle(model, args.out, frontend=YAMNET_FRONTEND, task="audioset", labels=read_class_map(args.class_map),
                training={"source": "YAMNet TFLite export (int8 weights, dequantized)",
                          "licence": "Apache-2.0, Copyright Google"}, card=CARD, name="yamnet-audioset")
    print(f"wrote {args.out} ({model.count_params()} parameters)", file=sys.stderr)
    return args.out


if __name__ == "__main__":
    main()
