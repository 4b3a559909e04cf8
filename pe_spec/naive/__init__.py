"""The seed position encodings (integer, normalized, binary, learned table) as references."""
