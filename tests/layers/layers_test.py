#!/usr/bin/env python3
"""The architecture as the linker sees it (label `layers`): which object calls which.

    layers_test.py BUILD_DIR

Reads the symbol tables (nm) of libkslab's objects and of the command line's, and checks:
  - the folders of src/ call each other along one order only (LAYERS below; a folder may call
    the folders of lower layers, never a higher one or one of its own layer): the graph is
    acyclic;
  - inside src/stream, src/hw (the AC'97 model) and miniports/ac97, the files call each other
    without a cycle;
  - the command line (tools/kslab) calls no fork, exec, dlopen, no engine, port, stream class or
    device function and no internal ksl__ one: it parses options, calls libkslab, prints.
"""
import collections
import json
import os
import subprocess
import sys

LAYERS = [
    {"util", "explore", "verify"},
    {"ke", "audio"},
    {"wdk"},
    {"hw"},
    {"portcls", "stream"},
    {"report"},
    {"campaign"},
]
FILE_ACYCLIC = ["src/stream", "src/hw", "miniports/ac97"]
CLI_FORBIDDEN_PREFIXES = ("ksl__", "ksl_engine_", "ksl_wavepci_", "ksl_stream_", "ksl_ac97_", "ksl_physmem_",
                          "ksl_device_", "ksl_thread_", "Ke", "Io", "Pc")
CLI_FORBIDDEN = {"fork", "vfork", "execv", "execve", "execvp", "dlopen", "dlsym", "posix_spawn", "waitpid", "pipe"}


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind in "TDBRCVW" and kind != "U":
            defined.add(name)
        elif kind in ("U", "w"):
            undefined.add(name)
    return defined, undefined


def source_of(obj, root):
    rel = os.path.relpath(obj, root)
    return rel.split(".dir/", 1)[1].rsplit(".o", 1)[0].rsplit(".", 1)[0]


def current_objects(build, target):
    """The objects of `target` that the build's compile_commands.json names (stale ones of removed
    sources are not the build's)."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    out = []
    for c in cmds:
        o = c.get("output") or ""
        if not o and " -o " in c.get("command", ""):
            o = c["command"].split(" -o ", 1)[1].split()[0]
        if f"CMakeFiles/{target}.dir/" in o and o.endswith(".o"):
            out.append(o if os.path.isabs(o) else os.path.join(c["directory"], o))
    return sorted(out)


def graph(objs, root):
    defs, undefs = {}, {}
    for o in objs:
        src = source_of(o, root)
        d, u = symbols(o)
        undefs[src] = u
        for s in d:
            defs[s] = src
    edges = collections.defaultdict(set)
    for src, u in undefs.items():
        for s in u:
            if s in defs and defs[s] != src:
                edges[src].add(defs[s])
    return edges, defs, undefs


def cycle(nodes, edges):
    color, stack = {}, []

    def visit(v):
        color[v] = 1
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in nodes:
                continue
            if color.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if not color.get(w):
                c = visit(w)
                if c:
                    return c
        stack.pop()
        color[v] = 2
        return None

    for v in sorted(nodes):
        if not color.get(v):
            c = visit(v)
            if c:
                return c
    return None


def main():
    build = sys.argv[1]
    root = os.path.join(build, "CMakeFiles")
    objs = current_objects(build, "kslab_objects") + current_objects(build, "kslab_ref_objects")
    if not objs:
        sys.exit(f"no objects under {root}")
    edges, defs, undefs = graph(objs, root)
    layer = {}
    for i, names in enumerate(LAYERS):
        for n in names:
            layer["src/" + n] = i
    errors = []
    folder_edges = collections.defaultdict(set)
    for a, bs in edges.items():
        fa = os.path.dirname(a)
        for b in bs:
            fb = os.path.dirname(b)
            if fa != fb:
                folder_edges[fa].add(fb)
    for fa, fbs in sorted(folder_edges.items()):
        if fa not in layer:
            continue  # the reference drivers sit above the library they run on
        for fb in sorted(fbs):
            if fb not in layer:
                if fb.startswith("miniports/") and fa == "src/campaign":
                    continue  # the built-in driver table
                errors.append(f"{fa} calls {fb}, which has no layer")
            elif layer[fb] >= layer[fa]:
                called = sorted({s for a, u in undefs.items() if os.path.dirname(a) == fa
                                 for s in u if s in defs and os.path.dirname(defs[s]) == fb})
                errors.append(f"{fa} (layer {layer[fa]}) calls {fb} (layer {layer[fb]}): {', '.join(called[:6])}; "
                              "a folder may only call lower layers")
    c = cycle(set(folder_edges) | {b for bs in folder_edges.values() for b in bs}, folder_edges)
    if c:
        errors.append("the folders call each other in a cycle: " + " -> ".join(c))
    for folder in FILE_ACYCLIC:
        nodes = {s for s in edges if s.startswith(folder + "/")} | \
                {t for s in edges for t in edges[s] if t.startswith(folder + "/")}
        sub = {s: {t for t in edges.get(s, ()) if t.startswith(folder + "/")} for s in nodes}
        c = cycle(nodes, sub)
        if c:
            errors.append(f"the files of {folder} call each other in a cycle: " + " -> ".join(c))
    cli = current_objects(build, "kslab_cli")
    if not cli:
        errors.append("no command-line objects found")
    for o in cli:
        _, u = symbols(o)
        bad = sorted(s for s in u if s in CLI_FORBIDDEN or s.startswith(CLI_FORBIDDEN_PREFIXES))
        if bad:
            errors.append(f"the command line ({source_of(o, root)}) calls {', '.join(bad)}: that belongs in libkslab")
    if errors:
        print("\n".join("FAIL: " + e for e in errors))
        sys.exit(1)
    print(f"ok: {len(objs)} objects; folders in layers " +
          " < ".join("{" + ", ".join(sorted(n)) + "}" for n in LAYERS) +
          f"; no cycle in {', '.join(FILE_ACYCLIC)}; the command line only parses, calls libkslab and prints")


if __name__ == "__main__":
    main()
