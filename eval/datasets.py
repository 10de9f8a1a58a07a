"""Benchmark datasets in SQuAD v1/v2 format (XQuAD, ARCD, MLQA, …), validated on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa import BayyinaError, Document, detect_language


class DatasetError(BayyinaError):
    """A benchmark file is missing or malformed; the message names the first bad record."""


@dataclass(frozen=True)
class Paragraph:
    id: str          # "<title>#<index in article>", the same across parallel XQuAD files
    title: str
    context: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    paragraph_id: str
    impossible: bool = False


@dataclass(frozen=True)
class SquadDataset:
    path: str
    language: str
    paragraphs: tuple[Paragraph, ...]
    questions: tuple[Question, ...]

    def documents(self) -> list[Document]:
        """One document per paragraph, its source ``<language>:<paragraph id>``."""
        return [Document(source=f"{self.language}:{p.id}", text=p.context, kind="squad") for p in self.paragraphs]


def paragraph_of(source: str) -> str:
    """The paragraph id of a document source made by ``SquadDataset.documents``."""
    return source.split(":", 1)[1] if ":" in source else source


def dataset_language(contexts) -> str:
    """``ar`` or ``en``: the language most of the contexts are written in (``xx`` when neither)."""
    counts = {"ar": 0, "en": 0}
    for i, text in enumerate(contexts):
        if i >= 200:
            break
        lang = detect_language(text, threshold=0.6)
        if lang in counts:
            counts[lang] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else "xx"


def load_squad(path: str | Path, language: str | None = None) -> SquadDataset:
    """Read and validate a SQuAD-format JSON file. ``language`` defaults to the suffix of
    ``name.<lang>.json`` (``xquad.ar.json`` → ``ar``), else to the language of the contexts.
    Paragraph ids are ``<title>#<index>``; a repeated title gets `` (2)``, `` (3)``… after it."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file; give the path of a SQuAD-format JSON file.")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{p}: not valid UTF-8 JSON ({exc}).") from None
    if language is None:
        parts = p.name.split(".")
        language = parts[-2] if len(parts) >= 3 and parts[-2] in ("ar", "en") else None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DatasetError(f"{p}: expected an object with a 'data' list (SQuAD format).")
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    seen_titles: dict[str, int] = {}
    for ai, article in enumerate(data["data"]):
        where = f"{p}: data[{ai}]"
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise DatasetError(f"{where}: expected an object with a 'paragraphs' list.")
        title = str(article.get("title", f"article{ai}"))
        # Ids stay unique when titles repeat (and equal across parallel files, which share the order).
        seen_titles[title] = seen_titles.get(title, 0) + 1
        key = title if seen_titles[title] == 1 else f"{title} ({seen_titles[title]})"
        for pi, para in enumerate(article["paragraphs"]):
            pw = f"{where}.paragraphs[{pi}]"
            if not isinstance(para, dict) or not isinstance(para.get("context"), str) or not para["context"].strip():
                raise DatasetError(f"{pw}: expected an object with a non-empty 'context' string.")
            pid = f"{key}#{pi}"
            paragraphs.append(Paragraph(pid, title, para["context"]))
            for qi, qa in enumerate(para.get("qas", [])):
                qw = f"{pw}.qas[{qi}]"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or "id" not in qa:
                    raise DatasetError(f"{qw}: expected an object with 'id' and 'question'.")
                impossible = bool(qa.get("is_impossible", False))
                answers = qa.get("answers", [])
                if not isinstance(answers, list) or not all(isinstance(a, dict) and isinstance(a.get("text"), str)
                                                            for a in answers):
                    raise DatasetError(f"{qw} (id {qa['id']}): 'answers' must be a list of objects with 'text'.")
                if not answers and not impossible:
                    raise DatasetError(f"{qw} (id {qa['id']}): no answers and not marked is_impossible.")
                questions.append(Question(str(qa["id"]), qa["question"], tuple(a["text"] for a in answers),
                                          pid, impossible))
    if not paragraphs:
        raise DatasetError(f"{p}: the file has no paragraphs.")
    if language is None:
        language = dataset_language(para.context for para in paragraphs)
    return SquadDataset(str(p), language, tuple(paragraphs), tuple(questions))


