#!/usr/bin/env python3
"""The longest methods of the main sources, declaration to closing brace, longest first.

Usage: bench/longest-methods.py [N] [ROOT]   (default: the 10 longest under the project root)
A method is a member declaration with a parameter list and a body: lines from its first line (annotations
excluded) to its closing brace. Strings, characters and comments are skipped when braces are counted.
"""
import os
import re
import sys

DECL = re.compile(r"^\s*(?:(?:public|protected|private|static|final|synchronized|abstract|default|native)\s+)*"
                  r"(?:<[^>]+>\s+)?[\w<>\[\],.? ]+\s+(\w+)\s*\(")
TYPE = re.compile(r"\b(record|class|interface|enum)\b")
NOT_METHOD = {"if", "for", "while", "switch", "catch", "return", "new", "else", "try", "synchronized", "throw"}


def code_only(line, state):
    """The line without string and char literals and comments; state carries an open block comment."""
    out, i = [], 0
    while i < len(line):
        if state["block"]:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out)
            state["block"], i = False, end + 2
            continue
        two = line[i:i + 2]
        if two == "//":
            break
        if two == "/*":
            state["block"], i = True, i + 2
            continue
        c = line[i]
        if c in "\"'":
            j = i + 1
            while j < len(line) and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def methods(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    state = {"block": False}
    code = [code_only(l, state) for l in lines]
    found = []
    for start, text in enumerate(code):
        m = DECL.match(text)
        if not m or m.group(1) in NOT_METHOD or text.strip().startswith(("return", "new ")) \
                or TYPE.search(text[:m.start(1)]):
            continue
        # the body opens at the first '{' before any ';' from here on
        depth, opened, end = 0, False, None
        for k in range(start, len(code)):
            for ch in code[k]:
                if ch == ";" and not opened and depth == 0:
                    end = -1
                    break
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
                    if opened and depth == 0:
                        end = k
                        break
            if end is not None:
                break
        if end is not None and end >= 0:
            found.append((end - start + 1, m.group(1), start + 1))
    return found


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    rows = []
    for d, _, files in os.walk(root):
        if "/src/main/java" not in d.replace(os.sep, "/") + "/":
            continue
        for f in files:
            if f.endswith(".java"):
                p = os.path.join(d, f)
                for length, name, line in methods(p):
                    rows.append((length, os.path.relpath(p, root), name, line))
    rows.sort(key=lambda r: (-r[0], r[1], r[3]))
    for length, path, name, line in rows[:n]:
        cls = os.path.basename(path)[:-5]
        print(f"{length:4d}  {cls}.{name}  ({path}:{line})")


if __name__ == "__main__":
    main()
