#!/usr/bin/env python3
"""Fails when the modules of a crate depend on each other in a cycle.

    scripts/module-cycles.py issuer/src verifier/src

A module is a top-level `mod` of the crate (a file `x.rs` or a directory `x/`); it depends
on another when its code (not its comments, not its `#[cfg(test)]` part) names
`crate::other`; within a directory module (`http/`, `server/`), a file depends on a sibling
it names as `super::sibling`, and those must not form a cycle either. Test-only modules
(declared under `#[cfg(test)]`) are left out. Prints each cycle found.
"""
import pathlib
import re
import sys

USE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")


def code_of(text: str) -> str:
    """The production text: up to its `#[cfg(test)]` part, without `//` comments (doc
    comments name modules in links)."""
    text = text.split("#[cfg(test)]", 1)[0]
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def test_only(src: pathlib.Path) -> set[str]:
    """Modules the crate root declares under `#[cfg(test)]`."""
    found = set()
    for root in ("lib.rs", "main.rs"):
        path = src / root
        if path.exists():
            found.update(re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)", path.read_text(encoding="utf-8")))
    return found


def graph(src: pathlib.Path) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    skipped = test_only(src)
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        module = rel.parts[0].removesuffix(".rs")
        if module in ("lib", "main") or module in skipped:
            continue
        used = set(USE.findall(code_of(path.read_text(encoding="utf-8"))))
        edges.setdefault(module, set()).update(used - {module} - skipped)
    return edges


def sibling_graphs(src: pathlib.Path) -> dict[str, dict[str, set[str]]]:
    """For each directory module, its files and which siblings each names (`super::x`)."""
    graphs = {}
    for directory in sorted(p for p in src.rglob("*") if p.is_dir()):
        edges: dict[str, set[str]] = {}
        for path in sorted(directory.glob("*.rs")):
            module = path.stem
            if module == "mod":
                continue
            used = set(re.findall(r"\bsuper::([a-z_][a-z0-9_]*)", code_of(path.read_text(encoding="utf-8"))))
            siblings = {p.stem for p in directory.glob("*.rs")} | {p.name for p in directory.iterdir() if p.is_dir()}
            edges.setdefault(module, set()).update((used & siblings) - {module, "mod"})
        graphs[str(directory)] = edges
    return graphs


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, seen = [], set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt):]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle + [nxt])
            elif len(path) < 12:
                walk(nxt, path + [nxt])

    for start in sorted(edges):
        walk(start, [start])
    return found


def main() -> int:
    failed = False
    for arg in sys.argv[1:]:
        for cycle in cycles(graph(pathlib.Path(arg))):
            print(f"{arg}: module cycle: {' -> '.join(cycle)}")
            failed = True
        for directory, edges in sibling_graphs(pathlib.Path(arg)).items():
            for cycle in cycles(edges):
                print(f"{directory}: module cycle: {' -> '.join(cycle)}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
