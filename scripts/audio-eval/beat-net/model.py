"""The beat network: a temporal convolutional network over the analyser's band energies
(after Davies & Boeck 2019, "Temporal convolutional networks for musical audio beat
tracking", and Boeck & Davies 2020 for the downbeat head). Two 3-frame convolutions read
the spectrum, then 8 residual blocks of dilated convolutions (kernel 5, dilations 1-128
and their doubles) see ~12 s of context, enough for a bar at 40 BPM. Two outputs per
frame: beat and downbeat logits. ~63 k weights."""
import torch
import torch.nn as nn
import torch.nn.functional as F

IN_CHANNELS = 72


class Block(nn.Module):
    def __init__(self, c, d, k=5, p=0.15):
        super().__init__()
        self.c1 = nn.Conv1d(c, c, k, dilation=d, padding=d * (k - 1) // 2)
        self.c2 = nn.Conv1d(c, c, k, dilation=2 * d, padding=2 * d * (k - 1) // 2)
        self.mix = nn.Conv1d(2 * c, c, 1)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        y = torch.cat([F.elu(self.c1(x)), F.elu(self.c2(x))], 1)
        return x + self.mix(self.drop(y))


class BeatTCN(nn.Module):
    def __init__(self, c=24, blocks=8):
        super().__init__()
        self.inp = nn.Sequential(
            nn.Conv1d(IN_CHANNELS, c, 3, padding=1), nn.ELU(), nn.Dropout(0.15), nn.Conv1d(c, c, 3, padding=1), nn.ELU()
        )
        self.blocks = nn.ModuleList([Block(c, 2**i) for i in range(blocks)])
        self.out = nn.Conv1d(c, 2, 1)

    def forward(self, x):  # x: (batch, 72, frames) -> logits (batch, 2, frames)
        h = self.inp(x)
        for b in self.blocks:
            h = b(h)
        return self.out(h)
