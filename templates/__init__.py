"""Jinja2 templates and CSS of every report and email, shipped as package data."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
