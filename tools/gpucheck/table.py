"""table.py: the rows of tools/gpu-check's table and how they are shown.

A row is one check: what was expected, what was measured, and PASS, FAIL or SKIP (a SKIP and a
FAIL carry their reason). A row's measurement is a function, so a check whose inputs are
missing or malformed (a sample that crashed, a report field that is absent) becomes a FAIL with
the error as its measurement instead of ending the run: every check of every run reaches the
table. The run's exit status is 0 only if no row failed."""
import contextlib
import json

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


class Skip(Exception):
    """Raised by a measurement that cannot be taken here; its text is the reason."""


class Row:
    def __init__(self, check, expected, measured, status, reason=""):
        self.check = check
        self.expected = expected
        self.measured = measured
        self.status = status
        self.reason = reason

    def result(self):
        return f"{self.status}: {self.reason}" if self.reason else self.status

    def as_dict(self):
        return {"check": self.check, "expected": self.expected, "measured": self.measured,
                "status": self.status, "reason": self.reason}


class Table:
    """Rows in the order they were checked; `on_row` is called after each (to save progress)."""

    def __init__(self, header_lines=(), on_row=None):
        self.header = list(header_lines)
        self.rows = []
        self.on_row = on_row
        self.skip_reason = None  # set by skipping(): every check is then a SKIP

    @contextlib.contextmanager
    def skipping(self, reason):
        """Every check inside the block is a SKIP with this reason; nothing is measured."""
        outer, self.skip_reason = self.skip_reason, reason
        try:
            yield self
        finally:
            self.skip_reason = outer

    def _add(self, row):
        self.rows.append(row)
        if self.on_row is not None:
            self.on_row(self)
        return row

    def check(self, name, expected, measure):
        """measure() returns (measured text, ok) or (measured text, ok, reason); it may raise
        Skip(reason). Any other exception is a FAIL that shows the error. `expected` is text,
        or a function giving it (from a sample's own output, say): "?" if that fails."""
        if callable(expected):
            try:
                expected = str(expected())
            except Exception:
                expected = "? (no ground truth)"
        if self.skip_reason is not None:
            return self._add(Row(name, expected, "-", SKIP, self.skip_reason))
        try:
            got = measure()
        except Skip as why:
            return self._add(Row(name, expected, "-", SKIP, str(why)))
        except Exception as e:  # the check's inputs are broken: say how, keep going
            return self._add(Row(name, expected, f"n/a ({type(e).__name__}: {e})"[:300], FAIL,
                                 "could not measure"))
        measured, ok = str(got[0]), bool(got[1])
        reason = got[2] if len(got) > 2 else ""
        return self._add(Row(name, expected, measured, PASS if ok else FAIL, reason))

    def skip(self, name, expected, reason, measured="-"):
        if callable(expected):
            try:
                expected = str(expected())
            except Exception:
                expected = "? (no ground truth)"
        return self._add(Row(name, expected, measured, SKIP, reason))

    def fail(self, name, expected, measured, reason=""):
        return self._add(Row(name, expected, measured, FAIL, reason))

    def passed(self, name, expected, measured):
        return self._add(Row(name, expected, measured, PASS))

    def counts(self):
        c = {PASS: 0, FAIL: 0, SKIP: 0}
        for r in self.rows:
            c[r.status] += 1
        return c

    def exit_status(self):
        return 1 if self.counts()[FAIL] else 0

    def summary(self):
        c = self.counts()
        return f"{c[PASS]} passed, {c[FAIL]} failed, {c[SKIP]} skipped"

    def text(self, width=None):
        """The table for a terminal: columns padded, long cells wrapped inside their column."""
        head = ("check", "expected", "measured", "result")
        cells = [(r.check, r.expected, r.measured, r.result()) for r in self.rows]
        limits = (38, 44, 44, 48) if width is None else width
        widths = [min(limits[i], max([len(head[i])] + [len(c[i]) for c in cells]))
                  for i in range(4)]

        def wrap(text, w):
            out = []
            for para in str(text).split("\n"):
                while len(para) > w:
                    cut = para.rfind(" ", 0, w + 1)
                    cut = w if cut <= 0 else cut
                    out.append(para[:cut].rstrip())
                    para = para[cut:].lstrip()
                out.append(para)
            return out

        def line(values):
            cols = [wrap(v, widths[i]) for i, v in enumerate(values)]
            height = max(len(c) for c in cols)
            lines = []
            for k in range(height):
                parts = [(cols[i][k] if k < len(cols[i]) else "").ljust(widths[i])
                         for i in range(4)]
                lines.append(" | ".join(parts).rstrip())
            return lines

        out = list(self.header)
        out += line(head)
        out.append("-+-".join("-" * w for w in widths))
        for c in cells:
            out += line(c)
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def markdown(self):
        """The same table for docs/gpu-validation.md."""
        def esc(s):
            return str(s).replace("|", "\\|").replace("\n", " ")

        out = [f"> {h}" if h else ">" for h in self.header]
        out += ["", "| check | expected | measured | result |", "|---|---|---|---|"]
        for r in self.rows:
            out.append(f"| {esc(r.check)} | {esc(r.expected)} | {esc(r.measured)} | "
                       f"**{r.status}**{': ' + esc(r.reason) if r.reason else ''} |")
        out += ["", self.summary()]
        return "\n".join(out) + "\n"

    def json(self):
        return json.dumps({"header": self.header, "rows": [r.as_dict() for r in self.rows],
                           "counts": self.counts(), "exit_status": self.exit_status()},
                          indent=1) + "\n"
