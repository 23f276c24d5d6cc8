"""labform: the one import package; engine/ and providers/ live beside it and are linked in as subpackages."""
