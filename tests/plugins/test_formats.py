"""The built-in output formats: same sections, same order, everything escaped."""

from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser

import pytest

import cramprules
from cramprules.formats import sections
from cramprules.formats.markdown import NO_ADVICE, escape

FACTS = {"pain": 9, "constipation": True, "night_cramps": True}

MARKDOWN = """\
# Clinic: cramps (clinic 2.0)

## ⚠ See a doctor urgently

- **See a doctor urgently**  
  Very painful cramps need a medical check. \\[1\\]

## Likely causes

- Low magnesium  
  Because you answered yes to “Do cramps come at night?”.  
  Night cramps point to low magnesium. \\[1\\]

## What to take

- Magnesium citrate, rather than magnesium glycinate  
  *(depends on your answer to: At bedtime?)*  
  Citrate eases constipation. \\[1\\]

## Avoid

- Rest  
  Move, don't rest.

## Questions that would sharpen this answer

1. At bedtime? (yes/no)

## Sources

1. [NIH](<https://www.nih.gov/>)

---

*This report is information, not medical advice: talk to a doctor or pharmacist before you start a supplement or if your symptoms worry you.*
"""


@pytest.fixture
def report(clinic) -> cramprules.Report:
    return clinic.evaluate(FACTS)


class Page(HTMLParser):
    """What a browser would see: tags, section ids in order, text, links."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sections: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        found = dict(attrs)
        if tag == "section":
            self.sections.append(found.get("id") or "")
        if tag == "a":
            self.links.append(found.get("href") or "")
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_markdown_golden(engine, report) -> None:
    assert engine.render(report, "markdown") == MARKDOWN


def test_markdown_for_the_clinician_uses_detail(engine) -> None:
    ruleset = engine.parse_ruleset(
        'rule r: if a then recommend rest because "For you." detail "For the doctor."'
    )
    report = ruleset.evaluate({"a": True})
    assert "For you." in engine.render(report, "markdown")
    assert "For the doctor." in engine.render(report, "markdown", audience="clinician")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words, with a comma.", "plain words, with a comma."),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("*bold* and `code` and [link](x)", "\\*bold\\* and \\`code\\` and \\[link\\](x)"),
        ("# not a heading", "\\# not a heading"),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("leg_cramps stays readable", "leg_cramps stays readable"),
        ("_emphasis_", "\\_emphasis\\_"),
        ("a | table & more", "a \\| table \\& more"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


def test_markdown_never_links_a_script_url(engine) -> None:
    ruleset = engine.parse_ruleset(
        'source evil "Evil" url "javascript:alert(1)"\nrule r: if a then recommend rest cite evil'
    )
    out = engine.render(ruleset.evaluate({"a": True}), "markdown")
    assert "](" not in out.split("## Sources")[1]
    assert "javascript:alert(1)" in out  # shown as text, not as a link


HOSTILE = """\
source evil "Evil <b>source</b>" url "javascript:alert(1)"
source good "Good & \\"fine\\"" url "https://example.org/?a=1&b=\\"x\\""
option rest "Rest <img src=x onerror=alert(1)>"
fact a: bool "Is <i>a</i> true?"
fact pain: number 0..10
rule urgent priority 100: if pain >= 8 then refer doctor urgent
    because "Now </li></ul><script>alert('x')</script>"
    cite evil
