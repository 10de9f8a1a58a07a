"""Everything the chat shows in words, in Arabic and English, and how it looks (CSS) and behaves
in the page (a small script: citation chips, copy, the thinking timer). No Gradio here."""

from __future__ import annotations

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

CSS = """
footer { display: none !important; }
#topbar { align-items: center; }
#title h1 { margin: 0; font-size: 1.6rem; }
#title p { margin: 0.2rem 0 0; opacity: 0.8; }
#conversation { min-height: 200px; }
.bayyina-conv { display: flex; flex-direction: column; gap: 0.9rem; }
.bayyina-conv .empty { border: 1px dashed var(--border-color-primary); border-radius: 12px; padding: 1rem 1.2rem; }
.bayyina-conv .empty h2 { margin: 0 0 0.4rem; font-size: 1.15rem; }
.turn-q { align-self: flex-end; max-width: 85%; background: var(--color-accent-soft); border-radius: 14px;
  padding: 0.55rem 0.9rem; unicode-bidi: plaintext; white-space: pre-wrap; }
.card { border: 1px solid var(--border-color-primary); border-radius: 14px; padding: 0.8rem 1rem;
  background: var(--background-fill-primary); }
.card .short { font-size: 1.35rem; font-weight: 700; margin: 0.2rem 0 0.4rem; }
.card .body { line-height: 1.75; }
.card blockquote.quote { margin: 0.2rem 0 0.4rem; padding-inline-start: 0.7rem; border-inline-start: 3px solid #f59e0b;
  line-height: 1.75; unicode-bidi: plaintext; }
.card .meta { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; font-size: 0.85rem; }
.evidence { border-radius: 999px; padding: 0.05rem 0.6rem; font-weight: 600; }
.evidence-strong { background: #d9f2df; color: #14532d; }
.evidence-partial { background: #fff1c2; color: #713f12; }
.evidence-weak, .evidence-none { background: #fde2e1; color: #7f1d1d; }
.card.abstained .notfound { font-weight: 700; font-size: 1.1rem; margin: 0.2rem 0; }
.card .note { font-size: 0.9rem; opacity: 0.85; }
.card .body { position: relative; }
a.cite { position: static; display: inline-block; min-width: 1.35em; padding: 0 0.35em; margin: 0 0.1em;
  border-radius: 6px; background: #dbeafe; color: #1d4ed8; font-weight: 700; font-size: 0.85em;
  text-decoration: underline; text-align: center; cursor: pointer; line-height: 1.5; }
a.cite:hover, a.cite:focus { background: #1d4ed8; color: #fff; outline: none; }
a.cite .preview { display: none; position: absolute; z-index: 50; bottom: calc(100% + 4px); inset-inline: 0;
  max-width: 40rem; padding: 0.5rem 0.7rem; border-radius: 8px; background: #111827; color: #f9fafb;
  font-weight: 400; font-size: 0.9rem; line-height: 1.6; text-align: start; text-decoration: none;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); unicode-bidi: plaintext; white-space: normal; }
a.cite:hover .preview, a.cite:focus .preview { display: block; }
a.cite .preview b { background: #f59e0b; color: #111827; padding: 0 2px; border-radius: 3px; }
details.sources, details.nearest { margin-top: 0.6rem; border-top: 1px solid var(--border-color-primary);
  padding-top: 0.4rem; }
details summary { cursor: pointer; font-weight: 600; }
li.source { margin: 0.5rem 0; padding: 0.4rem 0.6rem; border-radius: 8px; scroll-margin: 6rem; }
li.source.active { outline: 2px solid #1d4ed8; }
li.source .src-head { font-weight: 600; font-size: 0.9rem; }
.passage { unicode-bidi: plaintext; line-height: 1.8; margin-top: 0.2rem; }
.passage[dir=rtl] { text-align: right; } .passage[dir=ltr] { text-align: left; }
mark.support { background: #fff1a8; padding: 0 2px; }
mark.answer { background: #f59e0b; color: #111827; font-weight: 700; padding: 0 2px; border-radius: 3px; }
.actions { margin-top: 0.4rem; }
.actions button.copy { font-size: 0.8rem; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0.1rem 0.6rem; background: transparent; cursor: pointer; }
.copy-text { display: none; }
.thinking { font-style: italic; opacity: 0.85; }
.thinking .dots::after { content: "●"; animation: bayyina-pulse 1s infinite; margin-inline-end: 0.4em; }
@keyframes bayyina-pulse { 50% { opacity: 0.2; } }
#reader-note, #upload-status, #confirm-text, #documents-title { unicode-bidi: plaintext; text-align: start; }
#reader-note p, #upload-status p, #confirm-text p { unicode-bidi: plaintext; text-align: start; }
#question textarea { unicode-bidi: plaintext; text-align: start; font-size: 1rem; }
#composer { align-items: stretch; position: sticky; bottom: 0; z-index: 20; padding: 0.5rem 0;
  background: var(--body-background-fill); }
.example { white-space: normal !important; text-align: start; }
ul.docs { padding-inline-start: 1.1rem; margin: 0.2rem 0; }
ul.docs .count { opacity: 0.75; font-size: 0.9em; }
ul.docs .yours { background: #dbeafe; color: #1d4ed8; border-radius: 999px; padding: 0 0.45rem; font-size: 0.8em; }
@media (hover: none), (max-width: 640px) {
  a.cite .preview { display: none !important; }   /* a tap opens the source right under the answer */
}
@media (max-width: 640px) {
  .turn-q { max-width: 95%; }
  .card { padding: 0.7rem 0.75rem; }
  .card .short { font-size: 1.2rem; }
  a.cite { min-width: 1.8em; line-height: 1.8; }
}
"""

