"""The Jinja2 template of ``report.html`` (kept in Python so it always ships)."""

REPORT_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>castsight evaluation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.bad { color: #b00; font-weight: bold; } .note { color: #805500; }
img.plot { max-width: 32em; margin-right: 1em; } img.thumb { image-rendering: pixelated; }
</style></head><body>
<h1>castsight evaluation</h1>
<p>Predictions <code>{{ s.predictions }}</code> against truth <code>{{ s.truth }}</code>
{%- if s.parts %}, parts <code>{{ s.parts }}</code>{% endif %}
{%- if s.records %}, records <code>{{ s.records }}</code>{% endif %}.
Matching: {{ d.mode }} IoU &ge; {{ d.iou_threshold }}, score &ge; {{ d.score_threshold }}.</p>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}

<h2>Indications</h2>
<table><tr><th>images</th><th>truth</th><th>predictions</th><th>found</th><th>missed</th>
<th>false</th><th>precision</th><th>recall</th><th>F1</th><th>false / image</th>
<th>AP50</th><th>AP .5:.95</th><th>AP50 any class</th></tr>
<tr><td>{{ d.n_images }}</td><td>{{ d.n_truth }}</td><td>{{ d.n_predictions }}</td>
<td>{{ d.true_positives }}</td><td>{{ d.misses }}</td><td>{{ d.false_positives }}</td>
<td>{{ d.precision|num }}</td><td>{{ d.recall|num }}</td><td>{{ d.f1|num }}</td>
<td>{{ d.false_per_image|num }}</td><td>{{ d.coco.ap50|num }}</td><td>{{ d.coco.ap|num }}</td>
<td>{{ d.coco.ap50_any_class|num }}</td></tr></table>
<h3>Recall by defect type</h3>
<table><tr><th class="l">type</th><th>found / n</th><th>recall</th><th>95 % Wilson</th>
<th>AP50</th><th>AP</th></tr>
{% for name, r in d.recall_by_category.items() %}<tr><td class="l">{{ name }}</td>
<td>{{ r.k }} / {{ r.n }}</td><td>{{ r.rate|num }}</td><td>{{ r.wilson|ci }}</td>
<td>{{ d.coco.ap50_by_category.get(name)|num }}</td>
<td>{{ d.coco.ap_by_category.get(name)|num }}</td>
</tr>{% endfor %}</table>
<h3>Recall by size (size_mm)</h3>
<table><tr><th class="l">band (mm)</th><th>found / n</th><th>recall</th><th>95 % Wilson</th>
<th>95 % Clopper-Pearson</th></tr>
{% for name, r in d.recall_by_size.items() %}<tr><td class="l">{{ name }}</td>
<td>{{ r.k }} / {{ r.n }}</td><td>{{ r.rate|num }}</td><td>{{ r.wilson|ci }}</td>
<td>{{ r.clopper_pearson|ci }}</td></tr>{% endfor %}</table>
{% if plots.pr %}<img class="plot" src="{{ plots.pr }}" alt="precision-recall curve">{% endif %}

<h2>Parts</h2>
{% if p %}<p>Truth: <code>{{ p.truth_field }}</code>, {{ p.n_parts }} parts.</p>
<table><tr><th class="l">true \\ found</th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for t, row in p.confusion.items() %}<tr><th class="l">{{ t }}</th>
{% for c in columns %}<td>{{ row[c] }}</td>{% endfor %}</tr>{% endfor %}</table>
<table><tr><th class="l">rate</th><th>k / n</th><th>rate</th><th>95 % Wilson</th>
<th>95 % Clopper-Pearson</th></tr>
{% for label, r in [("escapes (NG sentenced OK)", p.escapes),
  ("false calls (OK sentenced NG/REVIEW)", p.false_calls), ("REVIEW", p.reviews)] %}
<tr><td class="l">{{ label }}</td>
<td{% if label.startswith("esc") and r.k %} class="bad"{% endif %}>
{{ r.k }} / {{ r.n }}</td><td>{{ r.rate|num }}</td><td>{{ r.wilson|ci }}</td>
<td>{{ r.clopper_pearson|ci }}</td></tr>{% endfor %}</table>
{% if p.seconds_per_part %}<p>Time per part: mean {{ p.seconds_per_part.mean|num }} s,
median {{ p.seconds_per_part.median|num }} s, max {{ p.seconds_per_part.max|num }} s.</p>{% endif %}
{% else %}<p>No part-level rates (needs parts.json and records.jsonl).</p>{% endif %}

<h2>Probability of detection (MIL-HDBK-1823A hit/miss)</h2>
<table><tr><th class="l">size</th><th>model</th><th>n</th><th>hits</th><th>a50</th><th>a90</th>
<th>a90/95</th><th class="l">notes</th></tr>
{% for field, r in pod.items() %}<tr><td class="l">{{ field }}</td><td>{{ r.model }}</td>
<td>{{ r.n }}</td><td>{{ r.n_hits }}</td><td>{{ r.a50|num }}</td><td>{{ r.a90|num }}</td>
<td>{{ r.a90_95|num }}</td><td class="l">{{ r.notes|join("; ") }}</td></tr>{% endfor %}</table>
<p>a90/95: one-sided 95 % likelihood-ratio (profile likelihood) bound.</p>
{% for field in pod %}{% if plots[field] %}
<img class="plot" src="{{ plots[field] }}" alt="POD vs {{ field }}">{% endif %}{% endfor %}

<h2>Worst misses</h2>
<table><tr><th></th><th class="l">image</th><th class="l">type</th><th>size_mm</th><th>d'</th>
<th class="l">bbox</th></tr>
{% for m in misses %}<tr><td>{% if m.thumbnail %}<img class="thumb" src="{{ m.thumbnail }}">
{% endif %}</td><td class="l">{{ m.file_name }}</td><td class="l">{{ m.category }}</td>
<td>{{ m.size_mm|num }}</td><td>{{ m.d_prime|num }}</td><td class="l">{{ m.bbox|box }}</td></tr>
{% else %}<tr><td colspan="6">none</td></tr>{% endfor %}</table>
<h2>Worst false calls</h2>
<table><tr><th></th><th class="l">image</th><th class="l">type</th><th>score</th>
<th class="l">bbox</th></tr>
{% for f in false_calls %}<tr><td>{% if f.thumbnail %}<img class="thumb" src="{{ f.thumbnail }}">
{% endif %}</td><td class="l">{{ f.file_name }}</td><td class="l">{{ f.category }}</td>
<td>{{ f.score|num }}</td><td class="l">{{ f.bbox|box }}</td></tr>
{% else %}<tr><td colspan="5">none</td></tr>{% endfor %}</table>
</body></html>
"""
