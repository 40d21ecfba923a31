"""The admin of the catalogue: products and brands, spreadsheets, history, the dashboard."""

from products.admin import catalogue  # noqa: F401  (registers the model admins)
