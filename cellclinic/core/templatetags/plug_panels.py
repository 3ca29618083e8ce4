"""Rendering registered panels (core.plugs.panel_contexts) inside the page's own template context."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def panel(context, panel) -> str:
    """Render PANEL, a (template name, context) pair, with the page's context beneath its own.

    The page's context processors have already run, so a panel costs its own template and nothing more.
    """
    template_name, panel_context = panel
    panel_template = context.template.engine.get_template(template_name)
    with context.push(panel_context):
        return panel_template.render(context)
