from django.contrib import admin

from products.models import Brand, IngredientLine, NutrientLine, Product
from products.services import product_refresh_amounts


class IngredientLineInline(admin.TabularInline):
    model = IngredientLine
    extra = 0


class NutrientLineInline(admin.TabularInline):
    model = NutrientLine
    extra = 0


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "gtin", "dosage_form", "status", "elemental_mg_per_day"]
    list_filter = ["status", "dosage_form", "brand"]
    search_fields = ["name", "brand__name", "gtin"]
    readonly_fields = ["elemental_mg_per_serving", "elemental_mg_per_day", "updated_at"]
    inlines = [IngredientLineInline, NutrientLineInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The inline lines are saved only now; the stored amounts must follow them.
        product_refresh_amounts(form.instance)
