"""Trains the beat network (model.py) on what dump.ts wrote. Run with Debian's python3
(apt-get install python3-torch; /usr/bin/python3, not a pyenv python on PATH):
  /usr/bin/python3 scripts/audio-eval/beat-net/train.py DATA OUT.pt [--epochs 40] [--chunk 3000] [--with-games]
Training songs: the synthetic set, the real dev set with its tempo sweep, and dev-grooves
except every fifth groove (by name), which is kept out as a validation part. dev-games is
kept out too unless --with-games, so both stay out-of-sample measures; the held-out set
is never dumped. Seeded; CPU, 2 threads (~12 s an epoch on a 2-core VM).
Augmentation: every song is time-stretched by a random factor in [0.8, 1.25] each epoch
(frames interpolated, beat targets moved with them), so the network cannot learn the
tempo of a song, only where its beats are. Targets: the frame of each beat (downbeat) 1,
its two neighbours 0.5 (target widening, Boeck et al.)."""
import argparse, glob, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import BeatTCN  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("out")
ap.add_argument("--epochs", type=int, default=40)
ap.add_argument("--chunk", type=int, default=3000)
ap.add_argument("--with-games", action="store_true")
a = ap.parse_args()
torch.set_num_threads(2)
random.seed(0)
np.random.seed(0)
torch.manual_seed(0)


def load():
    songs = []
    for jp in sorted(glob.glob(os.path.join(a.data, "*.json"))):
        m = json.load(open(jp))
        x = np.fromfile(jp[:-5] + ".f32", dtype=np.float32).reshape(m["nFrames"], m["nBands"])
        songs.append((m, x))
    return songs


def groove(m):
    return m["id"].rsplit("-t", 1)[0]


songs = load()
grooves = sorted({groove(m) for m, _ in songs if m["part"] == "dev-grooves"})
val_grooves = set(grooves[::5])
is_val = lambda m: m["part"] == "dev-grooves" and groove(m) in val_grooves  # noqa: E731
VAL = [s for s in songs if is_val(s[0])]
GAMES = [s for s in songs if s[0]["part"] == "dev-games"]
TRAIN = [s for s in songs if not is_val(s[0]) and (a.with_games or s[0]["part"] != "dev-games")]
print(f"train {len(TRAIN)} songs, validation (dev-grooves) {len(VAL)}, dev-games {len(GAMES)}{' (in training)' if a.with_games else ''}", flush=True)


def net_input(x):
    rise = np.maximum(0, np.diff(x, axis=0, prepend=x[:1]))
    return np.concatenate([x, rise], axis=1).T  # (72, T), as input.ts builds it


def targets(m, n, frame_rate):
    out = np.zeros((2, n), np.float32)
    for row, times in ((0, m["beats"]), (1, m["downbeats"])):
        for s in times:
            i = int(round(s * frame_rate))
            for j, w in ((i, 1.0), (i - 1, 0.5), (i + 1, 0.5)):
                if 0 <= j < n:
                    out[row, j] = max(out[row, j], w)
    return out


def stretch(x, k):
    n = x.shape[0]
    src = np.arange(int(n * k)) / k
    i0 = np.clip(np.floor(src).astype(int), 0, n - 1)
    i1 = np.clip(i0 + 1, 0, n - 1)
    w = (src - i0)[:, None]
    return (x[i0] * (1 - w) + x[i1] * w).astype(np.float32)


POS_WEIGHT = torch.tensor([[5.0], [15.0]])  # beats are ~1 frame in 40, downbeats 1 in 160


def batch(items):
    xs, ys = [], []
    for m, x in items:
        k = math.exp(random.uniform(math.log(0.8), math.log(1.25)))
        xx = stretch(x, k)
        y = targets(m, xx.shape[0], m["frameRate"] * k)
        st = random.randint(0, max(0, xx.shape[0] - a.chunk))
        xs.append(net_input(xx)[:, st : st + a.chunk])
        ys.append(y[:, st : st + a.chunk])
    n = min(v.shape[1] for v in xs)
    return torch.tensor(np.stack([v[:, :n] for v in xs])), torch.tensor(np.stack([v[:, :n] for v in ys]))


def loss_on(model, items):
    model.eval()
    tot = 0.0
    with torch.no_grad():
        for m, x in items:
            o = model(torch.tensor(net_input(x)[None]))
            tot += F.binary_cross_entropy_with_logits(o, torch.tensor(targets(m, x.shape[0], m["frameRate"])[None]), pos_weight=POS_WEIGHT).item()
    model.train()
    return tot / max(1, len(items))


model = BeatTCN()
print("weights", sum(p.numel() for p in model.parameters()), flush=True)
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
for ep in range(a.epochs):
    t0 = time.time()
    random.shuffle(TRAIN)
    tl, nb = 0.0, 0
    for i in range(0, len(TRAIN), 8):
        xb, yb = batch(TRAIN[i : i + 8])
        loss = F.binary_cross_entropy_with_logits(model(xb), yb, pos_weight=POS_WEIGHT)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tl, nb = tl + loss.item(), nb + 1
    if ep == int(a.epochs * 0.7):
        for g in opt.param_groups:
            g["lr"] *= 0.3
    print(f"epoch {ep}: train {tl / nb:.4f}, validation {loss_on(model, VAL):.4f}, dev-games {loss_on(model, GAMES):.4f} ({time.time() - t0:.0f} s)", flush=True)
torch.save(model.state_dict(), a.out)
print(f"saved {a.out}", flush=True)
