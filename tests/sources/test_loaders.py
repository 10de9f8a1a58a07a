from pathlib import Path

import pytest

from sources.errors import SourceError
from sources.loaders import decode_bytes, fix_arabic_pdf_text, load, load_paths

AR = "أصدر مجلس الأمن القرار 678 في عام 1990 بشأن الكويت."
EN = "The Security Council adopted resolution 678 in 1990."
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("utf-16-le", b""), ("utf-16-be", b""),
    ("cp1256", b""),
])
def test_text_encodings(tmp_path, encoding, prefix):
    f = tmp_path / "doc.txt"
    f.write_bytes(prefix + (AR + "\n" + EN).encode(encoding) if encoding != "cp1256"
                  else AR.encode("cp1256") + b"\n" + EN.encode("cp1256"))
    assert load(f).text == AR + "\n" + EN


def test_windows_line_endings_and_bom_are_cleaned():
    assert decode_bytes(b"\xef\xbb\xbfa\r\nb\rc", "x") == "a\nb\nc"


def test_markdown_headings(tmp_path):
    f = tmp_path / "notes.md"
    f.write_text("# الأمن الجماعي\n\nنص أول.\n\n## Second\n\nText.\n", encoding="utf-8")
    doc = load(f)
    assert doc.kind == "md"
    assert [doc.text[h.start:h.end] for h in doc.headings] == ["# الأمن الجماعي", "## Second"]


def test_html_text_headings_and_no_scripts(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>t</title><style>p{color:red}</style></head><body dir='rtl'>"
        "<h1>مجلس الأمن</h1><p>أصدر المجلس <b>القرار</b> 678.</p><script>alert(1)</script>"
        "<ul><li>one</li><li>two</li></ul></body></html>", encoding="utf-8")
    doc = load(f)
    assert "alert" not in doc.text and "color" not in doc.text
    assert "أصدر المجلس القرار 678." in doc.text
    assert [doc.text[h.start:h.end] for h in doc.headings] == ["مجلس الأمن"]
    assert "one\ntwo" in doc.text


def test_docx_paragraphs_headings_tables(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("الفصل الأول", level=1)
    d.add_paragraph(AR)
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "القرار"
    table.rows[0].cells[1].text = "678"
    d.add_paragraph(EN)
    f = tmp_path / "report.docx"
    d.save(f)
    doc = load(f)
    assert doc.text.split("\n\n") == ["الفصل الأول", AR, "القرار | 678", EN]
    assert [doc.text[h.start:h.end] for h in doc.headings] == ["الفصل الأول"]


def _pdf(path: Path, lines: list[str], *, visual: bool, pages: int = 1) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dv", "", str(FONT))
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("dv", size=13)
        if not visual:
            pdf.set_text_shaping(True)
        for line in lines:
            if visual:
                import arabic_reshaper
                from bidi.algorithm import get_display

                line = get_display(arabic_reshaper.reshape(line))
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


needs_font = pytest.mark.skipif(not FONT.exists(), reason="needs Debian's fonts-dejavu-core for Arabic glyphs")


@needs_font
def test_arabic_pdf_in_visual_order_comes_out_logical(tmp_path):
    f = tmp_path / "visual.pdf"
    _pdf(f, [AR, EN, "الأمم المتحدة (UN) والسلام"], visual=True)
    doc = load(f)
    assert doc.text.split("\n") == [AR, EN, "الأمم المتحدة (UN) والسلام"]
    assert doc.page_starts == (0,)


@needs_font
def test_arabic_pdf_shaped_with_harfbuzz_comes_out_logical(tmp_path):
    pytest.importorskip("uharfbuzz")
    f = tmp_path / "shaped.pdf"
    _pdf(f, [AR], visual=False, pages=2)
    doc = load(f)
    assert doc.text == AR + "\n\n" + AR
    assert doc.page_starts == (0, len(AR) + 2)
    assert doc.page_at(len(AR) + 5) == 2


def test_fix_arabic_pdf_text_leaves_logical_text_alone():
    assert fix_arabic_pdf_text(AR + "\n" + EN) == AR + "\n" + EN


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "is empty"),
    ("blank.txt", b"  \n\t ", "is empty"),
    ("binary.txt", bytes(range(256)) * 4, "binary"),
    ("image.png", b"\x89PNG\r\n", "unsupported type '.png'"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
    ("broken.docx", b"PK\x03\x04 nope", "not a readable .docx"),
])
def test_bad_files_raise_clear_errors(tmp_path, name, data, reason):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(SourceError, match=reason) as info:
        load(f)
    assert str(f) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        load(tmp_path / "nope.txt")
    with pytest.raises(SourceError, match="is a folder"):
        load(tmp_path)


def test_load_paths_indexes_good_files_and_lists_the_rest(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(AR, encoding="utf-8")
    (tmp_path / "docs" / "b.md").write_text("# T\n" + EN, encoding="utf-8")
    (tmp_path / "docs" / "empty.txt").write_text("")
    (tmp_path / "docs" / "bad.pdf").write_bytes(b"garbage")
    (tmp_path / "docs" / "ignored.xyz").write_text("x")
    (tmp_path / "docs" / ".hidden.txt").write_text("secret")
    (tmp_path / "nothing").mkdir()
    report = load_paths([tmp_path / "docs", tmp_path / "missing.txt", tmp_path / "nothing"])
    assert sorted(Path(d.source).name for d in report.documents) == ["a.txt", "b.md"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "bad.pdf", "missing.txt", "nothing"}
    assert "no supported files" in reasons["nothing"]


def test_source_override(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(AR, encoding="utf-8")
    assert load(f, source="custom-name").source == "custom-name"
