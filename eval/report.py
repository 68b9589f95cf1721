"""The outputs of an evaluation: run.json, a self-contained HTML report with inline SVG charts
(no scripts, nothing loaded from the web), the comparison of two runs and the regression gate."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.gold import EvalInputError
from eval.metrics import missing_facts
from eval.runner import METRIC_ORDER, REPORT_FILE, RUN_FILE

CHART_METRICS = [
    "doc.hit@5", "doc.mrr", "doc.ndcg@10", "page.hit@5", "page.recall@10", "page.ndcg@10",
    "fact_coverage", "token_f1", "sentence_f1", "citation_precision", "groundedness",
    "abstention_correct",
]  # fmt: skip
SUMMARY_EXTRA = [
    "abstention_precision", "abstention_recall", "abstention_f1", "abstention_rate",
    "latency_p50", "latency_p95", "latency_mean", "n", "errors",
    "rated", "thumbs_up", "thumbs_down", "thumbs_down_share",
]  # fmt: skip
WORST_N = 15
BAR_COLOR = "#3b6ea8"
LABELS = {
    "fact_coverage": "Faktenabdeckung",
    "token_f1": "Token-F1",
    "sentence_f1": "Satz-F1",
    "citation_precision": "Zitatpräzision",
    "groundedness": "Belegtheit",
    "abstention_correct": "Enthaltung richtig",
    "abstention_precision": "Enthaltung Präzision",
    "abstention_recall": "Enthaltung Recall",
    "abstention_f1": "Enthaltung F1",
    "abstention_rate": "Enthaltungsquote",
    "latency_p50": "Latenz p50 (s)",
    "latency_p95": "Latenz p95 (s)",
    "latency_mean": "Latenz Mittel (s)",
    "thumbs_down_share": "Anteil Daumen runter",
    "score": "Gesamtwert je Frage",
    "n": "Fragen",
    "errors": "Fehler",
}


def label(metric: str) -> str:
    return LABELS.get(metric, metric)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def esc(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


# -- JSON --------------------------------------------------------------------------------------
def write_json(run: dict[str, Any], out: Path) -> Path:
    path = out / RUN_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load_run(path: Path) -> dict[str, Any]:
    """A run.json, given as the file or its folder."""
    file = path / RUN_FILE if path.is_dir() else path
    try:
        run = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalInputError(f"Kein Lauf gefunden: {file} fehlt.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalInputError(f"{file}: kein gültiges run.json ({exc}).") from exc
    if not isinstance(run, dict) or "per_question" not in run:
        raise EvalInputError(f"{file}: kein gültiges run.json (per_question fehlt).")
    return run


# -- SVG charts --------------------------------------------------------------------------------
def svg_bars(
    title: str, labels: Sequence[str], values: Sequence[float | None], max_value: float = 1.0
) -> str:
    """A horizontal bar chart (one bar per label) as inline SVG."""
    row, left, width = 22, 150, 260
    height = 28 + row * len(labels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
        f'role="img" aria-label="{esc(title)}">',
        f'<text x="0" y="16" font-size="13" font-weight="bold">{esc(title)}</text>',
    ]
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="12" text-anchor="end">{esc(name)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 2}" width="{width}" height="{row - 6}" fill="#eef1f5"/>'
        )
        if value is not None:
            w = max(0.0, min(1.0, value / max_value if max_value else 0.0)) * width
            parts.append(
                f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" '
                f'fill="{BAR_COLOR}"><title>{esc(name)}: {fmt(value)}</title></rect>'
            )
        parts.append(
            f'<text x="{left + width + 6}" y="{y + 14}" font-size="12">{fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(title: str, values: Sequence[float], bins: int = 12) -> str:
    """A histogram of latencies (seconds) as inline SVG."""
    width, height, left, bottom = 420, 170, 40, 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + left + 10}" '
        f'height="{height + bottom + 24}" role="img" aria-label="{esc(title)}">',
        f'<text x="0" y="16" font-size="13" font-weight="bold">{esc(title)}</text>',
    ]
    if not values:
        parts.append('<text x="0" y="40" font-size="12">keine Werte</text></svg>')
        return "".join(parts)
    top = max(values) or 1.0
    step = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / step) if step else 0)] += 1
    peak = max(counts)
    bar_w = width / bins
    base = 24 + height
    for i, count in enumerate(counts):
        h = height * count / peak if peak else 0
        x = left + i * bar_w
        lo, hi = i * step, (i + 1) * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="{BAR_COLOR}"><title>{lo:.2f}–{hi:.2f} s: '
            f"{count}</title></rect>"
        )
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + width}" y2="{base}" stroke="#555"/>')
    for i in range(0, bins + 1, max(1, bins // 4)):
        x = left + i * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{base + 16}" font-size="11" text-anchor="middle">'
            f"{i * step:.2f}</text>"
        )
    parts.append(
        f'<text x="{left + width / 2}" y="{base + 29}" font-size="11" '
        'text-anchor="middle">Sekunden</text>'
    )
    parts.append(
        f'<text x="{left - 6}" y="{base - height + 10}" font-size="11" '
        f'text-anchor="end">{peak}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# -- HTML --------------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2430;
max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d5dae3;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f0f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
.answer{white-space:pre-wrap;max-width:32rem}.quote{color:#444;font-size:.85rem}
.abstain{color:#8a4b00;font-weight:bold}.err{color:#b00020}
details pre{background:#f6f8fa;padding:.5rem;overflow:auto;font-size:.8rem}
"""