# Runs once in the page (Gradio's ``head``): chips open their own message's source and scroll the
# answer's words into view; copy puts the answer's plain text on the clipboard; the thinking line
# counts seconds; a source drawer the visitor opened stays open when the conversation redraws.
SCRIPT = """
<script>
(() => {
  if (window.__bayyina) return; window.__bayyina = true;
  const opened = new Set(); const started = new Map(); let cards = 0;
  function showSource(id) {
    const li = document.getElementById(id); if (!li) return;
    const d = li.closest('details'); if (d) { d.open = true; if (d.dataset.key) opened.add(d.dataset.key); }
    document.querySelectorAll('li.source.active').forEach((x) => x.classList.remove('active'));
    li.classList.add('active');
    (li.querySelector('mark.answer') || li.querySelector('mark') || li).scrollIntoView({block: 'center'});
  }
  function copyText(text, button) {
    const done = () => { button.textContent = button.dataset.done;
                         setTimeout(() => { button.textContent = button.dataset.label; }, 1500); };
    const fallback = () => { const t = document.createElement('textarea'); t.value = text;
      document.body.appendChild(t); t.select(); try { document.execCommand('copy'); done(); } finally { t.remove(); } };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }
  document.addEventListener('click', (e) => {
    const chip = e.target.closest && e.target.closest('a.cite');
    if (chip) { e.preventDefault(); showSource(chip.dataset.target); chip.blur(); return; }
    const button = e.target.closest && e.target.closest('button.copy');
    if (button) { const card = document.getElementById(button.dataset.target);
                  if (card) copyText(card.querySelector('.copy-text').value, button); }
  });
  document.addEventListener('toggle', (e) => {
    const d = e.target; if (d.tagName !== 'DETAILS' || !d.dataset.key) return;
    if (d.open) opened.add(d.dataset.key); else opened.delete(d.dataset.key);
  }, true);
  // When the conversation redraws: reopen the drawers the visitor opened, and bring a newly asked
  // question into view (at once, so it can never scroll away from a source opened just after).
  new MutationObserver(() => {
    document.querySelectorAll('details[data-key]').forEach((d) => {
      if (opened.has(d.dataset.key) && !d.open) d.open = true; });
    const all = document.querySelectorAll('#conversation .turn-q');
    if (all.length > cards) { all[all.length - 1].scrollIntoView({block: 'start'}); }
    cards = all.length;
  }).observe(document.body, {childList: true, subtree: true});
  setInterval(() => {
    document.querySelectorAll('.thinking[data-key]').forEach((el) => {
      if (!started.has(el.dataset.key)) started.set(el.dataset.key, Date.now());
      const s = Math.floor((Date.now() - started.get(el.dataset.key)) / 1000);
      const out = el.querySelector('.elapsed'); if (out) out.textContent = s + ' ' + el.dataset.unit;
    });
  }, 250);
})();
</script>
"""


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
