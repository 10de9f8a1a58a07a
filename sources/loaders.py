"""Load documents: txt, md, html, pdf and docx, by suffix.

``load(path)`` returns a ``Document`` or raises ``SourceError`` naming the file and the reason.
``load_paths(paths)`` walks files and folders, loads what it can and returns a ``LoadReport``
that lists every skipped file with its reason — one bad file never stops the others.
"""

from __future__ import annotations

import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Iterable

from sources.errors import BayyinaError, MissingDependencyError, SourceError
from sources.limits import LIMITS, check_docx, check_size, mixed_encoding
from sources.text import detect_language
from sources.types import Document, Span

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class LoadReport:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]


# ---------------------------------------------------------------- text decoding

_ARABIC_CP1256_HINT = re.compile("[\u0621-\u064a]")


def decode_bytes(data: bytes, path: str) -> str:
    """Decode text bytes: BOMs (UTF-8, UTF-16), strict UTF-8, BOM-less UTF-16, Windows-1256
    Arabic, then charset detection. Binary data raises ``SourceError``."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", path)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16", path)
    if len(data) >= 4 and data.count(b"\x00") > len(data) // 4:
        # UTF-16 without a BOM puts a NUL in every other byte for ASCII and Arabic alike.
        even, odd = data[0::2].count(0), data[1::2].count(0)
        encoding = "utf-16-le" if odd > even else "utf-16-be"
        try:
            return _clean(data.decode(encoding), path)
        except UnicodeDecodeError:
            raise SourceError(path, "looks binary (many NUL bytes) and is not UTF-16 text; "
                                    "convert it to UTF-8 text or a supported format") from None
    if b"\x00" in data:
        raise SourceError(path, "looks binary (contains NUL bytes); only text, markdown, html, "
                                "pdf and docx files can be indexed")
    try:
        return _clean(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        pass
    if mixed_encoding(data):
        raise SourceError(path, "mixes UTF-8 with another encoding (part of it would be garbled); re-save it "
                                "as UTF-8 in one piece")
    try:
        text = data.decode("cp1256")
        letters = sum(ch.isalpha() for ch in text)
        if letters and len(_ARABIC_CP1256_HINT.findall(text)) / letters > 0.3:
            return _clean(text, path)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SourceError(path, "cannot be decoded as text (not UTF-8, UTF-16 or Windows-1256); "
                                "save it as UTF-8 and try again")
    return _clean(str(best), path)


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        return _clean(data.decode(encoding), path)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"declares {encoding} with a byte-order mark but is not valid {encoding} "
                                f"({exc.reason} at byte {exc.start}); re-save it as UTF-8") from None


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str, path: str) -> str:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    controls = len(_CONTROL.findall(text))
    if controls > max(8, len(text) // 100):
        raise SourceError(path, "looks binary (many control characters); only text, markdown, html, "
                                "pdf and docx files can be indexed")
    return _CONTROL.sub(" ", text)


# ---------------------------------------------------------------- one reader per format

def _read_bytes(path: Path) -> bytes:
    check_size(path, LIMITS.text_bytes, "text, markdown and html files")
    return path.read_bytes()


def _load_text(path: Path) -> Document:
    text = decode_bytes(_read_bytes(path), str(path))
    return Document(str(path), text, kind="txt")


_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S.*$", re.MULTILINE)


def _load_markdown(path: Path) -> Document:
    text = decode_bytes(_read_bytes(path), str(path))
    headings = tuple(Span(m.start(), m.end()) for m in _MD_HEADING.finditer(text))
    return Document(str(path), text, kind="md", headings=headings)


_HTML_BLOCKS = {"p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "br", "blockquote",
                "pre", "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "main", "nav", "dd", "dt",
                "td", "th", "figcaption", "caption", "hr"}
_HTML_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_SKIP = {"script", "style", "noscript", "template", "svg", "head"}


class _TextBuilder:
    """Accumulates text pieces, tracking offsets of headings; collapses runs of blank lines."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Span] = []

    def add(self, piece: str) -> None:
        if piece:
            self.parts.append(piece)
            self.length += len(piece)

    def newline(self, blank: bool = False) -> None:
        text = "".join(self.parts[-2:])
        want = "\n\n" if blank else "\n"
        if not self.parts:
            return
        trailing = len(text) - len(text.rstrip("\n"))
        if trailing < len(want):
            self.add(want[trailing:])

    def text(self) -> str:
        return "".join(self.parts)


