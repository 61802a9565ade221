"""Exports a trained beat network to ONNX for onnxruntime-node: input "x" (1, 72, frames),
output "act" (1, 2, frames), the beat and downbeat activations after a sigmoid.
  /usr/bin/python3 scripts/audio-eval/beat-net/export.py MODEL.pt OUT.onnx"""
import os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import BeatTCN  # noqa: E402


class WithSigmoid(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return torch.sigmoid(self.m(x))


m = BeatTCN()
m.load_state_dict(torch.load(sys.argv[1]))
m.eval()
torch.onnx.export(
    WithSigmoid(m), torch.zeros(1, 72, 1000), sys.argv[2], input_names=["x"], output_names=["act"],
    dynamic_axes={"x": {2: "frames"}, "act": {2: "frames"}}, opset_version=13,
)
print(f"wrote {sys.argv[2]}")
