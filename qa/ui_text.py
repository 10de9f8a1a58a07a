"""Everything the chat shows in words, in Arabic and English, and how it looks (``qa/data/chat.css``)
and behaves in the page (``qa/data/chat.js``: citation chips, copy, the thinking timer), both
shipped as package data. No Gradio here."""

from __future__ import annotations

from importlib import resources

# Every string a visitor sees, in both interface languages (the tests check that no English is
# left in the Arabic page).
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Bayyina", "tagline": "Cited answers from your sources, in Arabic and English",
        "placeholder": "Ask in Arabic or English…", "question": "Your question", "send": "Ask", "stop": "Stop",
        "examples": "Try", "reader": "Answer with", "conversations": "Conversations",
        "new": "New", "delete": "Delete", "export": "Export (Markdown)", "documents": "Documents",
        "upload": "Add files (txt, md, html, pdf, docx)", "remove_choice": "Remove one of your documents",
        "remove_choice_admin": "Remove a document", "remove": "Remove…", "confirm": "Yes, remove it",
        "cancel": "Cancel", "confirm_q": "Remove **{name}** ({count}) from the index{everyone}? This cannot be "
        "undone.", "everyone": " for everyone", "removed": "Removed {name} ({count}).",
        "not_yours": "Only documents you added in this browser can be removed here.",
        "indexed": "Indexed {names} ({count}).", "unchanged": "Already indexed: {names}.",
        "problem": "Not added: {problem}", "yours": "yours",
        "sources": "Sources", "closest": "Closest passages (none of them answers)", "copy": "Copy",
        "copied": "Copied", "source_n": "Source {n}", "page": "p. {n}",
        "strong": "Strong evidence", "partial": "Partial evidence", "weak": "Weak evidence",
        "not_found": "Not found in your documents", "thinking": "Thinking…", "seconds": "s",
        "stopped": "Stopped.", "error": "Something went wrong", "busy": "An answer is still being written: "
        "wait for it or press Stop. Your question is kept in the box.",
        "too_long": "The question is {n} characters long; ask in at most {max}. To ask about a long text, add it "
        "as a document.", "empty": "Type a question first.", "bad_language": "Ask in Arabic or English.",
        "empty_title": "Ask about your documents", "empty_hint": "Every answer quotes the exact words it comes from: "
        "tap a number like 1 to see them highlighted in the source.",
        "conversation": "Conversation {n}", "you": "You", "answer": "Answer",
        "loading": "Loading the local model… {s} s", "load_failed": "Could not load: {reason}",
        "unverified": "Unverified: no shown passage contains the words of this answer.",
        "busy_switch": "Wait for the answer (or press Stop) before switching conversations.",
        "reader_extractive": "Points at the exact words that answer and quotes their sentence — instant, on this computer.",
        "reader_llm": "A small language model on this computer writes the answer from the passages — seconds per "
        "answer.", "reader_openai": "The configured OpenAI-compatible server writes the answer.",
        "reader_other": "A custom reader.",
        "name_extractive": "Exact quotes", "name_llm": "Local model", "name_openai": "OpenAI-compatible server",
        "language": "Interface language",
    },
    "ar": {
        "title": "بيّنة", "tagline": "إجابات موثّقة من مصادرك، بالعربية والإنجليزية",
        "placeholder": "اكتب سؤالك بالعربية أو بالإنجليزية…", "question": "سؤالك", "send": "اسأل", "stop": "أوقف",
        "examples": "جرّب", "reader": "طريقة الإجابة", "conversations": "المحادثات",
        "new": "جديدة", "delete": "احذفها", "export": "صدّر (ماركداون)", "documents": "المستندات",
        "upload": "أضف ملفات (نص، ماركداون، صفحة ويب، PDF، وورد)", "remove_choice": "احذف مستندًا أضفته",
        "remove_choice_admin": "احذف مستندًا", "remove": "احذف…", "confirm": "نعم، احذفه", "cancel": "إلغاء",
        "confirm_q": "هل تحذف **{name}** ({count}) من الفهرس{everyone}؟ لا يمكن التراجع عن ذلك.",
        "everyone": " لدى الجميع", "removed": "حُذف {name} ({count}).",
        "not_yours": "لا يمكن هنا حذف إلا المستندات التي أضفتها من هذا المتصفح.",
        "indexed": "فُهرس {names} ({count}).", "unchanged": "مفهرس من قبل: {names}.",
        "problem": "لم يُضف: {problem}", "yours": "أضفته أنت",
        "sources": "المصادر", "closest": "أقرب المقاطع (لا يجيب أيٌّ منها)", "copy": "انسخ", "copied": "نُسخ",
        "source_n": "المصدر {n}", "page": "ص {n}",
        "strong": "دليل قوي", "partial": "دليل جزئي", "weak": "دليل ضعيف",
        "not_found": "لم يُعثر على الإجابة في مستنداتك", "thinking": "يفكّر…", "seconds": "ث",
        "stopped": "أُوقف.", "error": "حدث خطأ", "busy": "ما زالت الإجابة تُكتب: انتظرها أو اضغط «أوقف». "
        "سؤالك محفوظ في المربع.",
        "too_long": "طول السؤال {n} حرفًا، والحد الأقصى {max}. لتسأل عن نص طويل أضفه مستندًا.",
        "empty": "اكتب سؤالًا أولًا.", "bad_language": "اسأل بالعربية أو بالإنجليزية.",
        "empty_title": "اسأل عن مستنداتك", "empty_hint": "كل إجابة تقتبس الكلمات التي جاءت منها حرفيًا: اضغط رقمًا "
        "مثل 1 لتراها مظلّلة في المصدر.",
        "conversation": "محادثة {n}", "you": "أنت", "answer": "الإجابة",
        "loading": "جارٍ تحميل النموذج المحلي… {s} ث", "load_failed": "تعذّر التحميل: {reason}",
        "unverified": "غير مُتحقَّق منها: لا يتضمن أي مقطع معروض كلمات هذه الإجابة.",
        "busy_switch": "انتظر الإجابة (أو اضغط «أوقف») قبل الانتقال إلى محادثة أخرى.",
        "reader_extractive": "يحدد الكلمات التي تجيب بدقة ويقتبس جملتها — فوري، على هذا الجهاز.",
        "reader_llm": "نموذج لغوي صغير على هذا الجهاز يكتب الإجابة من المقاطع — ثوانٍ لكل إجابة.",
        "reader_openai": "الخادم المتوافق مع OpenAI المُعدّ يكتب الإجابة.", "reader_other": "قارئ مخصّص.",
        "name_extractive": "اقتباس حرفي", "name_llm": "نموذج محلي", "name_openai": "خادم متوافق مع OpenAI",
        "language": "لغة الواجهة",
    },
}

