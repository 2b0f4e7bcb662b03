"""Explain a classification: for every theme the terms that matched, those vetoed by a context and
those missing, the score against the threshold; for every trigger each atom's truth and the verdict.
Desks read this to tune rules (``watchfloor rules explain``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.rules.lemmas import cyrillic_lang, lemma_text


@dataclass
class TermReport:
    term: str
    weight: float
    matched: list[str] = field(default_factory=list)  # 'text' [start:end]
    vetoed: list[str] = field(default_factory=list)


@dataclass
class ModelReport:
    probability: float
    threshold: float | None  # None: the pack's model has no verdict for this theme
    why: str  # "" for the model's usual threshold; else why this document's bar differs
    words: list[str]  # the words that counted most, 'text' [start:end]


@dataclass
class ThemeReport:
    theme: str
    score: float
    threshold: float
    terms: list[TermReport]
    missing: list[str]
    model: ModelReport | None = None
    assigned: bool = False  # as classify decides it (terms, or the model unless a term was vetoed)


@dataclass
class TriggerReport:
    trigger: str
    severity: str
    when: str
    atoms: list[tuple[str, bool]]
    fired: bool


@dataclass
class Explanation:
    """Everything ``rules explain`` prints; ``render()`` is the human-readable form."""

    version: str
    document: str
    themes: list[ThemeReport]
    entities: list[tuple[str, str, list[str]]]
    triggers: list[TriggerReport]
    # (entity id, name, "'text' [start:end] inside <id of the entity whose name holds it>" each)
    hidden: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def render(self, missing_limit: int = 12) -> str:
        lines = [f"rule pack version {self.version}; document of {len(self.document)} characters", ""]
        for th in self.themes:
            verdict = "ASSIGNED" if th.assigned else "not assigned"
            lines.append(f"theme {th.theme}: score {th.score:g} / threshold {th.threshold:g} -> {verdict}")
            if th.model is not None:
                bar = f" / threshold {th.model.threshold:g}" if th.model.threshold is not None else " (no verdict)"
                if th.model.why:
                    bar += f" ({th.model.why})"
                lines.append(f"  model: probability {th.model.probability:.3f}{bar}; "
                             f"words that counted most: {', '.join(th.model.words) or '-'}")
            for tr in th.terms:
                if tr.matched:
                    note = "  (words already counted by another term)" if tr.weight == 0 else ""
                    lines.append(f"  {tr.weight:+g}  {tr.term}  matched {', '.join(tr.matched)}{note}")
                if tr.vetoed:
                    lines.append(f"   0  {tr.term}  vetoed by a NOT/exclude context at {', '.join(tr.vetoed)}")
            shown = ", ".join(th.missing[:missing_limit])
            more = f" (+{len(th.missing) - missing_limit} more)" if len(th.missing) > missing_limit else ""
            lines.append(f"  missing: {shown or '-'}{more}")
        lines.append("")
        for entity_id, name, mentions in self.entities:
            lines.append(f"entity {entity_id} ({name}): {', '.join(mentions)}")
        if not self.entities:
            lines.append("entities: none")
        for entity_id, name, spans in self.hidden:
            lines.append(f"entity {entity_id} ({name}): not mentioned; part of a longer name: {', '.join(spans)}")
        lines.append("")
        for tg in self.triggers:
            atoms = ", ".join(f"{atom}={'yes' if value else 'no'}" for atom, value in tg.atoms)
            lines.append(f"trigger {tg.trigger} ({tg.severity}): {'FIRED' if tg.fired else 'not fired'}")
            lines.append(f"  when {' '.join(tg.when.split())}")
            lines.append(f"  {atoms}")
        return "\n".join(lines) + "\n"


def _atom_name(atom: tuple) -> str:
    kind, value = atom
    if kind == "keyword":
        return 'keyword "' + " ".join(p.text + ("*" if p.prefix else "") for p in value) + '"'
    return f"{kind}:{value}"


def _lemma_note(words: str, lang: str | None) -> str:
    """" (lemma ...)" when the matched words are not their own lemmas, so a reader sees that
    ``санкциями`` matched the rule word ``санкция``; ``lang`` is the document's (``cyrillic_lang``)."""
    lemmas = lemma_text(words, lang)
    return f" (lemma {lemmas})" if lemmas != words else ""


def explain(rules, document: str, lang: str | None = None) -> Explanation:
    """Analyse ``document`` with ``rules`` (a ``CompiledRules``) and report on every rule."""
    a = rules.analyse(document, lang)
    t = rules.tables
    words_lang = cyrillic_lang(a.norm.text, lang)  # the language the engine lemmatised in

    def show(parts_list):
        return [f"{m.text!r} [{m.start}:{m.end}]{_lemma_note(a.norm.text[span[0]:span[1]], words_lang)}"
                for parts in parts_list for span in parts for m in (rules.match(a, span, None),)]

    themes = []
    for index, theme in enumerate(t.themes):
        reports, missing = [], []
        for ti, term in enumerate(t.terms):
            if term.theme != index:
                continue
            if ti in a.term_matches or ti in a.term_vetoed:
                weight = 0.0 if ti in a.term_redundant else term.weight
                reports.append(TermReport(term.source, weight, show(a.term_matches.get(ti, [])),
                                          show(a.term_vetoed.get(ti, []))))
            else:
                missing.append(term.source)
        probability = rules.model_probability(a, index)
        bar = None if probability is None else rules.model_bar(a, index)
        why = _bar_why(bar, t.model, index, *rules.model_bar_why(a, index), a.cautioned.get(index))
        if index in a.silenced:
            why = "; ".join(filter(None, (why, f"silenced: context {a.silenced[index]} matched, so the model "
                                              "cannot assign this theme alone")))
        model = None if probability is None else ModelReport(
            probability, bar, why,
            [f"{m.text!r} [{m.start}:{m.end}]" for span in rules.model_evidence(a, index)
             for m in (rules.match(a, span, None),)])
        themes.append(ThemeReport(theme.id, a.scores.get(index, 0.0), theme.threshold, reports, missing, model,
                                  index in a.passed))
    entities = [(t.entities[e].id, t.entities[e].name, show([[s] for s in spans]))
                for e, spans in sorted(a.mentions.items(), key=lambda item: item[1][0])]
    hidden = [(t.entities[e].id, t.entities[e].name,
               [f"{show([[span]])[0]} inside {t.entities[outer].id}" for span, outer in spans])
              for e, spans in sorted(a.hidden.items(), key=lambda item: item[1][0])]
    fired = set(a.fired)
    present = rules.atoms_present(a)
    triggers = [TriggerReport(trigger.id, trigger.severity, trigger.when,
                              [(_atom_name(atom), atom in present) for atom in sorted(cond.atoms, key=str)],
                              i in fired)
                for i, (trigger, cond) in enumerate(t.triggers)]
    return Explanation(rules.version, document, themes, entities, triggers, hidden)


def _bar_why(bar: float | None, model, index: int, vetoed: bool, partial: bool, cautioned: bool,
             caution: str | None) -> str:
    """Why the bar in effect differs from the theme's threshold: the raised bar named is the one that
    set it (both, where the vetoed and the caution bar are the same)."""
    if bar is None or bar == model.thresholds.get(index):
        return ""
    reasons = []
    if vetoed and bar == model.bar(index, vetoed=True):
        reasons.append("an exclusion vetoed a term of this theme")
    if cautioned and bar == model.bar(index, cautioned=True):
        reasons.append(f"caution context {caution} matched")
    if reasons:
        return "raised: " + "; ".join(reasons)
    return "lowered: the terms found part of this theme" if partial else ""