def _summary_table(aggregate: dict[str, Any]) -> str:
    overall = aggregate.get("overall", {})
    by_kind = aggregate.get("by_kind", {})
    kinds = list(by_kind)
    keys = [k for k in METRIC_ORDER + SUMMARY_EXTRA if k in overall]
    head = "".join(f"<th>{esc(k)}</th>" for k in kinds)
    rows = [f"<table><tr><th>Metrik</th><th>gesamt</th>{head}</tr>"]
    for key in keys:
        cells = "".join(f'<td class="num">{fmt(by_kind[k].get(key))}</td>' for k in kinds)
        rows.append(
            f'<tr><th>{esc(label(key))}</th><td class="num">{fmt(overall.get(key))}</td>'
            f"{cells}</tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _charts(aggregate: dict[str, Any]) -> str:
    overall = aggregate.get("overall", {})
    by_kind = aggregate.get("by_kind", {})
    charts = []
    for key in CHART_METRICS:
        if overall.get(key) is None:
            continue
        kinds = [k for k in by_kind if by_kind[k].get(key) is not None]
        names = ["gesamt", *kinds]
        values = [overall.get(key), *(by_kind[k].get(key) for k in kinds)]
        charts.append(svg_bars(label(key), names, values))
    return f'<div class="charts">{"".join(charts)}</div>' if charts else ""


def _citations_html(citations: Sequence[dict[str, Any]]) -> str:
    if not citations:
        return ""
    items = []
    for c in citations:
        quote = c.get("highlight") or c.get("quote") or ""
        if len(quote) > 400:
            quote = quote[:400] + " …"
        items.append(
            f"<li>[{esc(c.get('n'))}] {esc(c.get('title'))}, S. {esc(c.get('page'))} "
            f'<small>({esc(c.get("source"))})</small><div class="quote">„{esc(quote)}“</div></li>'
        )
    return f"<ol>{''.join(items)}</ol>"


def _question_row(q: dict[str, Any]) -> str:
    metrics = q.get("metrics", {})
    shown = [
        k
        for k in (
            "score",
            "fact_coverage",
            "sentence_f1",
            "token_f1",
            "doc.mrr",
            "page.mrr",
            "groundedness",
            "citation_precision",
        )
        if metrics.get(k) is not None
    ]
    metric_html = "<br>".join(f"{esc(label(k))}: {fmt(metrics[k])}" for k in shown)
    if q.get("error"):
        answer = f'<span class="err">Fehler: {esc(q["error"])}</span>'
    else:
        answer = ""
        if q.get("abstained"):
            answer = '<div class="abstain">Enthalten (keine belastbare Antwort)</div>'
        answer += f'<div class="answer">{esc(q.get("answer"))}</div>'
        answer += _citations_html(q.get("citations") or [])
    gold = q.get("gold") or {}
    missing = missing_facts(str(q.get("answer") or ""), gold.get("facts") or [])
    gold_html = ""
    if missing:
        gold_html += "Fehlende Fakten: " + esc("; ".join(missing)) + "<br>"
    sources = gold.get("sources") or []
    if sources:
        gold_html += "Quellen: " + esc(
            "; ".join(
                s["file"] + (f" S. {','.join(map(str, s['pages']))}" if s.get("pages") else "")
                for s in sources
            )
        )
    if q.get("comment"):
        gold_html += f"Kommentar: {esc(q['comment'])}"
    return (
        f"<tr><td>{esc(q.get('id'))}<br><small>{esc(q.get('kind'))}</small></td>"
        f"<td>{esc(q.get('question'))}</td><td>{answer}</td><td>{gold_html}</td>"
        f"<td>{metric_html}</td></tr>"
    )


def _question_table(questions: Sequence[dict[str, Any]]) -> str:
    head = (
        "<table><tr><th>ID</th><th>Frage</th><th>Antwort und Quellen</th><th>Gold</th>"
        "<th>Werte</th></tr>"
    )
    return head + "".join(_question_row(q) for q in questions) + "</table>"


def worst_questions(per_question: Sequence[dict[str, Any]], n: int = WORST_N) -> list[dict]:
    def key(q: dict[str, Any]) -> tuple[int, float]:
        if q.get("error"):
            return (0, 0.0)
        score = q.get("metrics", {}).get("score")
        return (1, score if score is not None else math.inf)

    ranked = sorted(per_question, key=key)
    return [q for q in ranked if key(q)[1] != math.inf][:n]


def render_html(run: dict[str, Any]) -> str:
    aggregate = run.get("aggregate", {})
    per_question = run.get("per_question", [])
    title = f"Evaluation {run.get('dataset')}" + (f" ({run['split']})" if run.get("split") else "")
    parts = [
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Erstellt {esc(run.get('created'))}: {run.get('n_done', 0)} von "
        f"{run.get('n_questions', 0)} Fragen ausgewertet.</p>",
        "<h2>Übersicht</h2>",
        _charts(aggregate),
    ]
    latencies = [
        float(q["metrics"]["latency"])
        for q in per_question
        if q.get("metrics", {}).get("latency") is not None
    ]
    if latencies:
        parts.append(svg_histogram("Antwortzeit je Frage", latencies))
    parts += ["<h2>Alle Werte</h2>", _summary_table(aggregate)]
    if run.get("feedback") is not None:
        down = [q for q in per_question if q.get("rating") == "down"]
        share = aggregate.get("overall", {}).get("thumbs_down_share")
        parts.append(f"<h2>Daumen runter ({len(down)}, Anteil {fmt(share)})</h2>")
        parts.append(_question_table(down) if down else "<p>Keine.</p>")
    else:
        worst = worst_questions(per_question)
        parts.append(f"<h2>Schwächste Fragen ({len(worst)})</h2>")
        parts.append(_question_table(worst) if worst else "<p>Keine.</p>")
    parts.append("<h2>Alle Fragen</h2><details><summary>Tabelle anzeigen</summary>")
    parts.append(_question_table(per_question))
    parts.append("</details>")
    if run.get("settings"):
        settings = json.dumps(run["settings"], ensure_ascii=False, indent=2)
        parts.append(
            "<h2>Einstellungen</h2><details><summary>Einstellungen dieses Laufs</summary>"
            f"<pre>{esc(settings)}</pre></details>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run: dict[str, Any], out: Path) -> Path:
    path = out / REPORT_FILE
    path.write_text(render_html(run), encoding="utf-8")
    return path


# -- regression gate ---------------------------------------------------------------------------
def parse_threshold(spec: str) -> tuple[str, str | None, float]:
    """'metric=value' or 'metric:kind=value' -> (metric, kind, value)."""
    name, sep, value = spec.partition("=")
    if not sep or not name.strip():
        raise EvalInputError(f"--fail-under '{spec}': erwartet metrik=wert, z. B. doc.hit@5=0.8")
    try:
        threshold = float(value)
    except ValueError as exc:
        raise EvalInputError(f"--fail-under '{spec}': '{value}' ist keine Zahl.") from exc
    metric, _, kind = name.strip().partition(":")
    return metric, kind or None, threshold


def check_thresholds(
    aggregate: dict[str, Any], specs: Sequence[str], above: bool = False
) -> list[str]:
    """Messages for every metric below its threshold, or above it with `above` (for latency
    and the share of thumbs-down); empty: the gate passes."""
    failures = []
    for spec in specs:
        metric, kind, threshold = parse_threshold(spec)
        group = (
            aggregate.get("overall", {}) if kind is None else aggregate.get("by_kind", {}).get(kind)
        )
        if group is None:
            raise EvalInputError(f"--fail-under '{spec}': keine Fragen der Art '{kind}'.")
        if metric not in group:
            known = ", ".join(k for k in group if isinstance(group[k], float | int))
            raise EvalInputError(f"--fail-under: unbekannte Metrik '{metric}' (bekannt: {known}).")
        value = group[metric]
        where = f" ({kind})" if kind else ""
        if value is None or (value > threshold if above else value < threshold):
            relation = "über" if above else "unter"
            failures.append(f"{metric}{where} = {fmt(value)} liegt {relation} {threshold:g}")
    return failures


# -- comparison of two runs --------------------------------------------------------------------
COMPARE_KEYS = [
    "score", "fact_coverage", "sentence_f1", "token_f1", "doc.hit@5", "doc.mrr", "page.hit@5",
    "page.mrr", "groundedness", "citation_precision", "abstention_correct",
]  # fmt: skip


def _delta(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(b) - float(a)
    return None


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> str:
    """A text table: aggregate changes, then questions that got better or worse."""
    lines = [
        f"A: {a.get('dataset')} ({a.get('created')})",
        f"B: {b.get('dataset')} ({b.get('created')})",
        "",
    ]
    oa, ob = a.get("aggregate", {}).get("overall", {}), b.get("aggregate", {}).get("overall", {})
    keys = [k for k in METRIC_ORDER + SUMMARY_EXTRA if k in oa or k in ob]
    lines.append(f"{'Metrik':<24}{'A':>10}{'B':>10}{'Δ':>10}")
    for key in keys:
        d = _delta(oa.get(key), ob.get(key))
        lines.append(
            f"{key:<24}{fmt(oa.get(key)):>10}{fmt(ob.get(key)):>10}"
            f"{'' if d is None else f'{d:+.3f}':>10}"
        )
    qa = {str(q["id"]): q for q in a.get("per_question", [])}
    qb = {str(q["id"]): q for q in b.get("per_question", [])}
    better, worse, changed = [], [], []
    for qid in [i for i in qa if i in qb]:
        ma, mb = qa[qid].get("metrics", {}), qb[qid].get("metrics", {})
        diffs = []
        for key in COMPARE_KEYS:
            d = _delta(ma.get(key), mb.get(key))
            if d is not None and abs(d) > 1e-9 or d is None and ma.get(key) != mb.get(key):
                diffs.append(f"{key} {fmt(ma.get(key))}→{fmt(mb.get(key))}")
        if qa[qid].get("abstained") != qb[qid].get("abstained"):
            diffs.append(
                f"enthalten {fmt(qa[qid].get('abstained'))}→{fmt(qb[qid].get('abstained'))}"
            )
        if bool(qa[qid].get("error")) != bool(qb[qid].get("error")):
            diffs.append(
                f"Fehler {fmt(bool(qa[qid].get('error')))}→{fmt(bool(qb[qid].get('error')))}"
            )
        d = _delta(ma.get("score"), mb.get("score")) or 0.0
        if mb.get("error") and not ma.get("error"):
            d = -1.0
        elif ma.get("error") and not mb.get("error"):
            d = 1.0
        entry = (d, qid, qa[qid].get("question", ""), diffs)
        if d > 1e-9:
            better.append(entry)
        elif d < -1e-9:
            worse.append(entry)
        elif diffs or qa[qid].get("answer") != qb[qid].get("answer"):
            changed.append(entry)
    for title, entries, reverse in (
        ("Verbessert", better, True),
        ("Verschlechtert", worse, False),
        ("Verändert ohne Wertänderung", changed, False),
    ):
        lines += ["", f"{title} ({len(entries)}):"]
        for d, qid, question, diffs in sorted(entries, key=lambda e: e[0], reverse=reverse):
            short = question if len(question) <= 70 else question[:69] + "…"
            lines.append(f"  {qid:<16}{d:+.3f}  {short}")
            lines.append(f"  {'':<16}        {'; '.join(diffs) or 'Antworttext geändert'}")
    only_a = [i for i in qa if i not in qb]
    only_b = [i for i in qb if i not in qa]
    if only_a:
        lines += ["", f"Nur in A ({len(only_a)}): " + ", ".join(only_a[:30])]
    if only_b:
        lines += ["", f"Nur in B ({len(only_b)}): " + ", ".join(only_b[:30])]
    return "\n".join(lines)