# What the bundled corpus is, for the empty chat.

def _asset(name: str) -> str:
    """A file of the chat's look or behaviour, shipped as package data (``qa/data/``)."""
    return resources.files("qa.data").joinpath(name).read_text(encoding="utf-8")


BUNDLED = {
    "en": "The bundled source is a chapter (in Arabic) on collective security in the United Nations: the Security "
          "Council, the Gulf crisis of 1990–91, resolution 678 and the debate that followed. Ask in English or "
          "Arabic.",
    "ar": "المصدر المرفق فصلٌ عن الأمن الجماعي في إطار الأمم المتحدة: مجلس الأمن، وأزمة الخليج 1990–1991، "
          "والقرار 678 وما تلاه من جدل. اسأل بالعربية أو بالإنجليزية.",
}
EXAMPLES = {
    "ar": ["ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟", "متى انتهت العمليات العسكرية في أزمة الخليج؟",
           "ما الثغرات في نظام الأمن الجماعي؟"],
    "en": ["Which Security Council resolution authorised the use of force against Iraq?",
           "When did the military operations in the Gulf crisis end?",
           "What did George H. W. Bush call for after the Cold War?"],
}

# A system font stack that covers Arabic and Latin (Noto from Debian's fonts-noto-core where
# installed, then the platforms' own); nothing is fetched from outside.
FONTS = ["Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "Segoe UI", "Tahoma", "DejaVu Sans", "system-ui",
         "sans-serif"]
MONO_FONTS = ["DejaVu Sans Mono", "ui-monospace", "monospace"]

CSS = _asset("chat.css")

# Runs once in the page (Gradio's ``head``): chips open their own message's source and scroll the
# answer's words into view; copy puts the answer's plain text on the clipboard; the thinking line
# counts seconds; a source drawer the visitor opened stays open when the conversation redraws.
SCRIPT = _asset("chat.js")   # a <script> element, for Gradio's ``head``


def t(lang: str, key: str, **values: object) -> str:
    """An interface string in ``lang`` (``ar``/``en``), formatted with ``values`` (a passage count
    goes in as ``count=passages_words(n, lang)``)."""
    text = TEXT.get(lang, TEXT["en"])[key]
    return text.format(**values) if values else text


def passages_words(n: int, lang: str) -> str:
    """"1 passage", "3 passages"; Arabic with its dual and plural forms."""
    if lang != "ar":
        return f"{n} passage" if n == 1 else f"{n} passages"
    if n == 1:
        return "مقطع واحد"
    if n == 2:
        return "مقطعان"
    if 3 <= n % 100 <= 10:
        return f"{n} مقاطع"
    return f"{n} مقطعًا"
