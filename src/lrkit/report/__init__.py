"""Figures (matplotlib, PNG/SVG) and the HTML report."""
