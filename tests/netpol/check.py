#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check.py: the NetworkPolicy conformance suite's reader of cases and judge of probes.

tests/netns/70-netpol-conformance.sh drives `virgil lab`; everything that needs parsing lives
here, with the Python standard library only: the `expect` truth-table language and the
`steps` language (both documented in tests/netpol/README.md), the cell-by-cell comparison of a
`virgil lab probe --json` answer with an expectation, and the plan that puts the lab back to
the base objects after a case. Expectations are only ever read from the case files, never
computed from a policy: this program knows nothing of NetworkPolicy semantics.

  check.py --self-test                      unit checks of everything below
  check.py lint CASEDIR...                  every case parses and refers only to what exists
  check.py plan CASEDIR                     the case's steps, one per line ("apply F...",
                                            "delete F...", "check SECTION"), files absolute
  check.py probes CASEDIR SECTION           the probes of a section, "PROTO PORT FAMILY RETRY"
                                            lines (RETRY 0 for a strict section)
  check.py compare CASEDIR SECTION PROTO PORT FAMILY RESULT.json
                                            exit 0 when every cell matches; else exit 1 and
                                            one line per wrong cell, then the two grids
  check.py baseline BASEDIR RESULT.json     the base pods, and every pair connected
  check.py placement BASEDIR STATUS.json    `virgil lab status --json` agrees with base/: every
                                            pod on its spec.nodeName, addressed from that node's
                                            ranges (10.244.I.0/24, fd00:10:244:I::/64), which
                                            the ipBlock cases rely on
  check.py leftovers LABDIR                 after a case: no NetworkPolicy left in the lab's
                                            object source, no agent reporting isolated pods
  check.py restore CASEDIR BASEDIR ACTIONS OUTDIR
                                            ACTIONS holds the "apply F..." / "delete F..."
                                            lines run so far; writes one file per object to
                                            OUTDIR and prints "delete F..." / "apply F..."
                                            lines that bring the lab back to BASEDIR
"""

import glob
import ipaddress
import json
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True

BASE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "base")
MAIN = "main"
PROTOS = ("tcp", "udp")
MAX_SHOWN = 12          # wrong cells listed one per line; the grids show the rest


class CaseError(Exception):
    """A case file that does not parse; str() is "file:line: why"."""


# ---------------------------------------------------------------------------------------------
# Objects: base/*.json and apply/*.json hold one object or a "List" of them.

def load_objects(path):
    """The objects of one manifest file, in file order."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise CaseError("%s: %s" % (path, e)) from None
    items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
    if not isinstance(items, list) or not items:
        raise CaseError("%s: no object" % path)
    for o in items:
        key_of(o, path)
    return items


def key_of(o, where="?"):
    """(kind, namespace, name): namespace is "" for a Namespace."""
    if not isinstance(o, dict) or not isinstance(o.get("metadata"), dict):
        raise CaseError("%s: an object without metadata" % where)
    kind, md = o.get("kind"), o["metadata"]
    if kind not in ("Namespace", "Pod", "NetworkPolicy"):
        raise CaseError("%s: kind %r is not Namespace, Pod or NetworkPolicy" % (where, kind))
    name, ns = md.get("name"), md.get("namespace", "")
    if not isinstance(name, str) or not name:
        raise CaseError("%s: %s without a name" % (where, kind))
    if (kind == "Namespace") != (ns == ""):
        raise CaseError("%s: %s %s: namespace %r" % (where, kind, name, ns))
    return (kind, ns, name)


def base_objects(basedir):
    """{key: object} of every base manifest, and the sorted "ns/name" of the base pods."""
    objs = {}
    for path in sorted(glob.glob(os.path.join(basedir, "*.json"))):
        for o in load_objects(path):
            k = key_of(o, path)
            if k in objs:
                raise CaseError("%s: %s %s/%s defined twice" % (path, k[0], k[1], k[2]))
            objs[k] = o
    if not objs:
        raise CaseError("%s: no base objects" % basedir)
    pods = sorted("%s/%s" % (k[1], k[2]) for k in objs if k[0] == "Pod")
    return objs, pods


# ---------------------------------------------------------------------------------------------
# The expect language

class Block:
    """One truth table: the probes it applies to and its rules, in order."""

    def __init__(self, specs, line):
        self.specs = specs      # [(proto, port, family)]
        self.rules = []         # [(verdict or None for default, from-pats, to-pats, value, line)]
        self.line = line


class Section:
    def __init__(self, name, line):
        self.name = name
        self.line = line
        self.strict = False     # no re-probe on a mismatch
        self.add = []           # "pods + ..." names
        self.remove = []        # "pods - ..." names
        self.blocks = []


