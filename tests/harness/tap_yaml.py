"""Reads every YAML block of a TAP file as a strict reader would: the file
must be valid UTF-8 and each block valid YAML (PyYAML, Debian's
python3-yaml). Prints each block as one JSON line (ASCII, so a non-ASCII
character reads as \\uXXXX); exit status 1 on the first block that fails.
usage: /usr/bin/python3 tap_yaml.py FILE.tap"""
import json
import sys

import yaml


def blocks(text):
    cur = None
    for line in text.split("\n"):
        if line == "  ---":
            cur = []
        elif line == "  ..." and cur is not None:
            yield "\n".join(part[2:] for part in cur)
            cur = None
        elif cur is not None:
            cur.append(line)


def main():
    with open(sys.argv[1], "rb") as f:
        text = f.read().decode("utf-8")  # strict: invalid UTF-8 raises
    for block in blocks(text):
        print(json.dumps(yaml.safe_load(block), sort_keys=True))


if __name__ == "__main__":
    main()
