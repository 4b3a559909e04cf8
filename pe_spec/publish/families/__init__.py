"""Family-specific parts of the published pages, one module per family (each Family record's
``publish``). Generic code calls the hooks a module defines and skips those it does not; the
hook protocol is documented in ``pe_spec.publish.hooks``."""