def parse_pattern(text, where):
    """A comma list of ns/pod items, "*" for a whole part; returns [(ns, pod)]."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if item == "*":
            item = "*/*"
        ns, sep, pod = item.partition("/")
        if not sep or not ns or not pod or "/" in pod or " " in item:
            raise CaseError("%s: %r is not ns/pod (either may be *)" % (where, item))
        out.append((ns, pod))
    return out


def parse_spec(text, where):
    """"tcp 80" or "udp 81 family 6" -> (proto, port, family)."""
    w = text.split()
    if len(w) not in (2, 4) or w[0] not in PROTOS or not w[1].isdigit():
        raise CaseError("%s: probe %r: want PROTO PORT [family 4|6], PROTO tcp or udp"
                        % (where, text.strip()))
    port, fam = int(w[1]), 4
    if not 1 <= port <= 65535:
        raise CaseError("%s: port %d out of range" % (where, port))
    if len(w) == 4:
        if w[2] != "family" or w[3] not in ("4", "6"):
            raise CaseError("%s: probe %r: want family 4 or family 6" % (where, text.strip()))
        fam = int(w[3])
    return (w[0], port, fam)


def parse_expect(path):
    """{section name: Section}; lines before any "section" line belong to "main"."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CaseError("%s: %s" % (path, e)) from None
    secs = {}
    cur = blk = None
    for n, raw in enumerate(lines, 1):
        where = "%s:%d" % (path, n)
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if word == "section":
            if not rest or " " in rest or rest in secs:
                raise CaseError("%s: section needs one new name" % where)
            cur, blk = Section(rest, n), None
            secs[rest] = cur
            continue
        if cur is None:
            cur = secs[MAIN] = Section(MAIN, n)
        if word == "probe":
            specs = [parse_spec(s, where) for s in rest.split(",")]
            for s in specs:
                if any(s in b.specs for b in cur.blocks) or specs.count(s) > 1:
                    raise CaseError("%s: probe %s %d family %d twice in section %s"
                                    % (where, s[0], s[1], s[2], cur.name))
            blk = Block(specs, n)
            cur.blocks.append(blk)
        elif word == "strict":
            if blk is not None or rest:
                raise CaseError("%s: strict takes no argument and comes before the section's "
                                "first probe" % where)
            cur.strict = True
        elif word == "pods":
            if blk is not None:
                raise CaseError("%s: pods must come before the section's first probe" % where)
            sign, _, names = rest.partition(" ")
            if sign not in "+-" or len(sign) != 1 or not names.strip():
                raise CaseError("%s: want pods + NS/NAME... or pods - NS/NAME..." % where)
            for ns, pod in (parse_pattern(x, where)[0] for x in names.split()):
                if "*" in (ns, pod):
                    raise CaseError("%s: pods takes names, not patterns" % where)
                (cur.add if sign == "+" else cur.remove).append("%s/%s" % (ns, pod))
        elif word in ("allow", "deny", "default"):
            if blk is None:
                raise CaseError("%s: %s before any probe line" % (where, word))
            if word == "default":
                if rest not in ("allow", "deny"):
                    raise CaseError("%s: want default allow or default deny" % where)
                blk.rules.append((None, None, None, rest == "allow", n))
                continue
            src, arrow, dst = rest.partition("->")
            if not arrow:
                raise CaseError("%s: want %s FROM -> TO" % (where, word))
            blk.rules.append((word, parse_pattern(src, where), parse_pattern(dst, where),
                              word == "allow", n))
        else:
            raise CaseError("%s: unknown word %r" % (where, word))
    for s in secs.values():
        if not s.blocks:
            raise CaseError("%s:%d: section %s has no probe" % (path, s.line, s.name))
    if not secs:
        raise CaseError("%s: no probe at all" % path)
    return secs


def section_pods(sec, base_pods):
    """The pods a section expects the lab to have, sorted."""
    pods = set(base_pods)
    for p in sec.remove:
        pods.discard(p)
    pods.update(sec.add)
    return sorted(pods)


def matches(pats, pod):
    ns, name = pod.split("/", 1)
    return any(pn in ("*", ns) and pp in ("*", name) for pn, pp in pats)


def table(block, pods):
    """{(from, to): bool} for every ordered pair, self pairs included (they are never judged)."""
    t = {(a, b): True for a in pods for b in pods}
    for verdict, src, dst, value, _ in block.rules:
        for a in pods:
            for b in pods:
                if verdict is None or (matches(src, a) and matches(dst, b)):
                    t[(a, b)] = value
    return t


def named_pods(block):
    """Every ns/pod a rule names without a wildcard, with the rule's line."""
    for verdict, src, dst, _, line in block.rules:
        for ns, pod in (src or []) + (dst or []):
            if "*" not in (ns, pod):
                yield "%s/%s" % (ns, pod), line
            elif ns != "*":
                yield ns + "/*", line


# ---------------------------------------------------------------------------------------------
# The steps language

