"""Recipes at run time: creating a recipe's jobs and advancing them as their dependencies finish."""
