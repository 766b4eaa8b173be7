"""GPT-2 and BERT written out as JAX parameter trees and forward passes, with their closed-form
parameter, multiply-accumulate (MAC) and key/value-cache counts.

Architectures (as released, Radford et al. 2019; Devlin et al. 2019; the checkpoints "gpt2",
"gpt2-medium", "gpt2-large", "gpt2-xl", "bert-base-uncased", "bert-large-uncased"):

* decoder (GPT-2, pre-LayerNorm): token + position embeddings; per layer
  h += W_o attn(LN_1(h)) (fused QKV projection with bias, output projection with bias, causal mask),
  h += W_2 gelu_tanh(W_1 LN_2(h) + b_1) + b_2; final LayerNorm; logits = h E^T with the token
  embedding E (tied, no extra parameters; ``tied_embeddings=False`` adds an untied V x d head).
* encoder (BERT, post-LayerNorm): token + position + token-type embeddings, embedding LayerNorm;
  per layer h = LN(h + attn(h)), h = LN(h + W_2 gelu(W_1 h + b_1) + b_2); pooler
  tanh(W_p h_[CLS] + b_p) (``BertModel``: no masked-LM head).

Closed forms, d = d_model, f = d_ff, V vocabulary, P positions, T token types, L layers:

    parameter_count = V d + P d + T d [+ 2d embedding LN, encoder] + L (4d^2 + 4d + 2 d f + f + d + 4d)
                      [+ 2d final LN, decoder] [+ d^2 + d pooler] [+ V d untied head]
    forward_macs (one sequence of n tokens): per layer 4 n d^2 (Q, K, V, output projections)
                      + 2 n^2 d (scores Q K^T and the weighted sum of values, all heads)
                      + 2 n d f (MLP); head: n d V (decoder LM head) or d^2 (pooler on [CLS]);
                      total = L * per layer + head. MACs, not FLOPs (a FLOP count would be 2x);
                      the dense n x n score matrix is counted (the causal mask is applied after it).
                      Not counted: embedding look-ups (gathers), softmax, LayerNorm, GELU, biases,
                      residual additions, the mask.
    kv_cache_bytes  = 2 (K and V) * L * batch * seq_len * d * bytes_per_element.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from numerics.validation import check_int

__all__ = [
    "TransformerConfig",
    "PRESETS",
    "resolve_config",
    "parameter_count",
    "MacCount",
    "forward_macs",
    "kv_cache_bytes",
    "init_params",
    "forward",
    "init_cache",
    "decode_step",
]

KINDS = ("decoder", "encoder")


@dataclass(frozen=True)
class TransformerConfig:
    """Hyper-parameters of a GPT-2-like decoder or a BERT-like encoder (see the module docstring)."""

    kind: str
    vocab_size: int
    max_positions: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    type_vocab_size: int = 0
    pooler: bool = False
    tied_embeddings: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("vocab_size", "max_positions", "d_model", "n_layers", "n_heads", "d_ff"):
            check_int(name, getattr(self, name), 1)
        check_int("type_vocab_size", self.type_vocab_size, 0)
        for name in ("pooler", "tied_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model = {self.d_model} is not divisible by n_heads = {self.n_heads}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


def _gpt2(d, L, h):
    return TransformerConfig("decoder", 50257, 1024, d, L, h, 4 * d)


def _bert(d, L, h):
    return TransformerConfig("encoder", 30522, 512, d, L, h, 4 * d, type_vocab_size=2, pooler=True)


PRESETS: dict[str, TransformerConfig] = {
    "gpt2": _gpt2(768, 12, 12),
    "gpt2-medium": _gpt2(1024, 24, 16),
    "gpt2-large": _gpt2(1280, 36, 20),
    "gpt2-xl": _gpt2(1600, 48, 25),
    "bert-base-uncased": _bert(768, 12, 12),
    "bert-large-uncased": _bert(1024, 24, 16),
}


def resolve_config(config) -> TransformerConfig:
    """A preset name or a TransformerConfig -> TransformerConfig."""
    if isinstance(config, TransformerConfig):
        return config
    if isinstance(config, str):
        try:
            return PRESETS[config]
        except KeyError:
            raise ValueError(f"unknown preset {config!r}; presets: {sorted(PRESETS)}") from None
    raise TypeError(f"config must be a preset name or a TransformerConfig, got {type(config).__name__}")


def parameter_count(config) -> int:
    """Exact number of parameters (closed form; module docstring)."""
    c = resolve_config(config)
    d, f = c.d_model, c.d_ff
    total = (c.vocab_size + c.max_positions + c.type_vocab_size) * d
    layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d
    total += c.n_layers * layer
    total += 2 * d  # the embedding LayerNorm (encoder) or the final LayerNorm (decoder)
    if c.pooler:
        total += d * d + d
    if c.kind == "decoder" and not c.tied_embeddings:
        total += c.vocab_size * d
    return int(total)


@dataclass(frozen=True)
class MacCount:
    """Multiply-accumulates of one forward pass on one sequence (module docstring). Also readable
    as a mapping (``m["per_layer"]``, ``m["total"]``); ``int(m)`` is the total."""

    seq_len: int
    per_layer: int
    layers: int
    head: int
    total: int
    qkv_out: int
    attention: int
    mlp: int

    def __getitem__(self, key: str) -> int:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self):
        return self.__dataclass_fields__.keys()

    def __int__(self) -> int:
        """int(forward_macs(...)) is the whole-model total."""
        return self.total


def forward_macs(config, seq_len: int) -> MacCount:
    """MACs of the matrix products of one forward pass over seq_len tokens, per layer and in total."""
    c = resolve_config(config)
    n = check_int("seq_len", seq_len, 0)
    if n > c.max_positions:
        raise ValueError(f"seq_len = {n} exceeds max_positions = {c.max_positions}")
    d, f = c.d_model, c.d_ff
    qkv_out = 4 * n * d * d
    attention = 2 * n * n * d
    mlp = 2 * n * d * f
    per_layer = qkv_out + attention + mlp
    if c.kind == "decoder":
        head = n * d * c.vocab_size
    else:
        head = d * d if (c.pooler and n > 0) else 0
    layers = c.n_layers * per_layer
    return MacCount(n, per_layer, layers, head, layers + head, qkv_out, attention, mlp)


def kv_cache_bytes(config, seq_len: int, batch: int, bytes_per_element: int) -> int:
    """Bytes of the key and value caches of every layer: 2 L batch seq_len d bytes_per_element."""
    c = resolve_config(config)
    n = check_int("seq_len", seq_len, 0)
    b = check_int("batch", batch, 0)
    e = check_int("bytes_per_element", bytes_per_element, 1)
    return int(2 * c.n_layers * b * n * c.d_model * e)


# ----------------------------------------------------------------------------------------------
# the architecture, written out

def _dense(key, d_in, d_out, bias=True):
    w = 0.02 * jax.random.normal(key, (d_in, d_out))
    return {"w": w, "b": jnp.zeros(d_out)} if bias else {"w": w}


def _ln(d):
    return {"g": jnp.ones(d), "b": jnp.zeros(d)}


def init_params(config, key) -> dict:
    """The parameter tree (float64). Use ``jax.eval_shape(init_params, config, key)`` for the
    full-size presets: it traces the same code without allocating."""
    c = resolve_config(config)
    d, f = c.d_model, c.d_ff
    keys = iter(jax.random.split(key, 8 + 6 * c.n_layers))
    p = {"tok": 0.02 * jax.random.normal(next(keys), (c.vocab_size, d)),
         "pos": 0.02 * jax.random.normal(next(keys), (c.max_positions, d))}
    if c.type_vocab_size:
        p["type"] = 0.02 * jax.random.normal(next(keys), (c.type_vocab_size, d))
    if c.kind == "encoder":
        p["emb_ln"] = _ln(d)
    layers = []
    for _ in range(c.n_layers):
        if c.kind == "decoder":
            attn = {"qkv": _dense(next(keys), d, 3 * d), "out": _dense(next(keys), d, d)}
        else:
            attn = {"q": _dense(next(keys), d, d), "k": _dense(next(keys), d, d),
                    "v": _dense(next(keys), d, d), "out": _dense(next(keys), d, d)}
        layers.append({"ln1": _ln(d), "attn": attn, "ln2": _ln(d),
                       "fc1": _dense(next(keys), d, f), "fc2": _dense(next(keys), f, d)})
    p["layers"] = layers
    if c.kind == "decoder":
        p["ln_f"] = _ln(d)
        if not c.tied_embeddings:
            p["head"] = 0.02 * jax.random.normal(next(keys), (d, c.vocab_size))
    if c.pooler:
        p["pooler"] = _dense(next(keys), d, d)
    return p


def _layer_norm(x, p, eps=1e-5):
    mu = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + eps) * p["g"] + p["b"]


def _lin(x, p):
    y = jnp.einsum("...i,io->...o", x, p["w"])
    return y + p["b"] if "b" in p else y


def _heads(x, h):
    b, n, d = x.shape
    return x.reshape(b, n, h, d // h).transpose(0, 2, 1, 3)


def _attention(q, k, v, mask):
    """q (b, h, nq, dh), k, v (b, h, nk, dh); mask broadcastable to (b, h, nq, nk)."""
    s = jnp.einsum("bhqe,bhke->bhqk", q, k) / math.sqrt(q.shape[-1])
    s = jnp.where(mask, s, -jnp.inf)
    a = jax.nn.softmax(s, axis=-1)
    return jnp.einsum("bhqk,bhke->bhqe", a, v)


def _qkv(layer, x, c):
    if c.kind == "decoder":
        qkv = _lin(x, layer["attn"]["qkv"])
        return jnp.split(qkv, 3, axis=-1)
    a = layer["attn"]
    return _lin(x, a["q"]), _lin(x, a["k"]), _lin(x, a["v"])


def _merge(o):
    b, h, n, e = o.shape
    return o.transpose(0, 2, 1, 3).reshape(b, n, h * e)


def forward(params, config, tokens):
    """Decoder: logits (batch, n, V). Encoder: (sequence output (batch, n, d), pooled (batch, d) or None).
    ``tokens`` is an int array (batch, n)."""
    c = resolve_config(config)
    if tokens.ndim != 2:
        raise ValueError(f"tokens must have shape (batch, n), got {tokens.shape}")
    n = tokens.shape[1]
    if n > c.max_positions:
        raise ValueError(f"sequence length {n} exceeds max_positions = {c.max_positions}")
    h = params["tok"][tokens] + params["pos"][jnp.arange(n)][None]
    if c.type_vocab_size:
        h = h + params["type"][jnp.zeros_like(tokens)]
    if c.kind == "encoder":
        h = _layer_norm(h, params["emb_ln"], 1e-12)
        mask = jnp.ones((n, n), dtype=bool)
    else:
        mask = jnp.tril(jnp.ones((n, n), dtype=bool))
    for layer in params["layers"]:
        if c.kind == "decoder":
            q, k, v = _qkv(layer, _layer_norm(h, layer["ln1"]), c)
            h = h + _lin(_merge(_attention(_heads(q, c.n_heads), _heads(k, c.n_heads), _heads(v, c.n_heads), mask)),
                         layer["attn"]["out"])
            h = h + _lin(jax.nn.gelu(_lin(_layer_norm(h, layer["ln2"]), layer["fc1"]), approximate=True),
                         layer["fc2"])
        else:
            q, k, v = _qkv(layer, h, c)
            a = _lin(_merge(_attention(_heads(q, c.n_heads), _heads(k, c.n_heads), _heads(v, c.n_heads), mask)),
                     layer["attn"]["out"])
            h = _layer_norm(h + a, layer["ln1"], 1e-12)
            h = _layer_norm(h + _lin(jax.nn.gelu(_lin(h, layer["fc1"]), approximate=False), layer["fc2"]),
                            layer["ln2"], 1e-12)
    if c.kind == "decoder":
        h = _layer_norm(h, params["ln_f"])
        if c.tied_embeddings:
            return jnp.einsum("bnd,vd->bnv", h, params["tok"])
        return jnp.einsum("bnd,dv->bnv", h, params["head"])
    pooled = jnp.tanh(_lin(h[:, 0], params["pooler"])) if c.pooler else None
    return h, pooled


def init_cache(config, batch: int, max_len: int, dtype=jnp.float64) -> dict:
    """Key and value caches of every layer: {"k": [L x (batch, heads, max_len, head_dim)], "v": [...]}."""
    c = resolve_config(config)
    b = check_int("batch", batch, 1)
    m = check_int("max_len", max_len, 1)
    shape = (b, c.n_heads, m, c.head_dim)
    return {"k": [jnp.zeros(shape, dtype) for _ in range(c.n_layers)],
            "v": [jnp.zeros(shape, dtype) for _ in range(c.n_layers)]}


def decode_step(params, config, cache, tokens, pos: int):
    """One incremental decoding step of a decoder: tokens (batch,) at position ``pos``.
    Returns (logits (batch, V), updated cache). Attends to cache positions <= pos."""
    c = resolve_config(config)
    if c.kind != "decoder":
        raise ValueError("decode_step needs a decoder config (an encoder is not decoded incrementally)")
    if isinstance(pos, bool) or not isinstance(pos, numbers.Integral | jax.Array):
        raise TypeError(f"pos must be an int, got {type(pos).__name__}")
    m = cache["k"][0].shape[2]
    h = params["tok"][tokens][:, None, :] + params["pos"][pos][None, None, :]
    mask = (jnp.arange(m) <= pos)[None, None, None, :]
    new_k, new_v = [], []
    for i, layer in enumerate(params["layers"]):
        q, k, v = _qkv(layer, _layer_norm(h, layer["ln1"]), c)
        q, k, v = _heads(q, c.n_heads), _heads(k, c.n_heads), _heads(v, c.n_heads)
        kc = jax.lax.dynamic_update_slice(cache["k"][i], k.astype(cache["k"][i].dtype), (0, 0, pos, 0))
        vc = jax.lax.dynamic_update_slice(cache["v"][i], v.astype(cache["v"][i].dtype), (0, 0, pos, 0))
        new_k.append(kc)
        new_v.append(vc)
        h = h + _lin(_merge(_attention(q, kc, vc, mask)), layer["attn"]["out"])
        h = h + _lin(jax.nn.gelu(_lin(_layer_norm(h, layer["ln2"]), layer["fc1"]), approximate=True), layer["fc2"])
    h = _layer_norm(h, params["ln_f"])
    w = params["tok"].T if c.tied_embeddings else params["head"]
    return jnp.einsum("bnd,dv->bnv", h, w)[:, 0], {"k": new_k, "v": new_v}