def parse_steps(casedir, secs):
    """[(verb, [args])] with absolute file names; the default plan when there is no steps."""
    adir = os.path.join(casedir, "apply")
    path = os.path.join(casedir, "steps")
    if not os.path.exists(path):
        files = sorted(glob.glob(os.path.join(adir, "*.json")))
        if not files:
            raise CaseError("%s: no apply/*.json and no steps" % casedir)
        if list(secs) != [MAIN]:
            raise CaseError("%s: named sections need a steps file" % casedir)
        return [("apply", files), ("check", [MAIN])]
    plan = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f.read().splitlines(), 1):
            where = "%s:%d" % (path, n)
            w = raw.split("#", 1)[0].split()
            if not w:
                continue
            if w[0] in ("apply", "delete"):
                if len(w) < 2:
                    raise CaseError("%s: %s needs files" % (where, w[0]))
                files = []
                for name in w[1:]:
                    p = os.path.join(adir, name)
                    if "/" in name or not os.path.isfile(p):
                        raise CaseError("%s: no file apply/%s" % (where, name))
                    files.append(p)
                plan.append((w[0], files))
            elif w[0] == "check":
                if len(w) != 2 or w[1] not in secs:
                    raise CaseError("%s: check needs one section of expect" % where)
                plan.append(("check", [w[1]]))
            else:
                raise CaseError("%s: unknown step %r" % (where, w[0]))
    if not any(v == "check" for v, _ in plan):
        raise CaseError("%s: no check step" % path)
    unused = set(secs) - {a[0] for v, a in plan if v == "check"}
    if unused:
        raise CaseError("%s: sections never checked: %s" % (path, " ".join(sorted(unused))))
    return plan


def lint_case(casedir, base, base_pods):
    """Parse everything a case has; raise CaseError on the first problem."""
    if not os.path.isfile(os.path.join(casedir, "README")):
        raise CaseError("%s: no README" % casedir)
    if os.path.exists(os.path.join(casedir, "skip")):
        return
    secs = parse_expect(os.path.join(casedir, "expect"))
    plan = parse_steps(casedir, secs)
    for path in sorted(glob.glob(os.path.join(casedir, "apply", "*.json"))):
        for o in load_objects(path):
            k = key_of(o, path)
            if k[0] == "Pod" and k in base:
                # a relabel must not turn into a re-creation by accident
                for field in ("nodeName", "containers"):
                    if o.get("spec", {}).get(field) != base[k]["spec"].get(field):
                        if "-recreate" not in os.path.basename(path):
                            raise CaseError("%s: pod %s/%s: spec.%s differs from base/"
                                            % (path, k[1], k[2], field))
    for s in secs.values():
        pods = section_pods(s, base_pods)
        namespaces = {p.split("/")[0] for p in pods}
        for b in s.blocks:
            for name, line in named_pods(b):
                ok = name[:-2] in namespaces if name.endswith("/*") else name in pods
                if not ok:
                    raise CaseError("%s/expect:%d: %s is not a pod of section %s"
                                    % (casedir, line, name, s.name))
    return plan


# ---------------------------------------------------------------------------------------------
# Judging a probe

def load_result(path, spec):
    """The matrix of a `virgil lab probe --json` answer, checked against the spec asked for."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        r = json.loads(text)
    except ValueError as e:
        raise CaseError("probe output is not JSON (%s): %r" % (e, text[:200])) from None
    proto, port, fam = spec
    if not isinstance(r, dict) or not isinstance(r.get("matrix"), dict) \
            or not isinstance(r.get("pods"), list):
        raise CaseError("probe output has no pods/matrix: %r" % text[:200])
    got = (str(r.get("protocol", "")).lower(), r.get("port"), r.get("family"))
    if got != spec:
        raise CaseError("probe answered %s/%s family %s, asked %s/%d family %d"
                        % (got[0], got[1], got[2], proto, port, fam))
    return r


def label(spec):
    return "%s/%d (IPv%d)" % (spec[0].upper(), spec[1], spec[2])


def grid(pods, cell):
    """Upstream's truth-table printout: rows from, columns to; "." connected, "X" not."""
    width = max(len(p) for p in pods)
    head = " " * width + " " + " ".join(p.split("/")[0] for p in pods)
    head2 = " " * width + " " + " ".join(p.split("/")[1][:1] for p in pods)
    rows = [head, head2]
    for a in pods:
        rows.append(a.ljust(width) + " " + " ".join(cell(a, b) for b in pods))
    return rows


def compare(result, expected_pods, block, spec):
    """(wrong-cell lines, report lines); no wrong cells means the probe passed."""
    got_pods = sorted(result["pods"])
    if got_pods != expected_pods:
        extra = sorted(set(got_pods) - set(expected_pods))
        missing = sorted(set(expected_pods) - set(got_pods))
        msg = "%s: pods differ: missing %s, unexpected %s" % (
            label(spec), " ".join(missing) or "none", " ".join(extra) or "none")
        return [msg], []
    want = table(block, expected_pods)
    m = result["matrix"]
    wrong, report = [], []

    def got_of(a, b):
        v = m.get(a, {}).get(b) if isinstance(m.get(a), dict) else None
        return v if isinstance(v, bool) else None

    for a in expected_pods:
        for b in expected_pods:
            if a == b:
                continue    # loopback is not judged (upstream's ignoreLoopback)
            g, w = got_of(a, b), want[(a, b)]
            if g is None:
                wrong.append("%s: %s -> %s expected %s got no answer"
                             % (label(spec), a, b, "." if w else "X"))
            elif g != w:
                wrong.append("%s: %s -> %s expected %s got %s"
                             % (label(spec), a, b, "." if w else "X", "." if g else "X"))
    if wrong:
        report = side_by_side(expected_pods, lambda a, b: want[(a, b)], got_of)
    return wrong, report