def _load_html(path: Path) -> Document:
    try:
        from bs4 import BeautifulSoup, NavigableString, Tag
        from bs4.element import Comment, Doctype, ProcessingInstruction
    except ImportError:  # pragma: no cover - a core dependency
        raise MissingDependencyError("Reading HTML needs beautifulsoup4.", "pip install beautifulsoup4") from None
    raw = decode_bytes(_read_bytes(path), str(path))
    soup = BeautifulSoup(raw, "html.parser")
    out = _TextBuilder()

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                piece = re.sub(r"\s+", " ", str(child))
                if piece.strip() or (out.parts and not out.parts[-1].endswith((" ", "\n"))):
                    if not out.parts or out.parts[-1].endswith("\n"):
                        piece = piece.lstrip()
                    out.add(piece)
                continue
            if not isinstance(child, Tag) or child.name in _HTML_SKIP:
                continue
            block = child.name in _HTML_BLOCKS
            if block:
                out.newline(blank=child.name in _HTML_HEADINGS or child.name == "p")
            start = out.length
            walk(child)
            if child.name in _HTML_HEADINGS and out.length > start:
                out.headings.append(Span(start, out.length))
            if block:
                out.newline(blank=child.name in _HTML_HEADINGS or child.name == "p")

    walk(soup.body or soup)
    text = out.text()
    headings = tuple(_trim_span(text, h) for h in out.headings if text[h.start:h.end].strip())
    if not text.strip():
        title = soup.title.string if soup.title and soup.title.string else ""
        text = title
    return Document(str(path), text, kind="html", headings=headings)


def _trim_span(text: str, span: Span) -> Span:
    s, e = span.start, span.end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return Span(s, e)


def _load_docx(path: Path) -> Document:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - a core dependency
        raise MissingDependencyError("Reading .docx needs python-docx.", "pip install python-docx") from None
    check_size(path, LIMITS.file_bytes, ".docx files")
    check_docx(path)
    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise SourceError(str(path), f"is not a readable .docx file ({exc}); re-save it from a word processor"
                          ) from None
    except Exception as exc:  # zipfile.BadZipFile, lxml errors…
        raise SourceError(str(path), f"is not a readable .docx file ({type(exc).__name__}: {exc})") from None
    out = _TextBuilder()
    for block in _docx_blocks(d):
        text, is_heading = block
        if not text.strip():
            continue
        if out.parts:
            out.add("\n\n")
        start = out.length
        out.add(text)
        if is_heading:
            out.headings.append(Span(start, out.length))
    return Document(str(path), out.text(), kind="docx", headings=tuple(out.headings))


