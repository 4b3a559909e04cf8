"""Family-specific sections of the published pages (named by each Family record's ``publish``)."""
