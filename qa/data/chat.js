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
