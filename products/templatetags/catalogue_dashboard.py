from django import template

from products.admin.dashboard import dashboard_charts

register = template.Library()


@register.inclusion_tag("admin/products/catalogue_dashboard.html", takes_context=True)
def catalogue_dashboard(context):
    """The catalogue charts for the admin index, limited to what the user may view."""
    return {"charts": dashboard_charts(context["request"].user)}
