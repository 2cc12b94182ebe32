"""A PyTorch (1.13) twin of the CTMSR denoiser, written from ../shared/spec/CTMSR.md sections 2-3.

It exists to time the same network in PyTorch (bench/twin/serve.py) and to prove that it is the same
function as ours: `check.py` loads ../shared/fixtures/ctmsr_small.safetensors into it and compares D.
Module names follow the official state dict (`model.` prefix, `enc.64x64_block0.swin_layer...`), so
the released weights and our checkpoints load with load_state_dict(strict=True).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    """Hyper-parameters (spec section 3); the defaults are the released x4 model."""

    def __init__(self, model_channels=192, channel_mult=(1, 2, 2, 2), num_blocks=4, embed_dim=192,
                 num_heads=6, window_size=8, mlp_ratio=4, dropout=0.13, scale=4):
        self.model_channels = model_channels
        self.channel_mult = tuple(channel_mult)
        self.num_blocks = num_blocks
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.window_size = window_size
        self.mlp_ratio = mlp_ratio
        self.dropout = dropout
        self.scale = scale

    @staticmethod
    def x4():
        return Config()

    @staticmethod
    def small():
        return Config(model_channels=32, num_blocks=2, embed_dim=32, num_heads=2)

    @staticmethod
    def from_metadata(m):
        """Safetensors metadata (strings) -> Config; absent keys keep the x4 defaults."""
        c = Config()
        for key in ("model_channels", "num_blocks", "embed_dim", "num_heads", "window_size", "mlp_ratio"):
            if key in m:
                setattr(c, key, int(m[key]))
        if "channel_mult" in m:
            c.channel_mult = tuple(int(v) for v in str(m["channel_mult"]).split(","))
        if "dropout" in m:
            c.dropout = float(m["dropout"])
        return c

    @property
    def emb_channels(self):
        return 4 * self.model_channels


def unet_groups(channels):
    return min(32, channels // 4)


class Conv(nn.Conv2d):
    """3x3 / 1x1 conv, zero padding k/2; with up/down it carries EDM's resample_filter buffer and
    resamples (nearest x2 or 2x2 average) before the convolution."""

    def __init__(self, cin, cout, k, up=False, down=False):
        super().__init__(cin, cout, k, padding=k // 2)
        self.up, self.down = up, down
        if up or down:
            self.register_buffer("resample_filter", torch.full((1, 1, 2, 2), 0.25, dtype=torch.float16))

    def forward(self, x):
        if self.down:
            x = F.avg_pool2d(x, 2)
        elif self.up:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return super().forward(x)


class Holder(nn.Module):
    """A named container (patch_embed, attn, mlp ...) so parameter names match the checkpoint."""


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, ws):
        super().__init__()
        self.heads, self.ws = heads, ws
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        ys, xs = torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")
        ys, xs = ys.flatten(), xs.flatten()
        index = (ys[:, None] - ys[None, :] + ws - 1) * (2 * ws - 1) + (xs[:, None] - xs[None, :] + ws - 1)
        self.register_buffer("relative_position_index", index.to(torch.int64))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def attend(self, qkv):
        """qkv [windows, T, 3E] (already projected) -> [windows, T, E] before proj; the part our fused kernel does."""
        w, t, e3 = qkv.shape
        d = e3 // 3 // self.heads
        q, k, v = qkv.reshape(w, t, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        bias = bias.reshape(t, t, self.heads).permute(2, 0, 1)
        attn = torch.softmax((q * self.scale) @ k.transpose(-2, -1) + bias.unsqueeze(0), dim=-1)
        return (attn @ v).transpose(1, 2).reshape(w, t, self.heads * d)

    def forward(self, tokens):
        return self.proj(self.attend(self.qkv(tokens)))


def window_partition(x, ws):
    b, e, h, w = x.shape
    x = x.reshape(b, e, h // ws, ws, w // ws, ws).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(-1, ws * ws, e)


def window_reverse(tokens, ws, b, h, w):
    e = tokens.shape[-1]
    x = tokens.reshape(b, h // ws, w // ws, ws, ws, e).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(b, e, h, w)


class SwinBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        e = cfg.embed_dim
        self.ws = cfg.window_size
        self.norm1 = nn.GroupNorm(32, e, eps=1e-5)
        self.attn = WindowAttention(e, cfg.num_heads, cfg.window_size)
        self.norm2 = nn.GroupNorm(32, e, eps=1e-5)
        self.mlp = Holder()
        self.mlp.fc1 = nn.Conv2d(e, cfg.mlp_ratio * e, 1)
        self.mlp.fc2 = nn.Conv2d(cfg.mlp_ratio * e, e, 1)

    def forward(self, x):
        b, _, h, w = x.shape
        s = x
        out = self.attn(window_partition(self.norm1(x), self.ws))
        x = s + window_reverse(out, self.ws, b, h, w)
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class SwinLayer(nn.Module):
    def __init__(self, channels, cfg):
        super().__init__()
        e = cfg.embed_dim
        self.patch_embed = Holder()
        self.patch_embed.proj = nn.Conv2d(channels, e, 1)
        self.blocks = nn.ModuleList([SwinBlock(cfg)])
        self.patch_unembed = Holder()
        self.patch_unembed.proj = nn.Conv2d(e, channels, 1)
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        x0 = x
        x = self.patch_embed.proj(x)
        for blk in self.blocks:
            x = blk(x)
        return self.conv(self.patch_unembed.proj(x)) + x0


class UNetBlock(nn.Module):
    def __init__(self, cin, cout, cfg, up=False, down=False, attention=False):
        super().__init__()
        self.dropout = cfg.dropout
        self.norm0 = nn.GroupNorm(unet_groups(cin), cin, eps=1e-6)
        self.conv0 = Conv(cin, cout, 3, up=up, down=down)
        self.affine = nn.Linear(cfg.emb_channels, cout)
        self.norm1 = nn.GroupNorm(unet_groups(cout), cout, eps=1e-6)
        self.conv1 = Conv(cout, cout, 3)
        self.skip = Conv(cin, cout, 1, up=up, down=down) if (cin != cout or up or down) else None
        self.swin_layer = SwinLayer(cout, cfg) if attention else None

    def forward(self, x, emb):
        h = self.conv0(F.silu(self.norm0(x)))
        h = F.silu(self.norm1(h + self.affine(emb)[:, :, None, None]))
        h = self.conv1(F.dropout(h, p=self.dropout, training=self.training))
        h = (h + (self.skip(x) if self.skip is not None else x)) * math.sqrt(0.5)
        if self.swin_layer is not None:
            h = self.swin_layer(h) * math.sqrt(0.5)
        return h


def res_name(level):
    r = 64 >> level
    return f"{r}x{r}"


class CtmsrNet(nn.Module):
    """F(x, c_noise, lq) of spec section 3: x [B,3,sH,sW], c_noise [B], lq [B,3,H,W] -> [B,3,sH,sW]."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c, emb = cfg.model_channels, cfg.emb_channels
        self.map_layer0 = nn.Linear(c, emb)
        self.map_layer1 = nn.Linear(emb, emb)
        self.enc = nn.ModuleDict()
        skips = []
        cout = c
        levels = len(cfg.channel_mult)
        for level in range(levels):
            r = res_name(level)
            if level == 0:
                self.enc[f"{r}_conv"] = nn.Conv2d(3 * cfg.scale * cfg.scale + 3, cout, 3, padding=1)
            else:
                self.enc[f"{r}_down"] = UNetBlock(cout, cout, cfg, down=True)
            skips.append(cout)
            for i in range(cfg.num_blocks):
                cin, cout = cout, c * cfg.channel_mult[level]
                self.enc[f"{r}_block{i}"] = UNetBlock(cin, cout, cfg, attention=True)
                skips.append(cout)
        self.dec = nn.ModuleDict()
        for level in reversed(range(levels)):
            r = res_name(level)
            if level == levels - 1:
                self.dec[f"{r}_in0"] = UNetBlock(cout, cout, cfg, attention=True)
                self.dec[f"{r}_in1"] = UNetBlock(cout, cout, cfg)
            else:
                self.dec[f"{r}_up"] = UNetBlock(cout, cout, cfg, up=True)
            for i in range(cfg.num_blocks + 1):
                cin, cout = cout + skips.pop(), c * cfg.channel_mult[level]
                self.dec[f"{r}_block{i}"] = UNetBlock(cin, cout, cfg, attention=(i == cfg.num_blocks))
        self.dec[f"{res_name(0)}_aux_norm"] = nn.GroupNorm(unet_groups(cout), cout, eps=1e-6)
        self.dec[f"{res_name(0)}_aux_conv"] = nn.Conv2d(cout, c, 3, padding=1)
        self.conv_up1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv_up2 = nn.Conv2d(c, c, 3, padding=1)
        self.conv_last = nn.Conv2d(c, 3, 3, padding=1)

    def noise_features(self, c_noise):
        half = self.cfg.model_channels // 2
        freqs = (1.0 / 10000) ** (torch.arange(half, dtype=torch.float64) / (half - 1))
        a = c_noise.to(torch.float64)[:, None] * freqs[None, :]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=1).to(torch.float32)

    def forward(self, x, c_noise, lq, capture=None):
        emb = F.silu(self.map_layer1(F.silu(self.map_layer0(self.noise_features(c_noise)))))
        h = torch.cat([F.pixel_unshuffle(x, self.cfg.scale), lq], dim=1)
        skips = []
        for name, mod in self.enc.items():
            h = mod(h) if name.endswith("_conv") else mod(h, emb)
            if capture is not None:
                capture["enc." + name] = h
            skips.append(h)
        for name, mod in self.dec.items():
            if name.endswith("_aux_norm"):
                h = F.silu(mod(h))
                continue
            if name.endswith("_aux_conv"):
                h = mod(h)
            elif "_block" in name:
                h = mod(torch.cat([h, skips.pop()], dim=1), emb)
            else:
                h = mod(h, emb)
            if capture is not None:
                capture["dec." + name] = h
        a = F.leaky_relu(self.conv_up1(F.interpolate(h, scale_factor=2, mode="nearest")), 0.2)
        a = F.leaky_relu(self.conv_up2(F.interpolate(a, scale_factor=2, mode="nearest")), 0.2)
        out = self.conv_last(a)
        if capture is not None:
            capture["conv_last"] = out
        return out


