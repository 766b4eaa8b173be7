"""The appendix as a document: index.md, appendix.tex, claims.tex, references.bib, results.json.

Everything here is driven by the run's results, the registry and ``papers/``; nothing names a
paper or a family. A claim's *family* is the folder of the module that registered it
(``theorems.<family>.<paper>``); a paper's title, authors, year, arXiv id, venue and BibTeX come
from ``papers/<key>.toml`` (a paper without a record is shown under its key, nothing invented).

Writers (all pure: results in, text out):

* :func:`render_index`          index.md -- summary, one section per family and paper, one block
                                per claim (statement, where, expected, measured, verdict, controls
                                with their numbers, notes, excluded points, the figure inline),
                                the findings, the overview table, the environment.
* :func:`render_claims_tex`     claims.tex -- the overview table as a longtable fragment (caption,
                                label) for inclusion in a user's paper (needs ``longtable``,
                                ``booktabs``, ``array``, T1 fonts; see :data:`TEX_PREAMBLE`).
* :func:`render_appendix_tex`   appendix.tex -- standalone: the documented preamble, one subsection
                                per paper with its claims and figures, the overview table and a
                                bibliography (so ``pdflatex appendix.tex`` alone resolves every
                                ``\\cite``; references.bib is for the user's own paper).
* :func:`render_bib`            references.bib -- every cited paper's BibTeX from papers/.
* :func:`results_payload`       results.json -- schema :data:`SCHEMA_VERSION`, documented by
                                ``schemas/results.schema.json``; non-finite numbers are ``null``
                                with their place and kind listed in the claim's ``nonfinite``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SCHEMA_VERSION",
    "TEX_PREAMBLE",
    "PaperMeta",
    "paper_meta",
    "family_of",
    "strict_json",
    "scalar_numbers",
    "excluded_points",
    "shorten",
    "render_index",
    "render_claims_tex",
    "render_appendix_tex",
    "render_bib",
    "results_payload",
]

SCHEMA_VERSION = "1.0"


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class PaperMeta:
    key: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    arxiv: str
    venue: str
    bibtex: str
    citekey: str
    has_record: bool

    @property
    def author_line(self) -> str:
        a = list(self.authors)
        if not a:
            return "authors not recorded"
        return a[0] if len(a) == 1 else ", ".join(a[:-1]) + " and " + a[-1]

    @property
    def short_authors(self) -> str:
        a = list(self.authors)
        if not a:
            return self.key
        surname = a[0].split()[-1]
        return surname if len(a) == 1 else (f"{surname} and {a[1].split()[-1]}" if len(a) == 2 else f"{surname} et al.")


_BIBKEY = re.compile(r"@\s*[A-Za-z]+\s*\{\s*([^,\s]+)\s*,")


def _citekey(bibtex: str, fallback: str) -> str:
    m = _BIBKEY.search(bibtex or "")
    return m.group(1) if m else fallback


def paper_meta(keys: Iterable[str]) -> dict[str, PaperMeta]:
    """Metadata of each paper key from papers/ (a key without a record gets its key as title)."""
    from theorems.records import load_records

    try:
        records = load_records()
    except (FileNotFoundError, ValueError):
        records = {}
    out = {}
    for key in sorted(set(keys)):
        rec = records.get(key)
        if rec is None:
            out[key] = PaperMeta(key, key, (), None, "", "", "", key, False)
            continue
        out[key] = PaperMeta(key=key, title=rec.title, authors=tuple(rec.authors), year=rec.year,
                             arxiv=rec.arxiv, venue=rec.venue, bibtex=rec.bibtex,
                             citekey=_citekey(rec.bibtex, key), has_record=True)
    return out


def family_of(claim) -> str:
    """The family folder of the module that defines the claim's study (``theorems.<family>.x``)."""
    study = claim.study
    while isinstance(study, functools.partial):
        study = study.func
    module = getattr(study, "__module__", "") or ""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "theorems":
        return parts[1]
    return "other"


# --------------------------------------------------------------------------- JSON