def side_by_side(pods, want, got):
    """Expected and observed grids next to each other, then a column of "!" marks."""
    def sym(v, a, b):
        if a == b:
            return "-"
        return "?" if v is None else ("." if v else "X")

    exp = grid(pods, lambda a, b: sym(want(a, b), a, b))
    obs = grid(pods, lambda a, b: sym(got(a, b), a, b))
    bad = grid(pods, lambda a, b: "!" if a != b and got(a, b) != want(a, b) else " ")
    cut = max(len(p) for p in pods) + 1     # the row-label column, printed once
    out = ["%s   %s   %s" % ("expected".ljust(len(exp[0])), "got".ljust(len(obs[0]) - cut),
                             "wrong")]
    for e, o, k in zip(exp, obs, bad):
        out.append(("%s   %s   %s" % (e, o[cut:], k[cut:])).rstrip())
    return out


def find_block(sec, spec):
    for b in sec.blocks:
        if spec in b.specs:
            return b
    raise CaseError("section %s has no probe %s" % (sec.name, label(spec)))


# ---------------------------------------------------------------------------------------------
# Restoring the base objects after a case

KIND_ORDER_DELETE = {"NetworkPolicy": 0, "Pod": 1, "Namespace": 2}
KIND_ORDER_APPLY = {"Namespace": 0, "Pod": 1, "NetworkPolicy": 2}


def restore_plan(actions, base):
    """From the "apply F..."/"delete F..." lines a case ran: ([objects to delete], [objects to
    apply]) that bring the lab back to base, deletions policies first, applications
    namespaces first."""
    last = {}   # key -> ("apply", object) or ("delete", object)
    for line in actions:
        w = line.split()
        if not w:
            continue
        if w[0] not in ("apply", "delete"):
            raise CaseError("restore: bad action line %r" % line)
        for path in w[1:]:
            for o in load_objects(path):
                last[key_of(o, path)] = (w[0], o)
    dels, apps = [], []
    for k, (verb, o) in last.items():
        if k not in base:
            if verb == "apply":
                dels.append((k, o))
        elif verb == "delete" or o != base[k]:
            apps.append((k, base[k]))
    dels.sort(key=lambda e: (KIND_ORDER_DELETE[e[0][0]], e[0]))
    apps.sort(key=lambda e: (KIND_ORDER_APPLY[e[0][0]], e[0]))
    return [o for _, o in dels], [o for _, o in apps]


def write_objects(outdir, tag, objs):
    """One file per object (NN-tag-kind-ns-name.json); returns the paths in order."""
    paths = []
    for i, o in enumerate(objs):
        k = key_of(o)
        name = "%02d-%s-%s-%s-%s.json" % (i, tag, k[0].lower(), k[1] or "_", k[2])
        p = os.path.join(outdir, name)
        with open(p, "w", encoding="utf-8") as f:
            json.dump(o, f, indent=1)
            f.write("\n")
        paths.append(p)
    return paths


# ---------------------------------------------------------------------------------------------
# Commands

def cmd_lint(dirs):
    base, pods = base_objects(BASE)
    bad = 0
    for d in dirs:
        try:
            lint_case(d, base, pods)
        except CaseError as e:
            print("lint: %s" % e)
            bad += 1
    print("lint: %d cases, %d bad" % (len(dirs), bad))
    return 1 if bad else 0


def cmd_plan(casedir):
    secs = parse_expect(os.path.join(casedir, "expect"))
    for verb, args in parse_steps(casedir, secs):
        print(verb, " ".join(args))
    return 0


def cmd_probes(casedir, section):
    secs = parse_expect(os.path.join(casedir, "expect"))
    if section not in secs:
        raise CaseError("%s: no section %s" % (casedir, section))
    retry = 0 if secs[section].strict else 1
    for b in secs[section].blocks:
        for proto, port, fam in b.specs:
            print(proto, port, fam, retry)
    return 0


def cmd_compare(casedir, section, proto, port, fam, path):
    spec = (proto, int(port), int(fam))
    secs = parse_expect(os.path.join(casedir, "expect"))
    if section not in secs:
        raise CaseError("%s: no section %s" % (casedir, section))
    _, base_pods = base_objects(BASE)
    sec = secs[section]
    wrong, report = compare(load_result(path, spec), section_pods(sec, base_pods),
                            find_block(sec, spec), spec)
    return show(wrong, report)


def show(wrong, report):
    for w in wrong[:MAX_SHOWN]:
        print(w)
    if len(wrong) > MAX_SHOWN:
        print("... and %d more wrong cells" % (len(wrong) - MAX_SHOWN))
    for r in report:
        print(r)
    return 1 if wrong else 0


