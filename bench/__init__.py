"""Performance scenarios: `python -m bench <scenario> [--quick]`, one JSON line each, non-zero exit on a missed bar."""
