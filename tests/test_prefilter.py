"""The pre-filter: one ordered list of named gates, each reading one stage of a file."""

from __future__ import annotations

from put_migrate.prefilter import GATES, Stage, Subject, settled

LOGGING = "import lightning\nclass M(lightning.LightningModule):\n    def f(self):\n        self.log('a', 1)\n"


def test_gates_run_in_stage_order():
    stages = [gate.stage for gate in GATES]
    assert stages == sorted(stages, key=list(Stage).index)
    assert len({gate.reason for gate in GATES}) == len(GATES)


def test_each_stage_names_the_gate_that_settles_a_file():
    assert settled(Stage.BYTES, Subject(data=b"x = 1\n")) == GATES[0].reason
    assert settled(Stage.BYTES, Subject(data=b"x.log(1)\n")) is None
    assert settled(Stage.BYTES, Subject(data=b"# -*- coding: latin-1 -*-\nx = 1\n")) is None  # must be decoded
    assert settled(Stage.TEXT, Subject(text="torch.log(x)\n")) == GATES[1].reason
    assert settled(Stage.TEXT, Subject(text=LOGGING)) is None
    plain = "import lightning\nclass M(lightning.LightningModule):\n    def f(self, x):\n        x.log(1)\n"
    assert settled(Stage.SOURCE, Subject(text=plain, path="m.py")) == GATES[2].reason
    assert settled(Stage.SOURCE, Subject(text=LOGGING, path="m.py")) is None  # no index: the transform decides


def test_the_index_gate_settles_a_class_that_leads_nowhere_near_lightning(tmp_path):
    from put_migrate.index import build_index

    text = "import torch\nclass Net(torch.nn.Module):\n    def f(self):\n        self.log('a', 1)\n"
    (tmp_path / "net.py").write_text(text)
    index = build_index([tmp_path / "net.py"])
    assert settled(Stage.SOURCE, Subject(text=text, path=str(tmp_path / "net.py"), index=index)) == GATES[3].reason
    assert settled(Stage.SOURCE, Subject(text=LOGGING, path="m.py", index=index)) is None


def test_a_text_with_a_candidate_call_that_python_cannot_parse_goes_on():
    """It may be a Lightning file (PM301 names its syntax error); a parsable one without a Lightning call is settled."""
    assert settled(Stage.TEXT, Subject(text='def broken(:\n    self.log("x", 1)\n')) is None
    assert settled(Stage.TEXT, Subject(text='def fine(self):\n    self.log("x", 1)\n')) == GATES[1].reason
    assert settled(Stage.TEXT, Subject(text="def broken(:\n    torch.log(x)\n")) == GATES[1].reason


def test_without_log_only_the_opt_out_lines_of_a_file_keep_it_from_the_bytes_gate():
    """The skip-file comment counts in the first ten lines; further down, without ``.log``, a ``put-migrate``
    comment stands above nothing the run would change. The file is settled the same either way."""
    from put_migrate.api import migrate_bytes

    body = b"x = 1\n" * 9
    for marker_line, settled_by_bytes in ((1, False), (10, False), (11, True), (40, True)):
        data = b"x = 1\n" * (marker_line - 1) + b"# put-migrate: skip-file\n" + body
        assert (settled(Stage.BYTES, Subject(data=data)) == GATES[0].reason) is settled_by_bytes
        expected = "unchanged" if settled_by_bytes else "skipped"
        assert migrate_bytes(data, "m.py")[0].status.value == expected
    # the encoding declaration counts in the first two lines only
    assert settled(Stage.BYTES, Subject(data=b"x = 1\ny = 2\n# coding: latin-1\n")) == GATES[0].reason
