"""Does not compile: the loader must say SyntaxError and where."""
NAME, VERSION, DESCRIPTION = "t-syntax", "1", "syntax error"


def create(spec, host:
    return None