rule r: if a then recommend rest because "Because <script>steal()</script>" cite good
"""


def test_html_escapes_every_text_and_loads_nothing(engine) -> None:
    ruleset = engine.parse_ruleset(HOSTILE)
    page = engine.render(ruleset.evaluate({"a": True, "pain": 9}), "html")
    parsed = parse(page)
    # No tag or attribute came from the ruleset's text.
    assert not {"script", "img", "b", "i", "iframe", "link"} & set(parsed.tags)
    assert not any(name.startswith("on") for name, _ in parsed.attributes)
    # The text is still there, as text.
    text = "".join(parsed.text)
    assert "Because <script>steal()</script>" in text
    assert "Rest <img src=x onerror=alert(1)>" in text
    assert "Evil <b>source</b>" in text
    # Only safe links: in-page references and http(s).
    assert all(re.match(r"(#source-\d+|https?://)", href) for href in parsed.links), parsed.links
    assert 'href="https://example.org/?a=1&amp;b=&quot;x&quot;"' in page
    assert "javascript:" not in "".join(parsed.links)
    # Self-contained: nothing fetched from anywhere.
    assert not re.search(r"\bsrc=|<link\b|@import|url\(", page.split("<body>")[0] + "".join(parsed.tags))
    assert "Content-Security-Policy" in page


def test_html_is_one_complete_page(engine, report) -> None:
    page = engine.render(report, "html")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert page.rstrip().endswith("</html>")
    parsed = parse(page)
    assert parsed.tags.count("html") == parsed.tags.count("body") == parsed.tags.count("style") == 1
    assert "<title>Clinic: cramps (clinic 2.0)</title>" in page


def test_html_puts_the_urgent_section_first_and_marks_it(engine, report) -> None:
    page = engine.render(report, "html")
    parsed = parse(page)
    assert parsed.sections[0] == "urgent"
    assert '<section id="urgent" class="urgent" role="alert">' in page
    assert ".urgent {" in page  # styled to stand out


def order_of(fmt: str, out: str, report: cramprules.Report) -> list[str]:
    """The section keys in the order a format shows them, read from its output."""
    titles = {s.title: s.key for s in sections(report)}
    if fmt == "text":
        lines = out.splitlines()
        underlined = [a for a, b in itertools.pairwise(lines) if b and set(b) == {"-"} and len(a) == len(b)]
        by_title = {**titles, **{t.upper(): k for t, k in titles.items()}}
        return [by_title[line] for line in underlined]
    if fmt == "markdown":
        return [titles[h.removeprefix("⚠ ")] for h in re.findall(r"^## (.*)$", out, re.MULTILINE)]
    ids = {k.replace(":", "-"): k for k in titles.values()}
    return [ids[i] for i in parse(out).sections]


@pytest.mark.parametrize("facts", [FACTS, {"constipation": True}, {}, {"pain": 2, "night_cramps": True}])
def test_every_human_format_shows_the_same_sections_in_the_same_order(engine, clinic, facts) -> None:
    report = clinic.evaluate(facts)
    expected = [s.key for s in sections(report)]
    for fmt in ("text", "markdown", "html"):
        assert order_of(fmt, engine.render(report, fmt), report) == expected, fmt


def test_the_urgent_section_comes_first_in_every_format(engine, report) -> None:
    assert sections(report)[0].key == "urgent"
    text = engine.render(report, "text").splitlines()
    assert text[2] == "SEE A DOCTOR URGENTLY"
    assert engine.render(report, "markdown").splitlines()[2] == "## ⚠ See a doctor urgently"
    assert json.loads(engine.render(report, "json"))["referrals"][0]["urgent"] is True


def test_a_report_with_nothing_decided_says_so_in_every_format(engine, clinic) -> None:
    report = clinic.evaluate({"pain": 1, "constipation": False, "night_cramps": False})
    for fmt in ("text", "markdown", "html"):
        assert NO_ADVICE in engine.render(report, fmt), fmt


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_formats_are_deterministic(engine, clinic, fmt) -> None:
    assert engine.render(clinic.evaluate(FACTS), fmt) == engine.render(clinic.evaluate(dict(FACTS)), fmt)


def test_json_is_the_report_schema(engine, report) -> None:
    assert json.loads(engine.render(report, "json")) == report.to_dict()


def test_items_from_one_rule_share_one_explanation(engine) -> None:
    ruleset = engine.parse_ruleset(
        'option a "Option A"\noption b "Option B"\n'
        'rule both: if x then avoid a and avoid b because "One reason for both."'
    )
    report = ruleset.evaluate({"x": True})
    for fmt in ("text", "markdown", "html"):
        out = engine.render(report, fmt)
        assert out.count("One reason for both.") == 1, fmt
        assert out.index("Option B") < out.index("One reason for both."), fmt