def strict_json(obj: Any, path: str = "") -> tuple[Any, list[dict[str, str]]]:
    """Strict-JSON copy of ``obj`` (arrays -> lists); NaN/inf become ``null`` and are listed as
    ``{"path": JSON pointer, "kind": "nan" | "inf" | "-inf"}`` so no information is lost."""
    flags: list[dict[str, str]] = []

    def walk(x, p):
        if isinstance(x, Mapping):
            return {str(k): walk(v, f"{p}/{_pointer(str(k))}") for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [walk(v, f"{p}/{i}") for i, v in enumerate(x)]
        if hasattr(x, "__array__") and not isinstance(x, str | bytes):
            arr = np.asarray(x)
            return walk(arr.item() if arr.ndim == 0 else arr.tolist(), p)
        if isinstance(x, bool | np.bool_):
            return bool(x)
        if isinstance(x, int | np.integer):
            return int(x)
        if isinstance(x, float | np.floating):
            v = float(x)
            if math.isfinite(v):
                return v
            flags.append({"path": p, "kind": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")})
            return None
        if isinstance(x, complex | np.complexfloating):
            return walk([float(np.real(x)), float(np.imag(x))], p)
        if x is None or isinstance(x, str):
            return x
        return repr(x)

    return walk(obj, path), flags


def _pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def scalar_numbers(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence's numbers a table can show: top-level real scalars and short numeric vectors
    (an interval, a pair), non-finite kept as float (made strict by :func:`strict_json`)."""
    out: dict[str, Any] = {}
    for k, v in dict(evidence).items():
        if isinstance(v, bool | np.bool_):
            out[str(k)] = bool(v)
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            out[str(k)] = v.item() if hasattr(v, "item") else v
            continue
        if isinstance(v, list | tuple) or hasattr(v, "__array__"):
            try:
                arr = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                continue
            if arr.ndim == 1 and 1 <= arr.size <= 3:
                out[str(k)] = [float(a) for a in arr]
    return out


def excluded_points(evidence: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Every point left out of a fit: ``{"fit", "index", "param", "error", "reason"}``, for the
    top-level fit and for each ``sub:NAME`` evidence (combined verdicts)."""
    ev = dict(evidence)
    out: list[dict[str, Any]] = []
    excl = ev.get("excluded")
    if isinstance(excl, Mapping) and excl:
        params = np.asarray(ev.get("params", []), dtype=float).ravel() if "params" in ev else np.array([])
        errors = np.asarray(ev.get("errors", []), dtype=float) if "errors" in ev else np.array([])
        if errors.ndim == 2:
            errors = errors.mean(axis=1)
        for k, reason in sorted(excl.items(), key=lambda kv: int(kv[0])):
            i = int(k)
            out.append({"fit": prefix or "main", "index": i,
                        "param": float(params[i]) if i < params.size else None,
                        "error": float(errors[i]) if i < errors.size else None,
                        "reason": str(reason)})
    for k, v in ev.items():
        if str(k).startswith("sub:") and isinstance(v, Mapping):
            out += excluded_points(v, prefix=str(k)[4:])
    return out


# --------------------------------------------------------------------------- text helpers


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (with '...')."""
    t = " ".join(str(text).split())
    if len(t) <= limit:
        return t
    cut = t[: max(1, limit - 3)]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "..."


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_block(text: str) -> str:
    """Multi-line text (a note, a traceback) for Markdown, paragraphs kept."""
    return "\n".join(line.rstrip() for line in str(text).strip().splitlines())


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")


def _fmt(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        return f"{x:.4g}"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def _split_finding(text: str) -> tuple[str, str]:
    """(what the paper states and what fails, the counterexample) from a finding's text."""
    t = " ".join(str(text).split())
    m = re.search(r"(minimal counterexample|counterexample|minimal case)\s*:?", t, flags=re.IGNORECASE)
    if not m:
        return t, ""
    return t[: m.start()].strip(), t[m.start():].strip()


def _group(results) -> dict[str, dict[str, list]]:
    """family -> paper -> results, all sorted."""
    groups: dict[str, dict[str, list]] = {}
    for r in results:
        groups.setdefault(r.family or "other", {}).setdefault(r.paper, []).append(r)
    return {f: {p: sorted(v, key=lambda r: r.id) for p, v in sorted(ps.items())}
            for f, ps in sorted(groups.items())}


def _family_title(family: str) -> str:
    return family.replace("_", " ").capitalize()


def _summary_counts(results) -> dict[str, int]:
    return {
        "claims": len(results),
        "passed": sum(r.passed for r in results),
        "findings": sum(r.kind == "finding" for r in results),
        "findings_reproduced": sum(r.kind == "finding" and r.passed for r in results),
        "controls": sum(len(r.controls) for r in results),
        "controls_rejected": sum(not c["holds"] for r in results for c in r.controls.values()),
        "errors": sum(bool(r.error) for r in results),
        "papers": len({r.paper for r in results}),
        "families": len({r.family for r in results}),
    }


# --------------------------------------------------------------------------- index.md


def sweep_cell(sweep: Mapping[str, Any] | None) -> str:
    """'k/n' for the seed-sweep column (and the worst control's rejections when not all)."""
    if not sweep:
        return ""
    text = f"{sweep['held']}/{sweep['seeds']}"
    worst = min(sweep.get("controls_rejected", {}).values(), default=sweep["seeds"])
    if worst < sweep["seeds"]:
        text += f" (a control rejected at only {worst}/{sweep['seeds']})"
    return text


def _claim_block(r, level: str = "####") -> list[str]:
    lines = [f'{level} <a id="{_anchor(r.id)}"></a>`{r.id}`: {r.verdict_word}', ""]
    lines += [f"- **Statement.** {_md(r.statement)}",
              f"- **Where.** {_md(r.where)}",
              f"- **Kind.** {r.kind}",
              f"- **Expected.** {_md(r.expected)}",
              f"- **Measured.** {_md(r.error or r.measured)}",
              f"- **Verdict.** **{r.verdict_word}**"
              + (" (the paper's statement fails as recorded: see Findings)" if r.kind == "finding" and r.passed else "")]
    if getattr(r, "sweep", None):
        lines.append(f"- **Seed sweep.** holds at {sweep_cell(r.sweep)} seeds")
    if r.controls:
        rejected = sum(not c["holds"] for c in r.controls.values())
        lines.append(f"- **Negative controls** ({rejected} of {len(r.controls)} rejected):")
        for name, c in r.controls.items():
            word = "ACCEPTED (bad)" if c["holds"] else "rejected"
            nums = ", ".join(f"{k} = {_fmt(v)}" for k, v in list((c.get("numbers") or {}).items())[:6])
            lines.append(f"  - *{_md(name)}*: {word}; {_md(c['measured'])}" + (f" [{nums}]" if nums else ""))
    if r.notes.strip():
        note = _md_block(r.notes)
        if "\n" in note:
            lines += ["- **Notes and caveats.**", "", "  ```text"] + [f"  {ln}" for ln in note.splitlines()] + ["  ```"]
        else:
            lines.append(f"- **Notes and caveats.** {note}")
    excl = excluded_points(r.evidence)
    if excl:
        lines.append(f"- **Excluded points** ({len(excl)}):")
        for e in excl:
            at = f"{e['fit']} fit, " if e["fit"] != "main" else ""
            param = f"parameter {_fmt(e['param'])}" if e["param"] is not None else f"level {e['index']}"
            lines.append(f"  - {at}{param}: {_md(e['reason'])}")
    if r.figure:
        lines += ["", f"![{r.id}: {_md(shorten(r.measured, 120))}]({r.figure})"]
    lines.append("")
    return lines


def render_index(results, env: Mapping[str, Any], papers: Mapping[str, PaperMeta] | None = None) -> str:
    papers = paper_meta(r.paper for r in results) if papers is None else papers
    n = _summary_counts(results)
    git = env.get("git", {})
    commit = f"`{git.get('commit', 'unknown')}`" + (" (uncommitted changes)" if git.get("dirty") else "")
    lines = [
        "# theorycheck appendix",
        "",
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| claims | {n['claims']} from {n['papers']} papers in {n['families']} families |",
        f"| pass | {n['passed']} of {n['claims']} (the claim holds, or a finding is reproduced, and every negative control is rejected) |",
        f"| findings | {n['findings']} (a paper's statement that fails as stated), {n['findings_reproduced']} reproduced |",
        f"| negative controls | {n['controls_rejected']} of {n['controls']} rejected |",
        f"| errors | {n['errors']} studies raised |",
        f"| profile, seed | `{env.get('profile')}`, {env.get('seed')} |",
        f"| commit | {commit} |",
        f"| date (UTC) | {env.get('date_utc', '')} |",
        f"| time | {env.get('cpu_seconds', 0):.0f} s CPU in the studies, {env.get('wall_seconds', 0):.0f} s wall |",
        f"| rerun | `{env.get('rerun', '')}` |",
        "",
        "A claim's block gives what the paper states, where, what is expected and what was measured, "
        "then its negative controls (near-miss variants the same check must reject) with their "
        "numbers, the notes and caveats, and any points left out of a fit with the reason.",
        "",
        "## Contents",
        "",
    ]
    groups = _group(results)
    for fam, ps in groups.items():
        lines.append(f"- [{_family_title(fam)}](#family-{_anchor(fam)})")
        for key in ps:
            p = papers.get(key)
            label = f"{p.short_authors} ({p.year})" if p and p.year else key
            lines.append(f"  - [{_md(label)}: {_md(p.title if p else key)}](#paper-{_anchor(key)})")
    if any(r.kind == "finding" for r in results):
        lines.append("- [Findings](#findings)")
    lines += ["- [Overview table](#overview)", "- [Environment](#environment)", ""]
    for fam, ps in groups.items():
        lines += [f'## <a id="family-{_anchor(fam)}"></a>Family `{fam}`', ""]
        for key, rs in ps.items():
            p = papers[key] if key in papers else PaperMeta(key, key, (), None, "", "", "", key, False)
            lines += [f'### <a id="paper-{_anchor(key)}"></a>{_md(p.title)}', ""]
            arxiv = f"[arXiv:{p.arxiv}](https://arxiv.org/abs/{p.arxiv})" if p.arxiv else "no arXiv id"
            meta = [p.author_line, str(p.year) if p.year else "year not recorded", arxiv]
            if p.venue:
                meta.append(_md(p.venue))
            lines += [" · ".join(meta) + f"; paper key `{key}`, cite as `\\cite{{{p.citekey}}}`"
                      + ("" if p.has_record else " (no papers/ record)"), ""]
            ok = sum(r.passed for r in rs)
            lines += [f"{ok} of {len(rs)} claims pass.", ""]
            for r in rs:
                lines += _claim_block(r)
    findings = [r for r in results if r.kind == "finding"]
    if findings:
        lines += ['## <a id="findings"></a>Findings', "",
                  "Statements of the papers that fail as stated, each with a minimal counterexample "
                  "and the measured evidence.", ""]
        for r in findings:
            p = papers.get(r.paper)
            stated, counter = _split_finding(r.finding)
            lines += [f"### `{r.id}` ({_md(p.short_authors if p else r.paper)} {p.year if p and p.year else ''}, {_md(r.where)}): {r.verdict_word}", "",
                      f"- **What the paper states, and what fails.** {_md(stated)}"]
            if counter:
                lines.append(f"- **Counterexample.** {_md(counter)}")
            lines.append(f"- **Evidence.** {_md(r.error or r.measured)}")
            nums = scalar_numbers(r.evidence)
            if nums:
                lines.append("- **Numbers.** " + ", ".join(f"{k} = {_fmt(v)}" for k, v in list(nums.items())[:10]))
            if r.figure:
                lines.append(f"- **Figure.** [{r.id}]({r.figure}) (in its paper's section: [{r.id}](#{_anchor(r.id)}))")
            lines.append("")
    swept = any(getattr(r, "sweep", None) for r in results)
    header = ["claim", "paper", "where", "expected", "measured", "verdict", "controls rejected",
              *(["holds at k/n seeds"] if swept else []), "figure"]
    lines += ['## <a id="overview"></a>Overview table', "",
              "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        rejected = sum(not c["holds"] for c in r.controls.values())
        fig = f"[fig]({r.figure})" if r.figure else ""
        seeds = f"{sweep_cell(r.sweep)} | " if swept else ""
        lines.append(f"| [`{r.id}`](#{_anchor(r.id)}) | {r.paper} | {_md(r.where)} | {_md(r.expected)} | "
                     f"{_md(r.error or r.measured)} | **{r.verdict_word}** | {rejected}/{len(r.controls)} | "
                     f"{seeds}{fig} |")
    errors = [r for r in results if r.error]
    if errors:
        lines += ["", "## Errors", ""] + [f"- `{r.id}`: {_md(r.error)}" for r in errors]
    short_env = {k: env.get(k) for k in ("theorycheck", "python", "platform", "cpu", "cpus", "blas", "git",
                                          "profile", "seed", "rerun", "date_utc")}
    short_env["packages"] = env.get("packages")
    lines += ["", '## <a id="environment"></a>Environment', "",
              "The full list of installed distributions is in `environment.json`.", "",
              "```json", _json_text(short_env), "```", ""]
    return "\n".join(lines)


def _json_text(obj) -> str:
    import json

    clean, _ = strict_json(obj)
    return json.dumps(clean, indent=2)


# --------------------------------------------------------------------------- LaTeX

TEX_PREAMBLE = r"""% Preamble of the theorycheck appendix (generated; safe to copy into your own paper).
% T1 font encoding: < > | _ and accented letters are typeset as themselves (the default OT1
% encoding turns | into an em dash and < into an inverted exclamation mark).
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}        % scalable Latin Modern in T1 (texlive-fonts-recommended)
\usepackage{textcomp}       % \textbullet, \textellipsis in text mode
\usepackage[a4paper,margin=2.2cm]{geometry}
\usepackage{graphicx}       % figures/ID.pdf (names with dots work in LaTeX >= 2019)
\usepackage{longtable}      % the overview table breaks across pages
\usepackage{booktabs}       % \toprule \midrule \bottomrule
\usepackage{array}          % >{\raggedright\arraybackslash}p{...} columns
\usepackage[hidelinks]{hyperref}
\setlength{\emergencystretch}{3em}  % ragged text never needs an overfull line
"""

_TEX_UNICODE = {
    "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
    "\u00b7": r"\textperiodcentered{}", "\u2264": r"$\le$", "\u2265": r"$\ge$", "\u2248": r"$\approx$",
    "\u00d7": r"$\times$", "\u2192": r"$\to$", "\u2190": r"$\leftarrow$", "\u00b1": r"$\pm$",
    "\u221e": r"$\infty$", "\u2016": r"$\|$", "\u2026": r"\dots{}", "\u00b2": r"$^2$", "\u00b3": r"$^3$",
    "\u221a": r"$\surd$", "\u2208": r"$\in$", "\u2211": r"$\sum$", "\u222b": r"$\int$", "\u2202": r"$\partial$",
    "\u2207": r"$\nabla$", "\u2260": r"$\ne$", "\u2261": r"$\equiv$", "\u00b5": r"$\mu$", "\u2212": "-",
    "\u03b1": r"$\alpha$", "\u03b2": r"$\beta$", "\u03b3": r"$\gamma$", "\u03b4": r"$\delta$",
    "\u03b5": r"$\varepsilon$", "\u03b6": r"$\zeta$", "\u03b7": r"$\eta$", "\u03b8": r"$\theta$",
    "\u03ba": r"$\kappa$", "\u03bb": r"$\lambda$", "\u03bc": r"$\mu$", "\u03bd": r"$\nu$", "\u03be": r"$\xi$",
    "\u03c0": r"$\pi$", "\u03c1": r"$\rho$", "\u03c3": r"$\sigma$", "\u03c4": r"$\tau$", "\u03c6": r"$\phi$",
    "\u03c7": r"$\chi$", "\u03c8": r"$\psi$", "\u03c9": r"$\omega$", "\u0393": r"$\Gamma$", "\u0394": r"$\Delta$",
    "\u039b": r"$\Lambda$", "\u03a3": r"$\Sigma$", "\u03a6": r"$\Phi$", "\u03a9": r"$\Omega$", "\u00a0": "~",
}
_TEX_ASCII = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
              "_": r"\_\allowbreak{}", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
              "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
              "/": r"/\allowbreak{}", "*": r"*\allowbreak{}", "=": r"=\allowbreak{}", ",": r",\allowbreak{}",
              "(": r"\allowbreak{}(", "[": r"\allowbreak{}[", "-": r"-\allowbreak{}", "+": r"+\allowbreak{}",
              "'": r"\textquotesingle{}", '"': r"\textquotedbl{}", "`": r"\textasciigrave{}"}
_LONG_WORD = re.compile(r"\S{18,}")


def tex(text: str) -> str:
    """Plain text -> LaTeX (T1): specials escaped, break points after . _ / = in long words, and
    every non-ASCII character mapped (unknown ones shown as their code point, never dropped)."""
    out = []
    t = " ".join(str(text).split())
    for word in t.split(" "):
        long_word = bool(_LONG_WORD.fullmatch(word))
        chars = []
        for i, ch in enumerate(word):
            if ch in "-+" and i + 1 < len(word) and word[i + 1].isdigit():
                chars.append(ch)  # a sign or exponent stays with its number
            elif ch in _TEX_ASCII:
                chars.append(_TEX_ASCII[ch])
            elif ch == "." and long_word and 0 < i < len(word) - 1 and not word[i + 1].isdigit():
                chars.append(r".\allowbreak{}")
            elif ord(ch) < 128:
                chars.append(ch)
            elif ch in _TEX_UNICODE:
                chars.append(_TEX_UNICODE[ch])
            elif ch.isalpha() and ord(ch) < 0x250:
                chars.append(ch)  # Latin-1/Latin Extended-A letters: inputenc + T1 set them
            else:
                chars.append(f"[U+{ord(ch):04X}]")
        if long_word and len(word) >= 30:
            # a long run with no natural break point: allow a break every 12 characters
            chars = [c + (r"\allowbreak{}" if (i + 1) % 12 == 0 else "") for i, c in enumerate(chars)]
        out.append("".join(chars))
    return " ".join(out)


def _tex_id(cid: str) -> str:
    return r"\texttt{" + tex(cid).replace(".", r".\allowbreak{}") + "}"


def _overview_table(results, papers, *, caption: str, label: str) -> list[str]:
    rows = [
        r"{\footnotesize\setlength{\tabcolsep}{4pt}",  # widths + separations < \linewidth
        # \hspace{0pt} lets TeX hyphenate a cell's first word (it never does otherwise)
        r"\begin{longtable}{@{}" + "".join(rf">{{\raggedright\arraybackslash\hspace{{0pt}}}}p{{{w}\linewidth}}"
                                           for w in (0.24, 0.18, 0.32, 0.14)) + r"@{}}",
        rf"\caption{{{caption}}}\label{{{label}}}\\",
        r"\toprule claim & where & measured & verdict \\ \midrule \endfirsthead",
        r"\toprule claim & where & measured & verdict \\ \midrule \endhead",
        r"\bottomrule \endfoot",
    ]
    for r in results:
        p = papers.get(r.paper)
        cite = rf"~\cite{{{p.citekey}}}" if p and p.has_record else ""
        rejected = sum(not c["holds"] for c in r.controls.values())
        verdict = tex(r.verdict_word) + rf" ({rejected}/{len(r.controls)} controls rejected)"
        rows.append(" & ".join([_tex_id(r.id) + cite, tex(shorten(r.where, 90)),
                                tex(shorten(r.error or r.measured, 220)), verdict]) + r" \\")
    rows += [r"\end{longtable}", r"}"]
    return rows


def render_claims_tex(results, papers: Mapping[str, PaperMeta] | None = None) -> str:
    """The overview table as a fragment: ``\\input{claims.tex}`` in a document with the packages
    of :data:`TEX_PREAMBLE` (longtable, booktabs, array, T1) and the papers' BibTeX."""
    papers = paper_meta(r.paper for r in results) if papers is None else papers
    head = ["% Generated by `python -m theorems appendix`; do not edit by hand.",
            "% Needs \\usepackage[T1]{fontenc}, longtable, booktabs and array; cites keys of references.bib."]
    return "\n".join(head + _overview_table(
        results, papers, caption="Claims checked by theorycheck: measured value and verdict (the "
        "claim holds, or a finding of a failing statement is reproduced, and every negative control "
        "is rejected).", label="tab:theorycheck-claims")) + "\n"


def _tex_claim(r, figure_dir_ok: bool) -> list[str]:
    lines = [rf"\paragraph{{{_tex_id(r.id)}: {tex(r.verdict_word)}.}}\label{{claim:{r.id}}}",
             r"\begin{description}\setlength{\itemsep}{0pt}",
             rf"\item[Statement] {tex(r.statement)}",
             rf"\item[Where] {tex(r.where)}",
             rf"\item[Kind] {tex(r.kind)}",
             rf"\item[Expected] {tex(r.expected)}",
             rf"\item[Measured] {tex(r.error or r.measured)}"]
    if r.controls:
        lines.append(r"\item[Controls] " + "; ".join(
            rf"\emph{{{tex(n)}}}: {'ACCEPTED (bad)' if c['holds'] else 'rejected'} ({tex(shorten(c['measured'], 200))})"
            for n, c in r.controls.items()))
    if r.notes.strip():
        lines.append(rf"\item[Notes] {tex(shorten(r.notes, 1200))}")
    excl = excluded_points(r.evidence)
    if excl:
        lines.append(r"\item[Excluded] " + "; ".join(
            (f"{e['fit']} fit, " if e["fit"] != "main" else "")
            + tex((f"parameter {_fmt(e['param'])}" if e["param"] is not None else f"level {e['index']}")
                  + ": " + e["reason"]) for e in excl))
    lines.append(r"\end{description}")
    if r.figure and figure_dir_ok:
        pdf = r.figure[: -len(".png")] + ".pdf" if r.figure.endswith(".png") else r.figure
        lines += [r"\begin{figure}[htbp]\centering",
                  rf"\includegraphics[width=0.72\linewidth]{{{pdf}}}",
                  rf"\caption{{{_tex_id(r.id)}: {tex(shorten(r.measured, 200))}}}\label{{fig:{r.id}}}",
                  r"\end{figure}"]
    return lines


def _thebibliography(papers: Mapping[str, PaperMeta]) -> list[str]:
    items = [p for p in papers.values() if p.has_record]
    if not items:
        return []
    lines = [r"\begin{thebibliography}{99}"]
    for p in sorted(items, key=lambda p: p.citekey):
        where = ", ".join(filter(None, [tex(p.venue), str(p.year or "")]))
        arxiv = rf", arXiv:{tex(p.arxiv)}" if p.arxiv else ""
        lines.append(rf"\bibitem{{{p.citekey}}} {tex(p.author_line)}. \emph{{{tex(p.title)}}}. {where}{arxiv}.")
    lines.append(r"\end{thebibliography}")
    return lines


def render_appendix_tex(results, env: Mapping[str, Any], papers: Mapping[str, PaperMeta] | None = None,
                        *, figures: bool = True) -> str:
    """A standalone LaTeX appendix (``pdflatex appendix.tex`` twice; no BibTeX run needed)."""
    papers = paper_meta(r.paper for r in results) if papers is None else papers
    n = _summary_counts(results)
    git = env.get("git", {})
    lines = ["% Generated by `python -m theorems appendix`; compile with `pdflatex appendix.tex` (twice).",
             r"\documentclass[10pt]{article}", TEX_PREAMBLE.rstrip(),
             r"\title{theorycheck appendix: the papers' claims checked by computation}",
             r"\date{" + tex(env.get("date_utc", "")) + "}",
             r"\author{generated by theorycheck " + tex(str(env.get("theorycheck") or "")) + "}",
             r"\begin{document}", r"\maketitle",
             r"\section*{Summary}",
             tex(f"{n['claims']} claims from {n['papers']} papers in {n['families']} families; "
                 f"{n['passed']} pass (the claim holds, or a finding is reproduced, and every negative "
                 f"control is rejected); {n['findings']} findings; {n['controls_rejected']} of "
                 f"{n['controls']} negative controls rejected; {n['errors']} studies raised. Profile "
                 f"{env.get('profile')}, seed {env.get('seed')}, commit {git.get('commit', 'unknown')}"
                 f"{' (uncommitted changes)' if git.get('dirty') else ''}.") ,
             "", r"{\raggedright\noindent Rerun: \texttt{" + tex(env.get("rerun", "")) + r"}\par}", ""]
    for fam, ps in _group(results).items():
        lines += [rf"\section{{Family {tex(fam)}}}"]
        for key, rs in ps.items():
            p = papers.get(key) or PaperMeta(key, key, (), None, "", "", "", key, False)
            # ragged: a long author list must not push a line past the margin
            lines += [rf"\subsection{{{tex(p.title)}}}",
                      r"{\raggedright " + tex(p.author_line) + (f", {p.year}" if p.year else "")
                      + (rf", arXiv:{tex(p.arxiv)}" if p.arxiv else "")
                      + (rf"~\cite{{{p.citekey}}}" if p.has_record else "")
                      + rf". Paper key \texttt{{{tex(key)}}}.\par}}", ""]
            for r in rs:
                lines += _tex_claim(r, figures)
            lines.append(r"\clearpage")
    lines += [r"\section{Overview}"]
    lines += _overview_table(results, papers, caption="Every claim of this run.", label="tab:overview")
    lines += _thebibliography(papers)
    lines += [r"\end{document}", ""]
    return "\n".join(lines)


def render_bib(results, papers: Mapping[str, PaperMeta] | None = None) -> str:
    papers = paper_meta(r.paper for r in results) if papers is None else papers
    entries = [p.bibtex.strip() for p in papers.values() if p.has_record and p.bibtex.strip()]
    return "% Generated by `python -m theorems appendix` from papers/*.toml.\n\n" + "\n\n".join(entries) + "\n"


# --------------------------------------------------------------------------- results.json


def results_payload(results, env: Mapping[str, Any]) -> dict[str, Any]:
    """The results.json document (schema ``schemas/results.schema.json``)."""
    claims = []
    for r in results:
        raw = {
            "id": r.id, "paper": r.paper, "family": r.family, "where": r.where,
            "statement": r.statement, "kind": r.kind, "expected": r.expected, "measured": r.measured,
            "holds": r.holds, "passed": r.passed, "verdict": r.verdict_word, "notes": r.notes,
            "finding": r.finding, "figure": r.figure, "error": r.error,
            "controls": {name: {"holds": bool(c["holds"]), "measured": c["measured"],
                                "notes": c.get("notes", ""), "numbers": c.get("numbers", {})}
                         for name, c in r.controls.items()},
            "numbers": scalar_numbers(r.evidence),
            "excluded": excluded_points(r.evidence),
            "evidence": r.evidence,
        }
        if getattr(r, "sweep", None):
            raw["sweep"] = r.sweep
        clean, flags = strict_json(raw)
        clean["nonfinite"] = flags
        claims.append(clean)
    return {"schema_version": SCHEMA_VERSION, "profile": env.get("profile"), "seed": env.get("seed"),
            "summary": _summary_counts(results), "claims": claims}


# --------------------------------------------------------------------------- cite and diff


def bibtex_for(papers: Iterable[str], *, skip_missing: bool = False) -> str:
    """The BibTeX entries of these paper keys, from papers/ (a key without a record raises
    ValueError, or is left out with ``skip_missing``)."""
    keys = sorted(set(papers))
    meta = paper_meta(keys)
    missing = [k for k in keys if not meta[k].has_record or not meta[k].bibtex]
    if missing and not skip_missing:
        raise ValueError(f"no BibTeX in papers/ for {', '.join(missing)}")
    keys = [k for k in keys if k not in missing]
    return "\n\n".join(meta[k].bibtex.strip() for k in keys) + "\n"


def _flat_numbers(obj: Any, prefix: str = "") -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out |= _flat_numbers(v, f"{prefix}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out |= _flat_numbers(v, f"{prefix}/{i}")
    elif isinstance(obj, bool):
        out[prefix] = float(obj)
    elif isinstance(obj, int | float):
        out[prefix] = float(obj)
    elif obj is None:
        out[prefix] = None
    return out


def diff_results(old: Mapping[str, Any], new: Mapping[str, Any], *, rtol: float = 1e-6,
                 atol: float = 0.0) -> list[str]:
    """Human-readable differences between two results.json documents: claims added or removed,
    verdicts or controls' verdicts changed, and numbers (evidence and controls) that moved by
    more than ``atol + rtol * |old|`` (a number that became null/non-finite counts as moved)."""
    if rtol < 0 or atol < 0:
        raise ValueError("diff_results: rtol and atol must be non-negative")
    a = {c["id"]: c for c in old.get("claims", [])}
    b = {c["id"]: c for c in new.get("claims", [])}
    lines = []
    for cid in sorted(set(a) - set(b)):
        lines.append(f"removed  {cid}")
    for cid in sorted(set(b) - set(a)):
        lines.append(f"added    {cid}: {b[cid].get('verdict', '')}")
    for cid in sorted(set(a) & set(b)):
        ca, cb = a[cid], b[cid]
        va = ca.get("verdict", "pass" if ca.get("passed") else "fail")
        vb = cb.get("verdict", "pass" if cb.get("passed") else "fail")
        if va != vb or bool(ca.get("passed")) != bool(cb.get("passed")):
            lines.append(f"verdict  {cid}: {va} -> {vb}")
        for name in sorted(set(ca.get("controls", {})) | set(cb.get("controls", {}))):
            ha = ca.get("controls", {}).get(name, {}).get("holds")
            hb = cb.get("controls", {}).get(name, {}).get("holds")
            if ha != hb:
                lines.append(f"control  {cid} / {name}: holds {ha} -> {hb}")
        na = _flat_numbers({"evidence": ca.get("evidence", {}), "controls": ca.get("controls", {})})
        nb = _flat_numbers({"evidence": cb.get("evidence", {}), "controls": cb.get("controls", {})})
        moved = []
        for path in sorted(set(na) & set(nb)):
            x, y = na[path], nb[path]
            if x is None and y is None:
                continue
            if x is None or y is None:
                moved.append((math.inf, path, x, y))
                continue
            dev = abs(y - x)
            if dev > atol + rtol * abs(x):
                moved.append((dev / (abs(x) if x else 1.0), path, x, y))
        shape = sorted(set(na) ^ set(nb))
        if moved:
            moved.sort(key=lambda t: -t[0])
            worst = "; ".join(f"{p} {_fmt(x)} -> {_fmt(y)}" for _, p, x, y in moved[:3])
            lines.append(f"numbers  {cid}: {len(moved)} moved beyond rtol {rtol:g}, atol {atol:g} (largest: {worst})")
        if shape:
            lines.append(f"shape    {cid}: {len(shape)} numbers present in only one run (e.g. {shape[0]})")
    return lines


def software_bibtex(cff: Mapping[str, Any], key: str = "theorycheck") -> str:
    """The README's BibTeX entry for theorycheck itself, built from the parsed CITATION.cff
    (a test keeps README.md's snippet equal to this for the repository's CITATION.cff)."""
    authors = []
    for a in cff.get("authors", []):
        if "name" in a:
            authors.append("{" + str(a["name"]) + "}")
        else:
            authors.append(f"{a.get('family-names', '')}, {a.get('given-names', '')}".strip(", "))
    date = str(cff.get("date-released", ""))
    fields = [("title", "{" + str(cff["title"]) + "}"), ("author", " and ".join(authors)),
              ("year", date[:4]), ("version", str(cff.get("version", ""))),
              ("license", str(cff.get("license", ""))),
              ("note", "cite with the commit recorded in the appendix's environment.json")]
    if cff.get("url") or cff.get("repository-code"):
        fields.append(("url", str(cff.get("repository-code") or cff.get("url"))))
    body = ",\n".join(f"  {name:<8}= {{{value}}}" for name, value in fields if value)
    return f"@software{{{key},\n{body}\n}}"