def _docx_blocks(d) -> Iterable[tuple[str, bool]]:
    """Paragraphs and table rows in document order; headings by style name or outline level."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in d.iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            yield item.text, style.lower().startswith(("heading", "title"))
        elif isinstance(item, Table):
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    t = cell.text.strip()
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                yield " | ".join(cells), False


# Arabic presentation forms: which of them are final / initial shapes.
_FINAL_FORMS = set()
_INITIAL_FORMS = set()
for _cp in list(range(0xFB50, 0xFDFF)) + list(range(0xFE70, 0xFEFF)):
    _name = unicodedata.name(chr(_cp), "")
    if "FINAL FORM" in _name:
        _FINAL_FORMS.add(chr(_cp))
    elif "INITIAL FORM" in _name:
        _INITIAL_FORMS.add(chr(_cp))
_AR_WORD = re.compile("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]+")
_LTR_RUN = re.compile(r"[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f.,:/%\-]*[A-Za-z0-9\u00c0-\u024f%]|"
                      r"[A-Za-z0-9\u00c0-\u024f]")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def _visual_order_score(text: str) -> float:
    """> 0 when Arabic words look stored right-to-left-reversed (visual order), < 0 when logical."""
    logical = reversed_ = 0
    for word in _AR_WORD.findall(text):
        if len(word) < 2:
            continue
        first, last = word[0], word[-1]
        # Logical order: a word starts with an initial (or isolated) form and ends with a final one.
        logical += (first in _INITIAL_FORMS) + (last in _FINAL_FORMS)
        reversed_ += (first in _FINAL_FORMS) + (last in _INITIAL_FORMS)
        # Without presentation forms: the article ال opens words in logical order, لا closes them reversed.
        folded = unicodedata.normalize("NFKC", word)
        logical += folded.startswith("ال")
        reversed_ += folded.endswith("لا") and not folded.startswith("ال")
    total = logical + reversed_
    return 0.0 if total == 0 else (reversed_ - logical) / total


def _reverse_visual_line(line: str) -> str:
    """Undo visual ordering of a right-to-left line: reverse it, then put left-to-right runs
    (Latin words, numbers) back in reading order and un-mirror brackets."""
    rev = line[::-1].translate(_MIRROR)
    return _LTR_RUN.sub(lambda m: m.group(0)[::-1], rev)


def fix_arabic_pdf_text(text: str) -> str:
    """Put Arabic extracted from a PDF into logical order and plain letters.

    Many PDFs store Arabic in visual order as presentation-form glyphs; text extractors then
    return each line reversed. Lines that look reversed are turned back; presentation forms are
    folded to ordinary letters (NFKC) either way."""
    if not _AR_WORD.search(text):
        return text
    lines = text.split("\n")
    if _visual_order_score(text) > 0.2:
        lines = [_SWAPPED_LAM_ALEF.sub(r"ال\1", _reverse_visual_line(line)) if _AR_WORD.search(line) else line
                 for line in lines]
    return "\n".join(_fold_presentation_forms(line) for line in lines)


# A lam-alef ligature whose glyph maps to the two letters "لأ" comes out of a reversed line as
# "أل"; after the article that gives "األ", which Arabic never writes: put it back to "الأ".
_SWAPPED_LAM_ALEF = re.compile("ا([أإآ])ل")


def _fold_presentation_forms(line: str) -> str:
    return "".join(unicodedata.normalize("NFKC", ch) if "\ufb50" <= ch <= "\ufeff" else ch for ch in line)


def _pdf_pages(path: Path) -> list[str]:
    """Text of each page, as pdfminer.six lays it out (visual order for right-to-left lines)."""
    try:
        from pdfminer.high_level import extract_pages
        from pdfminer.layout import LTTextContainer
        from pdfminer.pdfparser import PDFSyntaxError
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    except ImportError:  # pragma: no cover - a core dependency
        raise MissingDependencyError("Reading PDF needs pdfminer.six.", "pip install pdfminer.six") from None
    check_size(path, LIMITS.file_bytes, "PDF files")
    started = time.monotonic()
    try:
        pages = []
        for page in extract_pages(str(path)):
            if len(pages) >= LIMITS.pdf_pages:
                raise SourceError(str(path), f"has over {LIMITS.pdf_pages:,} pages; split it into smaller files")
            if time.monotonic() - started > LIMITS.seconds:
                raise SourceError(str(path), f"took over {LIMITS.seconds:.0f} s to read ({len(pages)} pages so far): "
                                             "a damaged or hostile PDF; re-export it or split it")
            pages.append("".join(el.get_text() for el in page if isinstance(el, LTTextContainer)))
        return pages
    except (PDFEncryptionError, PDFPasswordIncorrect):
        raise SourceError(str(path), "is an encrypted PDF; save an unencrypted copy") from None
    except SourceError:
        raise
    except PDFSyntaxError as exc:
        raise SourceError(str(path), f"is not a readable PDF ({exc}); check the file or re-export it") from None
    except Exception as exc:  # damaged files raise many kinds of errors inside pdfminer
        raise SourceError(str(path), f"is not a readable PDF ({type(exc).__name__}: {exc}); "
                                     "check the file or re-export it") from None


def _load_pdf(path: Path) -> Document:
    pages = _pdf_pages(path)
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_text = _clean(fix_arabic_pdf_text(page_text.replace("\x0c", "")), str(path)).strip()
        starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2
    text = "\n\n".join(parts)
    if not text.strip() and pages:
        raise SourceError(str(path), "has no extractable text (a scanned PDF?); run OCR on it first")
    return Document(str(path), text, kind="pdf", page_starts=tuple(starts))


LOADERS: dict[str, Callable[[Path], Document]] = {
    ".txt": _load_text,
    ".text": _load_text,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
SUPPORTED_SUFFIXES = tuple(sorted(LOADERS))


def load(path: str | Path, *, source: str | None = None) -> Document:
    """Load one file. ``source`` overrides the name recorded for it (default: the path)."""
    p = Path(path)
    if not p.exists():
        raise SourceError(str(p), "does not exist; check the path")
    if p.is_dir():
        raise SourceError(str(p), "is a folder; use load_paths() to load the files inside it")
    loader = LOADERS.get(p.suffix.lower())
    if loader is None:
        raise SourceError(str(p), f"has an unsupported type {p.suffix or '(no suffix)'!r}; "
                                  f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        doc = loader(p)
    except OSError as exc:
        raise SourceError(str(p), f"cannot be read ({exc.strerror or exc})") from None
    if not doc.text.strip():
        raise SourceError(str(p), "is empty (no text to index)")
    if source is not None:
        doc = Document(source, doc.text, doc.kind, doc.page_starts, doc.headings)
    if detect_language(doc.text) == "unknown":
        logger.warning("%s: no Arabic or Latin letters found; indexing it anyway", p)
    return doc


def path_list(paths: object, what: str = "paths") -> list[Path]:
    """``paths`` as a list of ``Path``s: one path (``str`` or ``Path``) is one path, not its
    characters; anything else must be an iterable of paths. Raise naming the bad value and the fix."""
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    if paths is None or isinstance(paths, bytes) or not hasattr(paths, "__iter__"):
        raise BayyinaError(f"{what} must be a file or folder path or a list of them, not "
                           f"{type(paths).__name__}: pass e.g. [\"docs/\", \"report.pdf\"].")
    out = []
    for i, item in enumerate(paths):  # type: ignore[union-attr]
        if not isinstance(item, (str, os.PathLike)) or not str(item).strip():
            raise BayyinaError(f"{what}[{i}] is {item!r}: each entry must be a non-empty file or folder path.")
        out.append(Path(item))
    return out


def iter_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Skipped]]:
    """Expand folders (recursively, supported suffixes only, hidden files skipped)."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for raw in path_list(paths):
        p = Path(raw)
        if not p.exists():
            skipped.append(Skipped(str(p), "does not exist; check the path"))
        elif p.is_dir():
            found, unreadable = _walk(p)
            skipped.extend(Skipped(str(d), f"cannot be read ({why}); check its permissions") for d, why in unreadable)
            if not found and not unreadable:
                skipped.append(Skipped(str(p), f"folder has no supported files ({', '.join(SUPPORTED_SUFFIXES)})"))
            files.extend(found)
        else:
            files.append(p)
    return files, skipped


def _walk(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Supported, non-hidden files under ``folder`` (symlinked folders are not followed, so a
    symlink loop ends nowhere), and the sub-folders that could not be read."""
    found: list[Path] = []
    unreadable: list[tuple[Path, str]] = []

    def failed(exc: OSError) -> None:
        unreadable.append((Path(exc.filename or folder), exc.strerror or type(exc).__name__))

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            f = Path(root) / name
            if not name.startswith(".") and f.suffix.lower() in LOADERS and f.is_file():
                found.append(f)
    return sorted(found), unreadable


def load_paths(paths: Iterable[str | Path]) -> LoadReport:
    """Load every file under ``paths``; collect, never raise, per-file problems."""
    files, skipped = iter_files(paths)
    docs: list[Document] = []
    for f in files:
        try:
            docs.append(load(f))
        except SourceError as exc:
            logger.info("skipped %s", exc)   # reported in LoadReport.skipped; callers show it once
            skipped.append(Skipped(exc.path, exc.reason))
    return LoadReport(tuple(docs), tuple(skipped))
