#!/usr/bin/env python3
"""Makes the ONNX fixtures of OnnxImportTest: two small networks trained by PyTorch on Fashion-MNIST and exported
with torch.onnx.export, and the outputs PyTorch computes for the first five test images, which the test compares
with the network CompactML reads from the file. Run from this directory with Debian's python3-torch
(apt-get install python3-torch dataset-fashion-mnist); the test itself needs no Python.

  python3 make_fixtures.py    writes pytorch-mlp.onnx, pytorch-cnn.onnx and pytorch-outputs.json
"""
import gzip
import json

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist/"


def idx(name):
    with gzip.open(DATA + name) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def train(model, x, y, epochs=2):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for i in range(0, len(x), 64):
            opt.zero_grad()
            loss(model(x[i:i + 64]), y[i:i + 64]).backward()
            opt.step()


def main():
    torch.manual_seed(7)
    x = torch.tensor(idx("train-images-idx3-ubyte.gz")[:6000].reshape(-1, 784), dtype=torch.float32) / 255
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz")[:6000], dtype=torch.long)
    test = torch.tensor(idx("t10k-images-idx3-ubyte.gz")[:5].reshape(-1, 784), dtype=torch.float32) / 255

    mlp = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    train(mlp, x, y)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 14 * 14, 10))
    train(cnn, x.reshape(-1, 1, 28, 28), y)

    outputs = {}
    for name, net, shape in (("pytorch-mlp", mlp, (1, 784)), ("pytorch-cnn", cnn, (1, 1, 28, 28))):
        served = nn.Sequential(net, nn.Softmax(dim=1)).eval()
        torch.onnx.export(served, torch.zeros(shape), name + ".onnx", input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
        with torch.no_grad():
            outputs[name] = served(test.reshape((-1,) + shape[1:])).tolist()
    with open("pytorch-outputs.json", "w") as f:
        json.dump({"torch": torch.__version__, "images": "the first 5 of t10k-images-idx3-ubyte.gz, / 255",
                   "outputs": outputs}, f, indent=1)


if __name__ == "__main__":
    main()