def cmd_baseline(basedir, path):
    _, pods = base_objects(basedir)
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    spec = (str(r.get("protocol", "")).lower(), r.get("port"), r.get("family"))
    blk = Block([spec], 0)
    wrong, report = compare(load_result(path, spec), pods, blk, spec)
    return show(wrong, report)


def cmd_restore(casedir, basedir, actions_path, outdir):
    base, _ = base_objects(basedir)
    with open(actions_path, encoding="utf-8") as f:
        actions = f.read().splitlines()
    dels, apps = restore_plan(actions, base)
    os.makedirs(outdir, exist_ok=True)
    # one lab call per kind, in dependency order
    for kind in ("NetworkPolicy", "Pod", "Namespace"):
        paths = write_objects(outdir, "del", [o for o in dels if o["kind"] == kind])
        if paths:
            print("delete", " ".join(paths))
    paths = write_objects(outdir, "put", apps)
    if paths:
        print("apply", " ".join(paths))
    return 0


def placement_problems(base, status):
    """What in a lab status disagrees with the base objects and the lab's address plan."""
    bad = []
    want = {"%s/%s" % (k[1], k[2]): o["spec"]["nodeName"] for k, o in base.items()
            if k[0] == "Pod"}
    pods = {p.get("pod"): p for p in status.get("pods", []) if isinstance(p, dict)}
    if sorted(pods) != sorted(want):
        bad.append("pods: want %s, lab has %s" % (" ".join(sorted(want)),
                                                   " ".join(sorted(map(str, pods)))))
    for name, node in sorted(want.items()):
        p = pods.get(name)
        if p is None:
            continue
        if p.get("node") != node:
            bad.append("%s: on %s, base/ says %s" % (name, p.get("node"), node))
            continue
        i = int(node[1:])
        nets = [ipaddress.ip_network("10.244.%d.0/24" % i),
                ipaddress.ip_network("fd00:10:244:%d::/64" % i)]
        addrs = p.get("addresses") or []
        for net in nets:
            inside = [a for a in addrs if _in(a, net)]
            if len(inside) != 1:
                bad.append("%s: want one address in %s, has %s" % (name, net, addrs))
    return bad


def _in(addr, net):
    try:
        return ipaddress.ip_address(addr) in net
    except ValueError:
        return False


def leftover_problems(labdir):
    bad = []
    try:
        names = os.listdir(os.path.join(labdir, "api"))
    except OSError:
        names = []
    # <kind>-<ns>-<name>.json; the lab writes the kind in lower case
    pols = sorted(n for n in names if n.lower().startswith("networkpolicy-")
                  and n.endswith(".json"))
    if pols:
        bad.append("NetworkPolicy objects left in the lab: %s" % " ".join(pols))
    for path in sorted(glob.glob(os.path.join(labdir, "nodes", "*", "status.json"))):
        node = os.path.basename(os.path.dirname(path))
        try:
            with open(path, encoding="utf-8") as f:
                pol = json.load(f).get("policy") or {}
        except (OSError, ValueError) as e:
            bad.append("%s: status.json: %s" % (node, e))
            continue
        if pol.get("isolated", 0) != 0:
            bad.append("%s: the agent still isolates %s pods" % (node, pol.get("isolated")))
        if pol.get("ok") is False:
            bad.append("%s: the agent reports a policy error: %s %s"
                       % (node, pol.get("error"), pol.get("problems")))
    return bad


def cmd_placement(basedir, path):
    base, _ = base_objects(basedir)
    with open(path, encoding="utf-8") as f:
        try:
            status = json.load(f)
        except ValueError as e:
            raise CaseError("%s: not JSON: %s" % (path, e)) from None
    bad = placement_problems(base, status if isinstance(status, dict) else {})
    for b in bad:
        print(b)
    return 1 if bad else 0


def cmd_leftovers(labdir):
    bad = leftover_problems(labdir)
    for b in bad:
        print(b)
    return 1 if bad else 0


def main(argv):
    cmds = {
        "lint": (None, lambda a: cmd_lint(a)),
        "plan": (1, lambda a: cmd_plan(*a)),
        "probes": (2, lambda a: cmd_probes(*a)),
        "compare": (6, lambda a: cmd_compare(*a)),
        "baseline": (2, lambda a: cmd_baseline(*a)),
        "restore": (4, lambda a: cmd_restore(*a)),
        "placement": (2, lambda a: cmd_placement(*a)),
        "leftovers": (1, lambda a: cmd_leftovers(*a)),
    }
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    nargs, fn = cmds[argv[1]]
    args = argv[2:]
    if (nargs is None and not args) or (nargs is not None and len(args) != nargs):
        print("check.py %s: wrong number of arguments" % argv[1], file=sys.stderr)
        return 2
    try:
        return fn(args)
    except CaseError as e:
        print("check.py %s: %s" % (argv[1], e))
        return 2


# ---------------------------------------------------------------------------------------------
# Self-test

