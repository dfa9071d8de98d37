"""What this processor offers, and the embedding runtime that is fastest on it.

Read from ``/proc/cpuinfo`` (Linux); elsewhere nothing is known and the defaults apply.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

# int8 dot-product instructions: with them OpenVINO's calibrated int8 model is the fastest
# runtime measured (1.3x onnxruntime's when indexing); without them, on an AVX2-only AMD EPYC,
# it was the slowest: onnxruntime's dynamic int8 indexed SciFact 1.5x (313 s against 471 s) and
# embedded an answer's sentences 2.3x faster, and answered the QA sets as well
# (bench/retrieval_bench.py, bench/answer_bench.py).
_INT8_DOT = ("avx512_vnni", "avx_vnni", "amx_int8")


@lru_cache(maxsize=1)
def flags() -> frozenset[str]:
    """The processor's feature flags (empty when they cannot be read)."""
    try:
        return parse_flags(Path("/proc/cpuinfo").read_text(errors="ignore"))
    except OSError:
        return frozenset()


def parse_flags(cpuinfo: str) -> frozenset[str]:
    """The first processor's flags in the text of /proc/cpuinfo (x86 "flags", ARM "Features")."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # not "vmx flags" (virtualisation features)
            return frozenset(value.split())
    return frozenset()


def best_runtime(cpu_flags: frozenset[str] | None = None) -> str:
    """The fastest int8 embedding backend here: onnx-int8 on an x86 CPU with AVX2 but no int8
    dot-product instructions, openvino-int8 everywhere else (measured fastest on a CPU with
    them; left as it was where nothing was measured)."""
    have = flags() if cpu_flags is None else cpu_flags
    if "avx2" in have and not have.intersection(_INT8_DOT):
        return "onnx-int8"
    return "openvino-int8"


def runtime(backend: str) -> str:
    """The backend a setting names, ``auto`` read as this CPU's fastest. (Assistant.from_settings
    first reads ``auto`` as the backend an existing index was built with.)"""
    return best_runtime() if backend == "auto" else backend


def quant_config() -> str:
    """The onnxruntime quantization preset that suits this processor."""
    have = flags()
    if "avx512_vnni" in have:
        return "avx512_vnni"
    if "avx512f" in have:
        return "avx512"
    if os.uname().machine in ("aarch64", "arm64"):
        return "arm64"
    return "avx2"


def cores() -> int:
    """Cores this process may run on (in a container, fewer than the host has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
