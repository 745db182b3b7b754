"""Recipes: the library, parameters, rendering, the name guard, Jinja helpers, templates."""