class Denoiser(nn.Module):
    """D(x; sigma, lq) = c_skip x + c_out F(x, c_noise, lq) (spec section 2); `model.` holds F."""

    SIGMA_DATA = 0.1

    def __init__(self, cfg):
        super().__init__()
        self.model = CtmsrNet(cfg)

    @staticmethod
    def coefficients(sigma):
        s = sigma.to(torch.float64) / Denoiser.SIGMA_DATA
        c_skip = 0.25 / (s * s + 0.25)
        c_out = s / torch.sqrt(s * s + 0.25)
        c_noise = torch.log(sigma.to(torch.float64) + 0.002) / 4
        return c_skip.float(), c_out.float(), c_noise.float()

    def forward(self, x, sigma, lq, capture=None):
        c_skip, c_out, c_noise = self.coefficients(sigma)
        f = self.model(x, c_noise, lq, capture)
        return c_skip[:, None, None, None] * x + c_out[:, None, None, None] * f


def init_random(net, seed=0):
    """Weights for timing runs: U(+-1/sqrt(fan_in)), unit norms, zero biases, table N(0, 0.02) (as ours)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("relative_position_bias_table"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            elif "norm" in name and name.endswith(".weight"):
                p.fill_(1.0)
            elif name.endswith(".weight"):
                bound = 1 / math.sqrt(p[0].numel())
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
            else:
                p.zero_()
