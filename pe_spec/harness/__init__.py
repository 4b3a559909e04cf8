"""Running checks: the CLI, the supervised check process, loading targets, profiles, progress,
the verdict (one report object) and its renderers, and the pytest plugin."""