def self_test():
    passed = failed = 0

    def ok(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
            print("ok %d - %s" % (passed + failed, what))
        else:
            failed += 1
            print("not ok %d - %s" % (passed + failed, what))

    def raises(fn, needle, what):
        try:
            fn()
        except CaseError as e:
            ok(needle in str(e), "%s (%s)" % (what, e))
            return
        ok(False, what + ": no error")

    tmp = tempfile.mkdtemp(prefix="netpol-check.")
    try:
        _self_test_body(tmp, ok, raises)
    finally:
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _result(spec, pods, allowed):
    """A probe answer where allowed(a, b) says which cells connected."""
    return {"port": spec[1], "protocol": spec[0].upper(), "family": spec[2], "pods": pods,
            "matrix": {a: {b: allowed(a, b) for b in pods} for a in pods}}


def _self_test_body(tmp, ok, raises):
    pods = ["x/a", "x/b", "y/a", "y/b"]

    # --- patterns
    ok(parse_pattern("*", "t") == [("*", "*")], "* is every pod")
    ok(parse_pattern("x/*, y/b", "t") == [("x", "*"), ("y", "b")], "comma list")
    raises(lambda: parse_pattern("x", "t"), "not ns/pod", "a bare name is refused")
    raises(lambda: parse_pattern("x/a/b", "t"), "not ns/pod", "two slashes are refused")
    ok(matches([("*", "a")], "y/a") and not matches([("*", "a")], "y/b"), "*/a matches pod a")
    ok(matches([("x", "*")], "x/b") and not matches([("x", "*")], "y/b"), "x/* matches ns x")

    # --- specs
    ok(parse_spec("tcp 80", "t") == ("tcp", 80, 4), "family defaults to 4")
    ok(parse_spec("udp 81 family 6", "t") == ("udp", 81, 6), "udp, family 6")
    raises(lambda: parse_spec("sctp 80", "t"), "PROTO", "sctp cannot be probed")
    raises(lambda: parse_spec("tcp 80 family 5", "t"), "family", "family 5 is refused")
    raises(lambda: parse_spec("tcp 0", "t"), "out of range", "port 0 is refused")

    # --- expect: ordering, overrides, defaults, sections
    e = _write(os.path.join(tmp, "c1", "expect"), """
# a comment
probe tcp 80, tcp 80 family 6
deny * -> x/a          # everything into x/a blocked
allow y/* -> x/a
allow y/b -> x/a
deny y/a -> x/a
probe udp 80
default deny
allow x/* -> *
""")
    secs = parse_expect(e)
    ok(list(secs) == [MAIN] and len(secs[MAIN].blocks) == 2, "one main section, two blocks")
    t = table(secs[MAIN].blocks[0], pods)
    ok(t[("x/b", "x/a")] is False and t[("y/b", "x/a")] is True, "later lines override")
    ok(t[("y/a", "x/a")] is False, "the last matching line wins")
    ok(t[("x/a", "y/a")] is True and t[("y/a", "y/b")] is True, "untouched cells stay allowed")
    t = table(secs[MAIN].blocks[1], pods)
    ok(t[("x/a", "y/b")] is True and t[("y/a", "x/a")] is False, "default deny then allow")
    ok(find_block(secs[MAIN], ("tcp", 80, 6)) is secs[MAIN].blocks[0], "shared block")
    raises(lambda: find_block(secs[MAIN], ("tcp", 81, 4)), "no probe", "unknown probe")

    def bad_expect(text, needle, what):
        p = _write(os.path.join(tmp, "bad", "expect"), text)
        raises(lambda: parse_expect(p), needle, what)

    bad_expect("deny * -> x/a\n", "before any probe", "a rule before a probe")
    bad_expect("probe tcp 80\nallow x/a x/b\n", "FROM -> TO", "a rule without an arrow")
    bad_expect("probe tcp 80\nfrobnicate\n", "unknown word", "an unknown word")
    bad_expect("probe tcp 80\nprobe tcp 80\n", "twice", "the same probe twice")
    bad_expect("probe tcp 80\ndefault maybe\n", "default allow", "a bad default")
    bad_expect("section a\nsection a\nprobe tcp 80\n", "new name", "a section twice")
    bad_expect("section a\nsection b\nprobe tcp 80\n", "has no probe", "an empty section")
    bad_expect("probe tcp 80\npods + x/c\n", "before the section", "pods after a probe")
    bad_expect("pods + x/*\nprobe tcp 80\n", "names, not patterns", "pods with a pattern")
    bad_expect("", "no probe", "an empty file")

    # --- comparison
    spec = ("tcp", 80, 4)
    blk = secs[MAIN].blocks[0]
    want = table(blk, pods)
    good = _result(spec, pods, lambda a, b: want[(a, b)])
    wrong, _ = compare(good, pods, blk, spec)
    ok(wrong == [], "a matching matrix passes")
    loop = _result(spec, pods, lambda a, b: False if a == b else want[(a, b)])
    ok(compare(loop, pods, blk, spec)[0] == [], "self cells are never judged")
    flip = _result(spec, pods, lambda a, b: (not want[(a, b)]) if (a, b) == ("x/b", "x/a")
                   else want[(a, b)])
    wrong, report = compare(flip, pods, blk, spec)
    ok(wrong == ["TCP/80 (IPv4): x/b -> x/a expected X got ."], "one wrong cell, named")
    ok(len(report) == len(pods) + 3 and "!" in "".join(report), "grids printed on mismatch")
    missing = _result(spec, pods, lambda a, b: want[(a, b)])
    del missing["matrix"]["y/b"]["x/a"]
    ok(compare(missing, pods, blk, spec)[0][0].endswith("got no answer"), "a missing cell")
    fewer = _result(spec, pods[:3], lambda a, b: True)
    ok("pods differ: missing y/b" in compare(fewer, pods, blk, spec)[0][0], "a missing pod")
    rp = _write(os.path.join(tmp, "r.json"), json.dumps(good))
    ok(load_result(rp, spec)["port"] == 80, "a probe answer loads")
    raises(lambda: load_result(rp, ("udp", 80, 4)), "asked udp", "the answer to another probe")
    _write(rp, "TCP/80 (IPv4)\n")
    raises(lambda: load_result(rp, spec), "not JSON", "a grid instead of JSON")

    # --- pods directive
    e2 = _write(os.path.join(tmp, "c2", "expect"), """
section gone
pods - x/b
pods + z/new
probe tcp 81
deny z/new -> *
""")
    s = parse_expect(e2)["gone"]
    ok(section_pods(s, pods) == ["x/a", "y/a", "y/b", "z/new"], "pods + and pods -")
    ok(not s.strict, "sections retry by default")
    e3 = _write(os.path.join(tmp, "c4", "expect"), "strict\nprobe tcp 80\n")
    ok(parse_expect(e3)[MAIN].strict, "strict")
    bad_expect("probe tcp 80\nstrict\n", "strict takes", "strict after a probe")

    # --- steps and lint
    base = {("Namespace", "", "x"): {"kind": "Namespace", "metadata": {"name": "x"}},
            ("Pod", "x", "a"): {"kind": "Pod", "metadata": {"name": "a", "namespace": "x",
                                                             "labels": {"pod": "a"}},
                                "spec": {"nodeName": "n1", "containers": []}}}
    c2 = os.path.join(tmp, "c2")
    _write(os.path.join(c2, "README"), "x\n")
    pol = {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "x"}, "spec": {}}
    _write(os.path.join(c2, "apply", "10-pol.json"), json.dumps(pol))
    relabel = {"kind": "Pod", "metadata": {"name": "a", "namespace": "x",
                                           "labels": {"pod": "a", "t": "1"}},
               "spec": {"nodeName": "n1", "containers": []}}
    _write(os.path.join(c2, "apply", "20-relabel.json"), json.dumps(relabel))
    raises(lambda: parse_steps(c2, parse_expect(e2)), "need a steps file",
           "named sections without steps")
    _write(os.path.join(c2, "steps"), "apply 10-pol.json 20-relabel.json\ncheck gone\n"
           "delete 10-pol.json  # comment\n")
    plan = parse_steps(c2, parse_expect(e2))
    ok([v for v, _ in plan] == ["apply", "check", "delete"], "steps in order")
    ok(plan[0][1][0] == os.path.join(c2, "apply", "10-pol.json"), "files made absolute")
    _write(os.path.join(c2, "steps"), "apply nothere.json\ncheck gone\n")
    raises(lambda: parse_steps(c2, parse_expect(e2)), "no file", "a missing file")
    _write(os.path.join(c2, "steps"), "apply 10-pol.json\n")
    raises(lambda: parse_steps(c2, parse_expect(e2)), "no check", "no check step")
    _write(os.path.join(c2, "steps"), "apply 10-pol.json\ncheck nope\n")
    raises(lambda: parse_steps(c2, parse_expect(e2)), "one section", "an unknown section")
    c3 = os.path.join(tmp, "c3")
    _write(os.path.join(c3, "expect"), "probe tcp 80\n")
    _write(os.path.join(c3, "apply", "b.json"), json.dumps(pol))
    _write(os.path.join(c3, "apply", "a.json"), json.dumps(relabel))
    plan = parse_steps(c3, parse_expect(os.path.join(c3, "expect")))
    ok(plan[0][0] == "apply" and [os.path.basename(p) for p in plan[0][1]] == ["a.json",
                                                                                 "b.json"]
       and plan[1] == ("check", [MAIN]), "default plan: apply all sorted, check main")
    _write(os.path.join(c3, "README"), "x\n")
    lint_case(c3, base, ["x/a"])
    ok(True, "lint accepts a relabel with the base spec")
    moved = dict(relabel, spec={"nodeName": "n2", "containers": []})
    _write(os.path.join(c3, "apply", "a.json"), json.dumps(moved))
    raises(lambda: lint_case(c3, base, ["x/a"]), "differs from base", "lint: relabel moves pod")
    _write(os.path.join(c3, "apply", "a.json"), json.dumps(relabel))
    _write(os.path.join(c3, "expect"), "probe tcp 80\ndeny x/q -> *\n")
    raises(lambda: lint_case(c3, base, ["x/a"]), "not a pod", "lint: an unknown pod")
    _write(os.path.join(c3, "expect"), "probe tcp 80\ndeny w/* -> *\n")
    raises(lambda: lint_case(c3, base, ["x/a"]), "not a pod", "lint: an unknown namespace")
    _write(os.path.join(c3, "apply", "c.json"), '{"kind": "Service", "metadata": {"name": "s"}}')
    raises(lambda: load_objects(os.path.join(c3, "apply", "c.json")), "kind",
           "an unsupported kind")
    _write(os.path.join(c3, "apply", "c.json"), '{"kind": "List", "items": [%s, %s]}'
           % (json.dumps(pol), json.dumps(relabel)))
    ok(len(load_objects(os.path.join(c3, "apply", "c.json"))) == 2, "a List")
    _write(os.path.join(c3, "apply", "c.json"), '{"kind": "Pod", "metadata": {"name": "s"}}')
    raises(lambda: load_objects(os.path.join(c3, "apply", "c.json")), "namespace",
           "a pod without a namespace")

    # --- restore
    newpod = {"kind": "Pod", "metadata": {"name": "d", "namespace": "x"}, "spec": {}}
    newns = {"kind": "Namespace", "metadata": {"name": "w"}}
    f_pol = _write(os.path.join(tmp, "r", "pol.json"), json.dumps(pol))
    f_rel = _write(os.path.join(tmp, "r", "rel.json"), json.dumps(relabel))
    f_new = _write(os.path.join(tmp, "r", "new.json"), json.dumps(
        {"kind": "List", "items": [newns, newpod]}))
    f_base = _write(os.path.join(tmp, "r", "base.json"), json.dumps(base[("Pod", "x", "a")]))
    dels, apps = restore_plan(["apply %s %s" % (f_pol, f_new), "apply " + f_rel], base)
    ok([key_of(o) for o in dels] == [("NetworkPolicy", "x", "p"), ("Pod", "x", "d"),
                                     ("Namespace", "", "w")], "deletes: policy, pod, namespace")
    ok(apps == [base[("Pod", "x", "a")]], "a relabelled base pod is put back")
    dels, apps = restore_plan(["apply " + f_pol, "delete " + f_pol, "apply " + f_base], base)
    ok(dels == [] and apps == [], "deleted or unchanged: nothing to do")
    dels, apps = restore_plan(["delete " + f_base], base)
    ok(apps == [base[("Pod", "x", "a")]], "a deleted base pod is re-created")
    raises(lambda: restore_plan(["check main"], base), "bad action", "a check line")
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    paths = write_objects(out, "del", [pol, newns])
    ok([os.path.basename(p) for p in paths] == ["00-del-networkpolicy-x-p.json",
                                                "01-del-namespace-_-w.json"], "file names")
    ok(load_objects(paths[0]) == [pol], "written objects read back")

    # --- placement and leftovers
    pa = {"kind": "Pod", "metadata": {"name": "a", "namespace": "x"}, "spec": {"nodeName": "n2"}}
    b2 = {("Pod", "x", "a"): pa}
    st = {"pods": [{"pod": "x/a", "node": "n2", "addresses": ["10.244.2.7", "fd00:10:244:2::7"]}]}
    ok(placement_problems(b2, st) == [], "placement: node and both ranges right")
    st["pods"][0]["addresses"] = ["10.244.1.7", "fd00:10:244:2::7"]
    ok(placement_problems(b2, st) == ["x/a: want one address in 10.244.2.0/24, has "
                                      "['10.244.1.7', 'fd00:10:244:2::7']"], "placement: range")
    st["pods"][0]["node"] = "n1"
    ok(placement_problems(b2, st) == ["x/a: on n1, base/ says n2"], "placement: node")
    ok(placement_problems(b2, {"pods": []})[0].startswith("pods: want x/a"), "placement: pods")
    lab = os.path.join(tmp, "lab")
    _write(os.path.join(lab, "nodes", "n1", "status.json"),
           '{"sourceGeneration": 3, "policy": {"ok": true, "isolated": 0}}')
    _write(os.path.join(lab, "api", "pod-x-a.json"), "{}")
    _write(os.path.join(lab, "api", ".generation"), "7")
    ok(leftover_problems(lab) == [], "leftovers: none")
    _write(os.path.join(lab, "api", "networkpolicy-x-p.json"), "{}")
    _write(os.path.join(lab, "nodes", "n2", "status.json"),
           '{"policy": {"ok": false, "isolated": 2, "error": "boom", "problems": []}}')
    ok(leftover_problems(lab) == ["NetworkPolicy objects left in the lab: networkpolicy-x-p.json",
                                  "n2: the agent still isolates 2 pods",
                                  "n2: the agent reports a policy error: boom []"],
       "leftovers: a policy file, isolated pods, an error")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