@dataclass(frozen=True)
class ConversationItem:
    """One turn to evaluate in a conversation (JSONL format, one object per line)::

        {"id": "c1-2", "history": [["ما رقم القرار…؟", "678 …"]], "question": "ومتى صدر؟",
         "answers": ["29 نوفمبر 1990"], "gold_text": "29 نوفمبر 1990", "gold_source": "collective_security.ar.txt"}

    ``history``: earlier [question, answer] turns (may be empty); ``answers``: gold answers;
    ``gold_text``: a piece of the source that a correct citation must contain (default: the first
    answer); ``gold_source``: optionally, the document it must come from (its source name).
    ``"unanswerable": true`` (with ``"answers": []``) marks a question the sources do not answer:
    it should be abstained on. Optional labels for reports: ``kind`` (``single``, ``follow_up`` —
    needs the previous turn, ``standalone`` — complete on its own although it follows an unrelated
    turn, so it must not be condensed with it, ``unanswerable``), ``type`` (when, how many, who…)
    and ``paragraph`` (the source paragraph, 1-based).
    """

    id: str
    history: tuple[tuple[str, str], ...]
    question: str
    answers: tuple[str, ...]
    gold_text: str
    gold_source: str = ""
    unanswerable: bool = False
    kind: str = ""
    qtype: str = ""
    paragraph: int | None = None


def load_conversations(path: str | Path) -> tuple[ConversationItem, ...]:
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}: no such file; give a conversation JSONL file.")
    items: list[ConversationItem] = []
    ids: set[str] = set()
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{p}: line {n}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc}).") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: expected a JSON object.")
        for key in ("id", "question"):
            if not isinstance(obj.get(key), str) or not obj[key].strip():
                raise DatasetError(f"{where}: '{key}' must be a non-empty string.")
        unanswerable = obj.get("unanswerable", False)
        if not isinstance(unanswerable, bool):
            raise DatasetError(f"{where} (id {obj['id']}): 'unanswerable' must be true or false.")
        answers = obj.get("answers")
        if unanswerable:
            if answers not in (None, []):
                raise DatasetError(f"{where} (id {obj['id']}): an unanswerable question has no 'answers' "
                                   "(give [] or leave it out).")
            answers = []
        elif not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a for a in answers):
            raise DatasetError(f"{where} (id {obj['id']}): 'answers' must be a non-empty list of strings "
                               "(or mark the question \"unanswerable\": true).")
        paragraph = obj.get("paragraph")
        if paragraph is not None and (not isinstance(paragraph, int) or isinstance(paragraph, bool) or paragraph < 1):
            raise DatasetError(f"{where} (id {obj['id']}): 'paragraph' must be a positive integer, not {paragraph!r}.")
        labels = {key: obj.get(key) or "" for key in ("kind", "type")}
        for key, value in labels.items():
            if not isinstance(value, str):
                raise DatasetError(f"{where} (id {obj['id']}): '{key}' must be a string, not {value!r}.")
        history = obj.get("history", [])
        if not isinstance(history, list) or not all(
                isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in history):
            raise DatasetError(f"{where} (id {obj['id']}): 'history' must be a list of [question, answer] pairs.")
        if obj["id"] in ids:
            raise DatasetError(f"{where}: id {obj['id']!r} appears twice.")
        ids.add(obj["id"])
        items.append(ConversationItem(
            id=obj["id"], history=tuple((q, a) for q, a in history), question=obj["question"],
            answers=tuple(answers), gold_text=str(obj.get("gold_text") or (answers[0] if answers else "")),
            gold_source=str(obj.get("gold_source", "")), unanswerable=unanswerable,
            kind=labels["kind"] or ("unanswerable" if unanswerable else "follow_up" if history else "single"),
            qtype=labels["type"], paragraph=paragraph))
    if not items:
        raise DatasetError(f"{p}: the file has no conversation items.")
    return tuple(items)
