"""Two runners first using a fresh PostgreSQL state database at once, 20 trials (tests/fixtures/first_use.py).

    PYTHONPATH=. python bench/postgres_first_use.py [TRIALS]

Prints "20/20 one proceeds, one waits" when every trial's runners queued on
the schema lock and both then read the state with no exception.
"""

from __future__ import annotations

import sys

from tests.fixtures.first_use import trial
from tests.fixtures.postgres import SERVER


def main(trials: int = 20) -> int:
    passed = 0
    for number in range(1, trials + 1):
        problems = trial(SERVER)
        passed += not problems
        for problem in problems:
            print(f"trial {number}: {problem}")
    print(f"{passed}/{trials} one proceeds, one waits")
    return 0 if passed == trials else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
