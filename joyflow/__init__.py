"""joyflow: the monthly data pipeline of a Joy in Work results-oriented learning network."""

__version__ = "0.1.0"
