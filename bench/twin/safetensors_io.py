"""Reads a safetensors file without the safetensors package: 8-byte little-endian header length,
a JSON header (name -> dtype, shape, data_offsets; plus __metadata__), then the raw data."""
import json
import struct

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "F64": torch.float64, "I64": torch.int64,
          "I32": torch.int32, "BF16": torch.bfloat16, "U8": torch.uint8}


def load(path):
    """-> (dict name -> tensor (a copy that owns its memory), metadata dict)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, e in header.items():
        start, end = e["data_offsets"]
        dtype = DTYPES[e["dtype"]]
        if end == start:
            t = torch.zeros(e["shape"], dtype=dtype)
        else:
            t = torch.frombuffer(data, dtype=dtype, count=(end - start) // torch.empty((), dtype=dtype).element_size(),
                                 offset=start).reshape(e["shape"]).clone()
        tensors[name] = t
    return tensors, meta
