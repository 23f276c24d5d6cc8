"""Expressions inside ``${...}``: CEL (the Common Expression Language), read through a thin
template layer.

    template.py    a string → literal text and ``${...}`` expressions; ``$${`` escapes
    lexing.py      where a CEL string literal ends, where a ``${`` closes
    desugar.py     a body → its references (for the graph) and the CEL text the library compiles
    library.py     the Rust-backed library: loaded on first use, programs cached per source text
    evaluate.py    a body's value from its references' values; UNKNOWN in, UNKNOWN out
    functions.py   file, sha256, merge, keys, values, format, flatten, setproduct, zipmap
    formatting.py  format()'s printf verbs
    literals.py    a known value written back as CEL text (an expression half resolved at load)
    values.py      UNKNOWN and Reference
    errors.py      ExpressionError: the one error, with its column in the string

``engine/references.py`` puts them together for the engine (find, substitute).
"""
