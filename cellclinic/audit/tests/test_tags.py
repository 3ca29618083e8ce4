"""The audit page's display helpers."""

from cellclinic.audit.templatetags.audit_tags import breakable


def test_an_identifier_may_break_after_its_dots_and_underscores():
    assert breakable("consultation.expectations_discussed") == "consultation.<wbr>expectations_<wbr>discussed"
    assert breakable("Registered") == "Registered"


def test_the_text_is_escaped_before_the_breaks_are_added():
    assert breakable("<b>x.y</b>") == "&lt;b&gt;x.<wbr>y&lt;/<wbr>b&gt;"
