"""counts family: parameter, MAC and memory counts of transformer architectures, written out as
real JAX models (transformer, tnt, glu, reid) and the survey's compression blocks (compression)."""

from constructions.counts.tnt import tnt_macs, tnt_params
from constructions.counts.transformer import (
    PRESETS,
    MacCount,
    TransformerConfig,
    forward_macs,
    kv_cache_bytes,
    parameter_count,
)

__all__ = ["parameter_count", "forward_macs", "kv_cache_bytes", "tnt_macs", "tnt_params",
           "TransformerConfig", "MacCount", "PRESETS"]
