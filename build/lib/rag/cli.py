"""Command line: rag index | ask | eval | serve | status | documents."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import Settings
from .errors import RagError
from .schema import Answer, IndexReport


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad RAG_* variable or .env entry
        print(f"error: {settings_problem(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def settings_problem(exc: ValidationError) -> str:
    """One line per bad setting, named as the user sets it (RAG_FIELD)."""
    lines = []
    for e in exc.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        field = "_".join(str(p) for p in e["loc"]).upper()
        where = f"setting RAG_{field}={e.get('input')!r}" if field else "settings"
        lines.append(f"invalid {where}: {msg}")
    return "\n".join(lines) + "\nFix it in the environment or in .env (see rag/config.py for every setting)."


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description=__doc__)
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    ix = sub.add_parser("index", help="sync the corpus folder into the index")
    ix.add_argument("--file", nargs="+", type=Path, help="add/update only these files")
    ix.add_argument("--rebuild", action="store_true", help="start from an empty index")
    ix.add_argument("--json", action="store_true", help="print the report as JSON")
    ix.set_defaults(func=_index)

    ask = sub.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("--history", help='JSON list of [question, answer] pairs, oldest first')
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.set_defaults(func=_ask)

    ev = sub.add_parser("eval", help="score a QA file, or retrieval on a BEIR dataset")
    ev.add_argument("qa", nargs="?", type=Path, help="QA .jsonl (q, any/all, answerable, history)")
    ev.add_argument("--beir", type=Path, help="BEIR-layout folder (corpus.jsonl[.gz], queries, qrels)")
    ev.add_argument("--split", default="test", help="qrels split for --beir (default: test)")
    ev.add_argument("--json", action="store_true", help="print results as JSON")
    ev.set_defaults(func=_eval)

    st = sub.add_parser("status", help="show what the index holds")
    st.set_defaults(func=_status)

    docs = sub.add_parser("documents", help="list indexed documents")
    docs.set_defaults(func=_documents)

    sv = sub.add_parser("serve", help="start the web chat (app.py)")
    sv.add_argument("--host", help="bind address (default 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default 7860)")
    sv.set_defaults(func=_serve)
    return p


def _assistant(settings: Settings | None = None) -> Any:
    from .assistant import Assistant

    return Assistant.from_settings(settings or Settings())


def _index(args: argparse.Namespace) -> int:
    assistant = _assistant()
    bar = _ProgressBar()
    report = assistant.index(args.file, rebuild=args.rebuild, progress=bar)
    bar.close()
    if args.json:
        print(json.dumps(_report_dict(report), indent=2))
    else:
        print(format_report(report))
    return 0 if report.ok else 1


def format_report(report: IndexReport) -> str:
    counts = report.counts
    lines = [
        "  ".join(f"{k}: {v}" for k, v in counts.items())
        + f"  | chunks in index: {report.total_chunks}  | {report.seconds:.1f} s"
    ]
    for f in report.files:
        if f.status != "unchanged":
            detail = f"  — {f.reason}" if f.reason else f"  ({f.chunks} chunks)"
            lines.append(f"  {f.status:<9} {f.source}{detail}")
    return "\n".join(lines)


def _report_dict(report: IndexReport) -> dict[str, Any]:
    return {
        "counts": report.counts,
        "total_chunks": report.total_chunks,
        "seconds": round(report.seconds, 3),
        "files": [f.__dict__ for f in report.files],
    }


def _ask(args: argparse.Namespace) -> int:
    history = [tuple(pair) for pair in json.loads(args.history)] if args.history else None
    a = _assistant().answer(args.question, history)
    print(json.dumps(a.to_dict(), indent=2, ensure_ascii=False) if args.json else format_answer(a))
    return 0


def format_answer(a: Answer) -> str:
    out = []
    if a.query != a.question:
        out.append(f"(searched for: {a.query})")
    if a.notice:
        out.append(f"note: {a.notice}")
    out.append(a.text)
    cites = a.citations or a.related
    if cites:
        out.append("")
        out.append("Sources:" if a.citations else "Possibly related:")
        for c in cites:
            page = f", page {c.page}" if c.page else ""
            out.append(f"  [{c.marker}] {c.title} — {c.source}{page}, chars {c.start}-{c.end}")
            out.append(f'      "{c.text}"')
    return "\n".join(out)


def _eval(args: argparse.Namespace) -> int:
    from . import evaluation

    if args.beir:
        result = evaluation.beir_eval(args.beir, Settings(), split=args.split)
        print(json.dumps(result, indent=2) if args.json else evaluation.format_beir(result))
        return 0
    if not args.qa:
        raise RagError("Give a QA file (rag eval QA.jsonl) or a BEIR folder (rag eval --beir DIR).")
    rows, summary = evaluation.qa_eval(_assistant(), args.qa)
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=2))
    else:
        print(evaluation.format_qa(rows, summary))
    return 0


def _status(args: argparse.Namespace) -> int:
    s = _assistant().status()
    for k, v in s.__dict__.items():
        print(f"{k:>10}: {v}")
    return 0


def _documents(args: argparse.Namespace) -> int:
    for d in _assistant().documents():
        print(f"{d.source}\t{d.title}\tpages={d.pages}\tchunks={d.chunks}\t{d.indexed_at}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    import app  # the Gradio front end lives at the project root

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    app.main(Settings(**overrides))  # type: ignore[arg-type]
    return 0


class _ProgressBar:
    """A tqdm bar on stderr, shown only for runs long enough to need one."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, done: int, total: int, name: str) -> None:
        if total < 20:
            return
        if self._bar is None:
            from tqdm import tqdm

            # Redrawn at most every 0.1 s (tqdm default; TQDM_MININTERVAL overrides), not once per file.
            self._bar = tqdm(total=total, unit="file", file=sys.stderr, leave=False)
        self._bar.set_postfix_str(name[-30:], refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
