"""A journal's fsync and its reset (after a snapshot) from different threads, as an apply's workers and its
compaction call them: a sync never meets a descriptor the reset closed."""

from __future__ import annotations

import threading

from labform.engine.state.journal import FileJournal

ROUNDS = 3000


def test_syncs_beside_resets_never_fail(tmp_path):
    journal = FileJournal(tmp_path / "state.json.journal")
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(name: str) -> None:
        try:
            for index in range(ROUNDS):
                journal.write({"op": "note", "writer": name, "index": index})
                journal.sync()
        except BaseException as exc:  # what the test reports
            errors.append(exc)

    def resetter() -> None:
        while not done.is_set():
            journal.reset()

    writers = [threading.Thread(target=writer, args=(str(n),)) for n in range(3)]
    reset = threading.Thread(target=resetter)
    for thread in [*writers, reset]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reset.join()
    assert errors == []
    journal.write({"op": "note", "writer": "last", "index": 0})
    journal.sync()
    assert journal.read()[-1]["writer"] == "last"
